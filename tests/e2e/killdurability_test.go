package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tooken/tooken/adapters/jwks"
	"github.com/tooken/tooken/adapters/postgres/postgrestest"
)

// child is a `tooken serve` child process.
type child struct {
	cmd *exec.Cmd
	url string
}

// buildTooken builds the tooken binary into a temporary directory and returns its path.
func buildTooken(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tooken")
	goCmd := os.Getenv("GO")
	if goCmd == "" {
		goCmd = "go"
	}
	out, err := exec.Command(goCmd, "build", "-o", bin, "github.com/tooken/tooken/cmd/tooken").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// childEnv is the environment of the child processes: this one's, without TOOKEN_* variables, plus env.
func childEnv(env ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TOOKEN_") {
			out = append(out, kv)
		}
	}
	return append(out, env...)
}

// startChild runs `tooken serve` on a free loopback port and waits until it answers /healthz.
func startChild(t *testing.T, bin string, env []string) *child {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(env, "TOOKEN_ADDR="+addr)
	w := &testWriter{t: t}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, url: "http://" + addr}
	t.Cleanup(func() { c.kill() })
	for deadline := time.Now().Add(20 * time.Second); ; {
		res, err := http.Get(c.url + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return c
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("tooken serve did not become healthy: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill sends SIGKILL (no graceful shutdown, no last flush) and reaps the process.
func (c *child) kill() {
	if c.cmd.ProcessState == nil {
		_ = c.cmd.Process.Kill()
		_ = c.cmd.Wait()
	}
}

// Deliveries pending or mid-attempt when the server process is killed with SIGKILL are all delivered
// after a restart on the same database: the queued ones at once, the ones that were running once the
// new leader's rescuer (TOOKEN_JOB_RESCUE_AFTER) finds them stuck.
func TestWebhookDeliveriesSurviveKill9(t *testing.T) {
	t.Parallel()
	bin := buildTooken(t)
	began := time.Now()
	var up atomic.Bool
	var inflight, requests atomic.Int64
	release := make(chan struct{})
	var accepted acceptedLog
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := requests.Add(1)
		if !up.Load() {
			if n <= 3 { // failing at first…
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
			inflight.Add(1) // …then slow: the attempt is still running when the server dies
			select {
			case <-r.Context().Done():
			case <-release:
			}
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		body, _ := io.ReadAll(r.Body)
		var env struct{ ID string }
		_ = json.Unmarshal(body, &env)
		if env.ID == "" || env.ID != r.Header.Get("X-Tooken-Event-Id") {
			t.Errorf("delivery without a consistent event id: %s", body)
		}
		accepted.add(env.ID)
	}))
	defer rcv.Close()
	defer close(release)

	env := childEnv("TOOKEN_DATABASE_URL="+postgrestest.NewDatabase(t), "TOOKEN_MASTER_KEY="+jwks.GenerateMasterKey(),
		"TOOKEN_WEBHOOK_ALLOW_PRIVATE=true", "TOOKEN_WEBHOOK_RETRY_BASE=200ms", "TOOKEN_JOB_RESCUE_AFTER=2s",
		"TOOKEN_LOG_LEVEL=warn")
	boot := exec.Command(bin, "bootstrap", "--email", "owner@example.com", "--workspace", "Acme")
	boot.Env = env
	out, err := boot.Output()
	if err != nil {
		t.Fatalf("tooken bootstrap: %v", err)
	}
	var ws struct {
		APIKey string `json:"api_key"`
	}
	if err := json.Unmarshal(out, &ws); err != nil {
		t.Fatalf("bootstrap output %q: %v", out, err)
	}

	first := startChild(t, bin, env)
	a := &server{URL: first.url, client: &http.Client{Timeout: 10 * time.Second}}
	a.createWebhook(t, ws.APIKey, rcv.URL, "token.created")
	const n = 24
	for i := range n {
		a.createToken(t, ws.APIKey, map[string]any{"name": fmt.Sprintf("tok-%d", i), "scopes": []string{"tokens:read"}})
	}
	for deadline := time.Now().Add(15 * time.Second); inflight.Load() < 8; {
		if time.Now().After(deadline) {
			t.Fatalf("only %d attempts in flight", inflight.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	first.kill()
	t.Logf("killed with %d attempts in flight after %d requests", inflight.Load(), requests.Load())

	up.Store(true)
	second := startChild(t, bin, env)
	b := &server{URL: second.url, client: &http.Client{Timeout: 10 * time.Second}}
	waitAllDelivered(t, b, ws.APIKey, n, &accepted, 45*time.Second)
	t.Logf("every event delivered %v after the build; %d requests in all", time.Since(began), requests.Load())
}
