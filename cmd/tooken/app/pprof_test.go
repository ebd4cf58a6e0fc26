package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tooken/tooken/cmd/tooken/app"
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

func TestPprofListenerServesProfilesAndMemoryStatsOnLoopback(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m, err := app.Listen(ctx, app.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Migrate: true,
		PprofAddr: "127.0.0.1:0", Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	base := "http://" + m.PprofAddr()
	res, err := http.Get(base + "/debug/pprof/goroutine?debug=1")
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("goroutine profile: %v %v", res, err)
	}
	res.Body.Close()
	res, err = http.Get(base + "/debug/vars")
	if err != nil {
		t.Fatal(err)
	}
	var vars struct{ Memstats struct{ HeapAlloc uint64 } }
	err = json.NewDecoder(res.Body).Decode(&vars)
	res.Body.Close()
	if err != nil || vars.Memstats.HeapAlloc == 0 {
		t.Fatalf("/debug/vars: HeapAlloc %d, %v", vars.Memstats.HeapAlloc, err)
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
