package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tooken/tooken/cmd/tooken/app"
	"github.com/tooken/tooken/core"
)

func TestPprofListenerRefusesNonLoopbackAddresses(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0", "example.com:0"} {
		_, err := app.Listen(context.Background(), app.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(),
			PprofAddr: addr, Logger: quiet()})
		if err == nil || !strings.Contains(err.Error(), "TOOKEN_PPROF_ADDR") {
			t.Errorf("PprofAddr %q: err = %v, want a refusal naming TOOKEN_PPROF_ADDR", addr, err)
		}
	}
}

// withPprof listens on SQLite with the profiling listener on loopback, closed at the test's end; the
// caller runs it.
func withPprof(t *testing.T, ctx context.Context) *app.Main {
	t.Helper()
	m, err := app.Listen(ctx, app.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Migrate: true,
		PprofAddr: "127.0.0.1:0", Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func TestPprofListenerServesProfilesAndMemoryStatsOnLoopback(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := withPprof(t, ctx)
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	base := "http://" + m.PprofAddr()
	res, err := http.Get(base + "/debug/pprof/goroutine?debug=1")
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("goroutine profile: %v %v", res, err)
	}
	res.Body.Close()
	runtime.GC() // heap_live_bytes is what the last collection found
	res, err = http.Get(base + "/debug/vars")
	if err != nil {
		t.Fatal(err)
	}
	var vars struct {
		Memstats      struct{ HeapAlloc uint64 }
		HeapLiveBytes uint64 `json:"heap_live_bytes"`
	}
	err = json.NewDecoder(res.Body).Decode(&vars)
	res.Body.Close()
	if err != nil || vars.Memstats.HeapAlloc == 0 || vars.HeapLiveBytes == 0 {
		t.Fatalf("/debug/vars: HeapAlloc %d, heap_live_bytes %d, %v", vars.Memstats.HeapAlloc, vars.HeapLiveBytes, err)
	}
	if res, err := http.Get(m.URL + "/debug/pprof/"); err == nil {
		res.Body.Close()
		if res.StatusCode == http.StatusOK {
			t.Fatal("the API listener must not serve pprof")
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestPprofListenerCountsTheBatchesOfCreates(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := withPprof(t, ctx)
	b, err := m.Service.Bootstrap(ctx, core.BootstrapInput{Email: "ops@example.com", Workspace: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	defer func() { cancel(); <-done }()
	load := func() (l struct {
		Batches, Creates uint64
		BusySeconds      float64 `json:"busy_seconds"`
	}) {
		t.Helper()
		res, err := http.Get("http://" + m.PprofAddr() + "/debug/creates")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if err := json.NewDecoder(res.Body).Decode(&l); err != nil {
			t.Fatalf("/debug/creates: %v", err)
		}
		return l
	}
	before := load()
	for i := range 3 {
		req, _ := http.NewRequest(http.MethodPost, m.URL+"/v1/tokens",
			strings.NewReader(fmt.Sprintf(`{"name":"svc-%d","scopes":["tokens:read"]}`, i)))
		req.Header.Set("Authorization", "Bearer "+b.APIKey)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != http.StatusCreated {
			t.Fatalf("create %d: %v %v", i, res, err)
		}
		res.Body.Close()
	}
	after := load()
	if after.Creates-before.Creates != 3 || after.Batches-before.Batches != 3 || after.BusySeconds <= before.BusySeconds {
		t.Errorf("/debug/creates went from %+v to %+v over 3 creates one after the other, want 3 more creates in 3 more batches and more busy time",
			before, after)
	}
}
