package faults

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tooken/tooken/adapters/jwks"
	"github.com/tooken/tooken/adapters/postgres/postgrestest"
	"github.com/tooken/tooken/cmd/tooken/app"
	"github.com/tooken/tooken/internal/childproc"
)

// Bounds of the outage drill.
const (
	outage          = 3 * time.Second // how long PostgreSQL is unreachable
	maxLatency      = 3 * time.Second // no request may take longer, during the outage or not
	recoveryBound   = 5 * time.Second // the service is whole again this soon after PostgreSQL returns
	propagationWait = time.Second     // a revocation on one replica reaches the other this soon
)

// PostgreSQL becomes unreachable under load (every connection reset, new ones refused) and comes
// back: requests fail fast with the standard 503 and Retry-After, never a hang or a 500; /readyz
// turns 503; once the database returns the service recovers by itself within 5 s — requests succeed,
// and its background work (job queue, last_used_at flusher, change listener) resumes; and every token
// whose creation was answered 201 is in the database.
func TestDatabaseOutageFailsFastAndRecoversWithoutLosingAcknowledgedWrites(t *testing.T) {
	t.Parallel()
	dbURL := postgrestest.NewDatabase(t)
	px, proxied := newProxy(t, dbURL)
	var delivered atomic.Int64
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		delivered.Add(1)
	}))
	defer rcv.Close()
	log := &childproc.LockedBuffer{}
	cfg := app.Config{Addr: "127.0.0.1:0", DatabaseURL: proxied, MasterKey: jwks.GenerateMasterKey(), Migrate: true,
		RateLimit: 10_000_000, UsageFlush: 100 * time.Millisecond, Reconcile: time.Hour, JobPoll: 100 * time.Millisecond,
		WebhookAllowPrivate: true, WebhookRetryBase: 100 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	a := serveInProcess(t, cfg)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", log.String())
		}
	})
	// b is a second replica that never loses its database: it revokes after the outage, to show
	// that a's change listener is back.
	cfg.DatabaseURL, cfg.Migrate, cfg.PublicURL, cfg.Logger = dbURL, false, a.URL, slog.New(slog.DiscardHandler)
	b := serveInProcess(t, cfg)

	ws, err := a.Service.Bootstrap(context.Background(), bootstrapInput("Acme"))
	if err != nil {
		t.Fatal(err)
	}
	key := ws.APIKey
	a.createWebhook(t, key, rcv.URL, "token.created")
	readers := make([]token, 4)
	for i := range readers {
		readers[i] = a.createToken(t, key, "reader")
	}

	l := startLoad(a.client, key, readers)
	time.Sleep(700 * time.Millisecond)
	down := time.Now()
	px.down()
	waitStatus(t, a.client, "/readyz", http.StatusServiceUnavailable, 2*time.Second)
	time.Sleep(time.Until(down.Add(outage)))
	upAt := time.Now()
	px.up()
	waitStatus(t, a.client, "/readyz", http.StatusOK, recoveryBound)
	for {
		r, err := a.send("POST", "/v1/tokens", key, tokenRequest("after"))
		if err == nil && r.Status == http.StatusCreated {
			break
		}
		if time.Since(upAt) > recoveryBound {
			t.Fatalf("no token created %v after the database returned: %v %v", recoveryBound, r, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("recovered %v after the database returned", time.Since(upAt).Round(time.Millisecond))
	time.Sleep(500 * time.Millisecond)
	results := l.stop()

	checkOutageResults(t, results, down, upAt)
	if px.refusedCount() == 0 {
		t.Error("no connection was refused during the outage: the drill did not reach the database")
	}

	created := map[string]bool{}
	for _, r := range results {
		if r.id != "" {
			created[r.id] = true
		}
	}
	stored := postgrestest.Strings(t, openSQL(t, dbURL), `SELECT id FROM tokens`)
	for id := range created {
		if !slices.Contains(stored, id) {
			t.Errorf("token %s was acknowledged with 201 but is not in the database", id)
		}
	}

	// The background work resumed: deliveries, last_used_at flushes, change notifications.
	before := delivered.Load()
	fresh := a.createToken(t, key, "fresh")
	waitFor(t, "a webhook delivery after the outage", recoveryBound, func() bool { return delivered.Load() > before })
	a.do(t, "GET", "/v1/tokens/"+fresh.ID, fresh.Token, nil, http.StatusOK, nil)
	db := openSQL(t, dbURL)
	waitFor(t, "last_used_at flushed after the outage", recoveryBound, func() bool {
		return len(postgrestest.Strings(t, db, `SELECT id FROM tokens WHERE id = $1 AND last_used_at IS NOT NULL`, fresh.ID)) == 1
	})
	b.do(t, "DELETE", "/v1/tokens/"+fresh.ID, key, nil, http.StatusNoContent, nil)
	waitFor(t, "the revocation on the other replica to reach the one that lost its database", propagationWait+recoveryBound, func() bool {
		r, err := a.send("GET", "/v1/tokens/"+fresh.ID, fresh.Token, nil)
		return err == nil && r.Status == http.StatusUnauthorized
	})
	t.Logf("%d requests, %d tokens created, %d connections refused", len(results), len(created), px.refusedCount())
}

// checkOutageResults: every request was answered within maxLatency with 2xx or the standard 503;
// requests made wholly during the outage that need the database were 503; some succeeded after it.
func checkOutageResults(t *testing.T, results []loadResult, down, upAt time.Time) {
	t.Helper()
	var during, unavailable, after int
	statuses := map[string]int{} // during the outage, by kind and status
	for _, r := range results {
		switch {
		case r.err != nil:
			t.Errorf("%s at %v: %v", r.kind, r.start.Sub(down).Round(time.Millisecond), r.err)
			continue
		case r.res.Took > maxLatency:
			t.Errorf("%v: took longer than %v", r.res, maxLatency)
		}
		if r.res.Status == http.StatusServiceUnavailable {
			unavailable++
			if err := checkUnavailable(r.res); err != nil {
				t.Error(err)
			}
		} else if r.res.Status/100 != 2 {
			t.Errorf("%v: want 2xx or 503", r.res)
		}
		outageOnly := r.start.After(down) && r.start.Add(r.res.Took).Before(upAt)
		if outageOnly {
			statuses[r.kind+" "+strconv.Itoa(r.res.Status)]++
		}
		if outageOnly && r.kind == "create" {
			during++
			if r.res.Status != http.StatusServiceUnavailable {
				t.Errorf("%v: a create during the outage must be 503", r.res)
			}
		}
		if r.start.After(upAt) && r.res.Status/100 == 2 {
			after++
		}
	}
	if during == 0 || unavailable == 0 {
		t.Errorf("%d creates during the outage, %d answers 503: the load did not cover the outage", during, unavailable)
	}
	if after == 0 {
		t.Error("no request of the load succeeded after the database returned")
	}
	t.Logf("answers during the outage: %v", statuses)
}

// load runs clients that alternate authenticated reads (with a token) and token creates (with an
// API key) until stopped.
type load struct {
	stopc   chan struct{}
	wg      sync.WaitGroup
	mu      sync.Mutex
	results []loadResult
}

type loadResult struct {
	kind  string // "read" or "create"
	start time.Time
	res   *result
	err   error
	id    string // the created token's id, when the create was answered 201
}

func startLoad(c *client, apiKey string, readers []token) *load {
	l := &load{stopc: make(chan struct{})}
	for w := range 4 {
		l.wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-l.stopc:
					return
				default:
				}
				r := loadResult{kind: "read", start: time.Now()}
				if (w+i)%2 == 0 {
					tok := readers[(w+i)%len(readers)]
					r.res, r.err = c.send("GET", "/v1/tokens/"+tok.ID, tok.Token, nil)
				} else {
					r.kind = "create"
					r.res, r.err = c.send("POST", "/v1/tokens", apiKey, tokenRequest("load"))
					if r.err == nil && r.res.Status == http.StatusCreated {
						var tok token
						r.err = json.Unmarshal(r.res.Body, &tok)
						r.id = tok.ID
					}
				}
				l.mu.Lock()
				l.results = append(l.results, r)
				l.mu.Unlock()
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	return l
}

func (l *load) stop() []loadResult {
	close(l.stopc)
	l.wg.Wait()
	return l.results
}

// waitStatus polls path until it answers status.
func waitStatus(t *testing.T, c *client, path string, status int, timeout time.Duration) {
	t.Helper()
	waitFor(t, path+" to answer "+http.StatusText(status), timeout, func() bool {
		r, err := c.send("GET", path, "", nil)
		return err == nil && r.Status == status
	})
}

// waitFor polls cond every 20 ms until it holds, failing the test after timeout.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
