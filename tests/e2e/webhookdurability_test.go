package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tooken/tooken/adapters/jwks"
	"github.com/tooken/tooken/adapters/postgres/postgrestest"
	"github.com/tooken/tooken/cmd/tooken/app"
	"github.com/tooken/tooken/internal/testclock"
)

// Events written while the receiver is down survive a graceful stop of the server: after a restart
// on the same database every event is delivered (at least once; the receiver deduplicates by event id).
func TestWebhookDeliveriesSurviveARestart(t *testing.T) {
	t.Parallel()
	var up atomic.Bool
	var accepted acceptedLog
	var attempts atomic.Int64
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attempts.Add(1)
		if !up.Load() {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		body, _ := io.ReadAll(r.Body)
		var env struct{ ID string }
		_ = json.Unmarshal(body, &env)
		accepted.add(env.ID)
	}))
	defer rcv.Close()

	clock := testclock.New(t0)
	cfg := app.Config{Addr: "127.0.0.1:0", DatabaseURL: postgrestest.NewDatabase(t), MasterKey: jwks.GenerateMasterKey(),
		Migrate: true, Clock: clock, Logger: testLogger(t), AuthFailureLimit: 10_000}
	fastWebhooks(&cfg)
	cfg.WebhookRetryBase = 200 * time.Millisecond
	first, err := app.Listen(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- first.Run(ctx) }()
	a := &server{URL: first.URL, Service: first.Service, Clock: clock, client: &http.Client{Timeout: 30 * time.Second}, cfg: cfg}
	ws := a.bootstrap(t, "Acme")
	a.createWebhook(t, ws.APIKey, rcv.URL, "token.created")
	var ids []string
	for _, name := range []string{"one", "two", "three", "four", "five"} {
		a.createToken(t, ws.APIKey, map[string]any{"name": name, "scopes": []string{"tokens:read"}})
		ids = append(ids, name)
	}
	for deadline := time.Now().Add(20 * time.Second); attempts.Load() < 5 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	up.Store(true)
	cfg.Migrate = false
	second, err := app.Listen(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	b := run(t, second, clock)
	waitAllDelivered(t, b, ws.APIKey, len(ids), &accepted, 30*time.Second)
}

// acceptedLog counts a deduplicating receiver's successful deliveries by event id.
type acceptedLog struct {
	mu sync.Mutex
	n  map[string]int
}

func (l *acceptedLog) add(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n == nil {
		l.n = map[string]int{}
	}
	l.n[id]++
}

// waitAllDelivered reads the workspace's token.created events from s, requires want of them, and
// waits until the receiver accepted each at least once, failing the test after within.
func waitAllDelivered(t *testing.T, s *server, key string, want int, l *acceptedLog, within time.Duration) {
	t.Helper()
	var events struct {
		Data []struct{ ID string }
	}
	s.do(t, "GET", "/v1/audit-logs?action=token.created&per_page=100", key, nil).want(t, http.StatusOK).decode(t, &events)
	if len(events.Data) != want {
		t.Fatalf("%d token.created events, want %d", len(events.Data), want)
	}
	for deadline := time.Now().Add(within); ; time.Sleep(20 * time.Millisecond) {
		l.mu.Lock()
		missing := 0
		for _, ev := range events.Data {
			if l.n[ev.ID] == 0 {
				missing++
			}
		}
		l.mu.Unlock()
		if missing == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d events never delivered after the restart", missing, want)
		}
	}
}
