package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tooken/tooken/adapters/jwks"
	"github.com/tooken/tooken/adapters/postgres/postgrestest"
	"github.com/tooken/tooken/cmd/tooken/app"
	"github.com/tooken/tooken/core"
)

// BenchmarkCreateTokenWebhooks is BenchmarkCreateToken with 0, 1 and 5 webhooks subscribed to
// token.created: the added cost of enqueueing their delivery jobs in the token's transaction (the
// job queue does not run here, so nothing is delivered meanwhile).
func BenchmarkCreateTokenWebhooks(b *testing.B) {
	forEachStore(b, func(b *testing.B, e *env) {
		hooks := 0
		for _, n := range []int{0, 1, 5} {
			for ; hooks < n; hooks++ {
				body := fmt.Appendf(nil, `{"url":"http://127.0.0.1:9/hook-%d","events":["token.created"]}`, hooks)
				if err := e.do(http.MethodPost, "/v1/webhooks", e.apiKey, body, http.StatusCreated); err != nil {
					b.Fatal(err)
				}
			}
			b.Run(fmt.Sprintf("hooks=%d", n), func(b *testing.B) {
				both(b, func() error {
					body := fmt.Appendf(nil, `{"name":"bench-%d","scopes":["tokens:read"]}`, e.seq.Add(1))
					return e.do(http.MethodPost, "/v1/tokens", e.apiKey, body, http.StatusCreated)
				})
			})
		}
	})
}

// BenchmarkWebhookDelivery is delivery throughput end to end: 16 goroutines create tokens through
// the service while a running server (app.Listen + Run, default job-queue settings) delivers each
// token.created to a local HTTP receiver; one op is one event delivered (signed, logged), so
// 1e9/ns/op is events per second.
func BenchmarkWebhookDelivery(b *testing.B) {
	for _, store := range []string{"sqlite", "postgres"} {
		b.Run(store, func(b *testing.B) {
			var mu sync.Mutex
			seen := map[string]bool{}
			var delivered atomic.Int64
			rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				var ev struct{ ID string }
				_ = json.Unmarshal(body, &ev)
				mu.Lock()
				if !seen[ev.ID] {
					seen[ev.ID] = true
					delivered.Add(1)
				}
				mu.Unlock()
			}))
			defer rcv.Close()
			svc, p := deliveryServer(b, store)
			if _, err := svc.CreateWebhook(context.Background(), p, core.CreateWebhookInput{URL: rcv.URL,
				Events: []string{"token.created"}}); err != nil {
				b.Fatal(err)
			}
			var seq atomic.Int64
			b.Run("events", func(b *testing.B) {
				target := delivered.Load() + int64(b.N)
				var next atomic.Int64
				var wg sync.WaitGroup
				b.ResetTimer()
				for range 16 {
					wg.Go(func() {
						for next.Add(1) <= int64(b.N) {
							name := fmt.Sprintf("d-%d", seq.Add(1))
							if _, err := svc.CreateToken(context.Background(), p, core.CreateTokenInput{Name: name,
								Scopes: []string{"tokens:read"}}); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				for deadline := time.Now().Add(5 * time.Minute); delivered.Load() < target; time.Sleep(time.Millisecond) {
					if time.Now().After(deadline) {
						b.Fatalf("%d of %d events delivered", delivered.Load()-(target-int64(b.N)), b.N)
					}
				}
				b.StopTimer()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			})
		})
	}
}

// deliveryServer runs a server with its job queue on store until the benchmark ends and returns its
// service and the principal of a workspace owner.
func deliveryServer(b *testing.B, store string) (*core.Service, *core.Principal) {
	b.Helper()
	cfg := app.Config{Addr: "127.0.0.1:0", Migrate: true, WebhookAllowPrivate: true, Logger: slog.New(slog.DiscardHandler)}
	switch store {
	case "sqlite":
		cfg.DataDir = b.TempDir()
	case "postgres":
		cfg.DatabaseURL = postgrestest.NewDatabase(b)
		cfg.MasterKey = jwks.GenerateMasterKey()
	}
	m, err := app.Listen(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	b.Cleanup(func() {
		cancel()
		<-done
		m.Close()
	})
	boot, err := m.Service.Bootstrap(context.Background(), core.BootstrapInput{Email: "bench@example.com", Workspace: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	p, err := m.Service.Authenticate(context.Background(), boot.APIKey)
	if err != nil {
		b.Fatal(err)
	}
	return m.Service, p
}
