package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tooken/tooken/cmd/tooken/app"
)

// countLastUsedWrites installs, in the server's database, a statement-level trigger that counts every
// UPDATE statement setting tokens.last_used_at (whether or not it changes a row), and returns a
// function reading the count.
func countLastUsedWrites(t *testing.T, db *sql.DB) func() int {
	t.Helper()
	ctx := context.Background()
	for _, stmt := range []string{
		`CREATE TABLE e2e_last_used_writes (n bigint NOT NULL)`,
		`INSERT INTO e2e_last_used_writes VALUES (0)`,
		`CREATE FUNCTION e2e_count_last_used_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN UPDATE e2e_last_used_writes SET n = n + 1; RETURN NULL; END $$`,
		`CREATE TRIGGER e2e_count_last_used_writes AFTER UPDATE OF last_used_at ON tokens
FOR EACH STATEMENT EXECUTE FUNCTION e2e_count_last_used_write()`,
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	return func() int {
		t.Helper()
		var n int
		if err := db.QueryRowContext(ctx, `SELECT n FROM e2e_last_used_writes`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
}

// burst sends n GET /v1/tokens/{id} with value from workers goroutines over keep-alive connections
// and returns how long it took; every answer must be 200.
func (s *server) burst(t *testing.T, n, workers int, id, value string) time.Duration {
	t.Helper()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = workers
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	var next, failed atomic.Int64
	var firstErr sync.Once
	var wg sync.WaitGroup
	began := time.Now()
	for range workers {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				req, _ := http.NewRequest("GET", s.URL+"/v1/tokens/"+id, nil)
				req.Header.Set("Authorization", "Bearer "+value)
				res, err := client.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, res.Body) // read to the end, so the connection is reused
					res.Body.Close()
					if err == nil && res.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %d", res.StatusCode)
					}
				}
				if err != nil {
					failed.Add(1)
					firstErr.Do(func() { t.Errorf("burst request: %v", err) })
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(began)
	if failed.Load() > 0 {
		t.Fatalf("%d of %d burst requests failed", failed.Load(), n)
	}
	return took
}

// TestLastUsedAtIsCoalescedIntoAHandfulOfWritesAndVisibleWithinTheFlushInterval sends a burst of
// 10 000 authenticated requests with one token, with last_used_at flushed every 200 ms: the token's
// last_used_at shows the time of use within a flush interval, and the database saw at most one
// last_used_at write per flush interval of the burst (plus two for the flushes at its edges), however
// many requests there were.
func TestLastUsedAtIsCoalescedIntoAHandfulOfWritesAndVisibleWithinTheFlushInterval(t *testing.T) {
	t.Parallel()
	const flush = 200 * time.Millisecond
	s := startServer(t, func(c *app.Config) { c.UsageFlush, c.RateLimit = flush, 10_000_000 })
	ws := s.bootstrap(t, "Acme")
	tok := s.createToken(t, ws.APIKey, map[string]any{"name": "hot", "scopes": []string{"tokens:read"}})
	if got := s.getToken(t, ws.APIKey, tok.ID).LastUsedAt; got != nil {
		t.Fatalf("last_used_at = %s before any use, want null", *got)
	}
	writes := countLastUsedWrites(t, s.openDB(t))
	s.Clock.Advance(time.Minute) // the clock stands still during the burst: every use is at t0+1m
	usedAt := rfc3339(t0.Add(time.Minute))

	took := s.burst(t, 10_000, 32, tok.ID, tok.Token)
	ended := time.Now()
	var seen time.Duration
	for {
		if got := s.getToken(t, ws.APIKey, tok.ID).LastUsedAt; got != nil {
			seen = time.Since(ended)
			if *got != usedAt {
				t.Errorf("last_used_at = %s, want %s (the time of the burst)", *got, usedAt)
			}
			break
		}
		// A flush interval, plus scheduling slack for a loaded machine running the race detector.
		if time.Since(ended) > flush+2*time.Second {
			t.Fatalf("last_used_at still null %v after the burst; the flush interval is %v", time.Since(ended), flush)
		}
		time.Sleep(5 * time.Millisecond)
	}
	n := writes()
	limit := int(took/flush) + 2
	t.Logf("10 000 requests in %v; last_used_at visible %v after the burst; %d last_used_at writes (limit %d)", took, seen, n, limit)
	if n < 1 || n > limit {
		t.Errorf("%d UPDATE statements set tokens.last_used_at during a burst of %v; want 1 to %d (one per %v flush)", n, took, limit, flush)
	}

	// API keys are tracked the same way: the owner key, last used at t0, read the token above at t0+1m.
	deadline := time.Now().Add(flush + 2*time.Second)
	for {
		var keys struct {
			Data []struct {
				Last4      string  `json:"last4"`
				LastUsedAt *string `json:"last_used_at"`
			} `json:"data"`
		}
		s.do(t, "GET", "/v1/api-keys", ws.APIKey, nil).want(t, http.StatusOK).decode(t, &keys)
		if len(keys.Data) != 1 {
			t.Fatalf("%d API keys, want the owner's", len(keys.Data))
		}
		at := keys.Data[0].LastUsedAt
		if at != nil && *at == usedAt {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the owner API key's last_used_at = %v %v after its use at %s", at, flush+2*time.Second, usedAt)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
