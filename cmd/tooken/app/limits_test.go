package app_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tooken/tooken/cmd/tooken/app"
	"github.com/tooken/tooken/core"
)

// limitServer is the real server wiring on 127.0.0.1:0 with short slow-client timeouts.
type limitServer struct {
	url, key, wsID string
	cfg            app.Config
}

// startLimitServer starts it; writeTimeout 0 keeps the default (short ones fail slow runs under -race).
func startLimitServer(t *testing.T, writeTimeout time.Duration) *limitServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cfg := app.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Migrate: true, Logger: quiet(),
		ReadHeaderTimeout: 300 * time.Millisecond, WriteTimeout: writeTimeout, Heartbeat: 100 * time.Millisecond}
	m, err := app.Listen(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.Service.Bootstrap(ctx, core.BootstrapInput{Email: "ops@example.com", Workspace: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		m.Close()
	})
	return &limitServer{url: m.URL, key: b.APIKey, wsID: b.Workspace.ID, cfg: cfg}
}

func (s *limitServer) post(t *testing.T, path string, body io.Reader) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", s.url+path, body)
	req.Header.Set("Authorization", "Bearer "+s.key)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer res.Body.Close()
	var e map[string]any
	raw, _ := io.ReadAll(res.Body)
	_ = json.Unmarshal(raw, &e)
	return res.StatusCode, e
}

// allocatedDuring is how many bytes the whole process allocated while fn ran.
func allocatedDuring(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestSlowlorisHeadersAreCutOffAtTheHeaderTimeout(t *testing.T) {
	s := startLimitServer(t, 0)
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n")
	closed := make(chan time.Duration, 1)
	go func() {
		_, _ = io.Copy(io.Discard, conn)
		closed <- time.Since(start)
	}()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case d := <-closed:
			if d > 2*time.Second {
				t.Fatalf("connection closed after %v, want about the 300 ms header timeout", d)
			}
			t.Logf("a client dripping headers was cut off after %v (ReadHeaderTimeout 300 ms)", d.Round(time.Millisecond))
			return
		case <-tick.C:
			if _, err := fmt.Fprintf(conn, "X-Drip-%d: x\r\n", i); err != nil {
				continue
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a client dripping headers kept its connection for 5 s")
		}
	}
}

func TestTenMegabyteBodyGets413WithoutBeingBuffered(t *testing.T) {
	s := startLimitServer(t, 0)
	var status int
	var e map[string]any
	alloc := allocatedDuring(func() {
		status, e = s.post(t, "/v1/tokens", io.MultiReader(strings.NewReader(`{"name":"`), &repeatReader{n: 10 << 20}))
	})
	if status != http.StatusRequestEntityTooLarge || e["error"] != "payload_too_large" || e["status"] != float64(413) {
		t.Fatalf("10 MB body → %d %v, want 413 payload_too_large", status, e)
	}
	t.Logf("10 MB body: 413 after %d KiB allocated by the whole process", alloc>>10)
	if alloc > 8<<20 {
		t.Errorf("the process allocated %d MiB for a refused 10 MB body", alloc>>20)
	}
}

// repeatReader yields n bytes of 'a'.
type repeatReader struct{ n int }

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	k := min(len(p), r.n)
	for i := range k {
		p[i] = 'a'
	}
	r.n -= k
	return k, nil
}

func TestHugeArraysGet400(t *testing.T) {
	s := startLimitServer(t, 0)
	many := func(item string, n int) string {
		return "[" + strings.TrimSuffix(strings.Repeat(item+",", n), ",") + "]"
	}
	for _, c := range []struct{ path, body, field string }{
		{"/v1/tokens", `{"name":"a","scopes":` + many(`"tokens:read"`, 10_000) + `}`, "scopes"},
		{"/v1/tokens", `{"name":"b","scopes":["tokens:read"],"audience":` + many(`"x"`, 10_000) + `}`, "audience"},
		{"/v1/tokens/verify", `{"token":"a.b.c","scopes":` + many(`"tokens:read"`, 10_000) + `}`, "scopes"},
		{"/v1/webhooks", `{"url":"https://93.184.215.14/h","events":` + many(`"token.created"`, 10_000) + `}`, "events"},
	} {
		status, e := s.post(t, c.path, strings.NewReader(c.body))
		d, _ := e["details"].(map[string]any)
		if status != http.StatusBadRequest || d[c.field] == nil {
			t.Errorf("POST %s with 10 000 %s → %d %v, want 400 naming %s", c.path, c.field, status, e, c.field)
		}
	}
}

func TestDeeplyNestedJSONGets400WithBoundedMemory(t *testing.T) {
	s := startLimitServer(t, 0)
	const depth = 100_000
	for _, open := range []string{`{"a":`, `[`} {
		body := `{"name":"deep","scopes":["tokens:read"],"metadata":{"x":` + strings.Repeat(open, depth)
		var status int
		alloc := allocatedDuring(func() { status, _ = s.post(t, "/v1/tokens", bytes.NewReader([]byte(body))) })
		if status != http.StatusBadRequest {
			t.Errorf("%d levels of %s → %d, want 400", depth, open, status)
		}
		t.Logf("%d levels of %s (%d KiB): 400 after %d KiB allocated by the whole process", depth, open, len(body)>>10, alloc>>10)
		if alloc > 32<<20 {
			t.Errorf("%d levels of %s: the process allocated %d MiB", depth, open, alloc>>20)
		}
	}
}

func TestRevocationStreamOutlivesTheWriteTimeout(t *testing.T) {
	s := startLimitServer(t, 500*time.Millisecond)
	res, err := http.Get(s.url + "/w/" + s.wsID + "/revocations/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	start, beats := time.Now(), 0
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() && time.Since(start) < 4*s.cfg.WriteTimeout {
		if strings.HasPrefix(sc.Text(), "event: heartbeat") {
			beats++
		}
	}
	if elapsed := time.Since(start); elapsed < 4*s.cfg.WriteTimeout {
		t.Fatalf("the stream ended after %v (%d heartbeats; write timeout %v): %v", elapsed, beats, s.cfg.WriteTimeout, sc.Err())
	}
}
