package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tooken/tooken/adapters/jwks"
	"github.com/tooken/tooken/adapters/postgres/postgrestest"
	"github.com/tooken/tooken/internal/childproc"
)

// Deliveries pending or mid-attempt when the server process is killed with SIGKILL are all delivered
// after a restart on the same database: the queued ones at once, the ones that were running once the
// new leader's rescuer (TOOKEN_JOB_RESCUE_AFTER) finds them stuck.
func TestWebhookDeliveriesSurviveKill9(t *testing.T) {
	t.Parallel()
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

	env := childproc.Env("TOOKEN_DATABASE_URL="+postgrestest.NewDatabase(t), "TOOKEN_MASTER_KEY="+jwks.GenerateMasterKey(),
		"TOOKEN_WEBHOOK_ALLOW_PRIVATE=true", "TOOKEN_WEBHOOK_RETRY_BASE=200ms", "TOOKEN_JOB_RESCUE_AFTER=2s",
		"TOOKEN_LOG_LEVEL=warn")
	apiKey := childproc.Bootstrap(t, env, "Acme")

	first := childproc.Start(t, env, &testWriter{t: t})
	a := &server{URL: first.URL, client: &http.Client{Timeout: 10 * time.Second}}
	a.createWebhook(t, apiKey, rcv.URL, "token.created")
	const n = 24
	for i := range n {
		a.createToken(t, apiKey, map[string]any{"name": fmt.Sprintf("tok-%d", i), "scopes": []string{"tokens:read"}})
	}
	for deadline := time.Now().Add(15 * time.Second); inflight.Load() < 8; {
		if time.Now().After(deadline) {
			t.Fatalf("only %d attempts in flight", inflight.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	first.Kill()
	t.Logf("killed with %d attempts in flight after %d requests", inflight.Load(), requests.Load())

	up.Store(true)
	second := childproc.Start(t, env, &testWriter{t: t})
	b := &server{URL: second.URL, client: &http.Client{Timeout: 10 * time.Second}}
	waitAllDelivered(t, b, apiKey, n, &accepted, 45*time.Second)
	t.Logf("every event delivered %v after the build; %d requests in all", time.Since(began), requests.Load())
}
