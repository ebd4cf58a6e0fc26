// Package bench measures Tooken's request paths end to end: the real HTTP handler from app.Open,
// served by httptest over loopback HTTP with a keep-alive client, on embedded SQLite and on
// PostgreSQL; and how fast a revocation reaches another replica and an SDK verifier
// (BenchmarkRevocationPropagation: two servers from app.Listen + Run on one PostgreSQL database).
// It defines only Benchmark functions, so `go test ./...` runs none of its setup.
//
// `make bench` runs these and prints a table; to run them directly:
//
//	go test -run '^$' -bench . -benchmem ./tests/bench/
//
// B/op and allocs/op count the whole process: the client and the server side of each request.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/tooken/tooken/adapters/jwks"
	"github.com/tooken/tooken/adapters/postgres/postgrestest"
	"github.com/tooken/tooken/cmd/tooken/app"
	"github.com/tooken/tooken/core"
)

// parallelism multiplies GOMAXPROCS into the number of concurrent clients of the parallel variants.
const parallelism = 8

// BenchmarkAuthGetToken is the hot path: GET /v1/tokens/{id} authenticated by a token value. After
// the first request the credential is cached, so authentication costs no database access; the GET
// itself reads the row.
func BenchmarkAuthGetToken(b *testing.B) {
	forEachStore(b, func(b *testing.B, e *env) {
		path := "/v1/tokens/" + e.tokenID
		both(b, func() error { return e.do(http.MethodGet, path, e.tokenValue, nil, http.StatusOK) })
	})
}

// BenchmarkCreateToken is POST /v1/tokens with an API key: a signature and one transaction (the
// token and its audit event) per request.
func BenchmarkCreateToken(b *testing.B) {
	forEachStore(b, func(b *testing.B, e *env) {
		both(b, func() error {
			body := fmt.Appendf(nil, `{"name":"bench-%d","scopes":["tokens:read"]}`, e.seq.Add(1))
			return e.do(http.MethodPost, "/v1/tokens", e.apiKey, body, http.StatusCreated)
		})
	})
}

// BenchmarkCreateTokenAcrossWorkspaces is BenchmarkCreateToken spread round-robin over 16 workspaces,
// as on a server of many teams: the creates written together then belong to several workspaces, each
// with an audit chain of its own.
func BenchmarkCreateTokenAcrossWorkspaces(b *testing.B) {
	forEachStore(b, func(b *testing.B, e *env) {
		keys := make([]string, 16)
		for i := range keys {
			boot, err := e.svc.Bootstrap(context.Background(),
				core.BootstrapInput{Email: "bench@example.com", Workspace: fmt.Sprintf("bench-%d", i)})
			if err != nil {
				b.Fatalf("bootstrap: %v", err)
			}
			keys[i] = boot.APIKey
		}
		both(b, func() error {
			n := e.seq.Add(1)
			body := fmt.Appendf(nil, `{"name":"bench-%d","scopes":["tokens:read"]}`, n)
			return e.do(http.MethodPost, "/v1/tokens", keys[n%int64(len(keys))], body, http.StatusCreated)
		})
	})
}

// BenchmarkRotateToken is POST /v1/tokens/{id}/rotate with an API key, every client rotating a token
// of its own in one workspace: a signature and one transaction (the token, its audit event and a
// revocation-feed entry) per request, the transactions taking turns on the workspace's audit chain.
func BenchmarkRotateToken(b *testing.B) {
	forEachStore(b, func(b *testing.B, e *env) {
		// More tokens than clients: a client takes one nobody else is rotating and puts it back.
		free := make(chan string, 4*parallelism*runtime.GOMAXPROCS(0))
		for i := range cap(free) {
			var t struct{ ID string }
			if err := e.call(http.MethodPost, "/v1/tokens", e.apiKey, fmt.Appendf(nil, `{"name":"rotated-%d","scopes":["tokens:read"]}`, i),
				http.StatusCreated, &t); err != nil {
				b.Fatalf("creating a token to rotate: %v", err)
			}
			free <- t.ID
		}
		both(b, func() error {
			id := <-free
			defer func() { free <- id }()
			return e.do(http.MethodPost, "/v1/tokens/"+id+"/rotate", e.apiKey, []byte(`{}`), http.StatusOK)
		})
	})
}

// BenchmarkVerifyEndpoint is POST /v1/tokens/verify of a valid value (no credential; per-IP limit).
func BenchmarkVerifyEndpoint(b *testing.B) {
	forEachStore(b, func(b *testing.B, e *env) {
		body := fmt.Appendf(nil, `{"token":%q}`, e.tokenValue)
		both(b, func() error { return e.do(http.MethodPost, "/v1/tokens/verify", "", body, http.StatusOK) })
	})
}

// forEachStore runs f as the sub-benchmarks sqlite and postgres, each with a fresh server. A
// benchmark that calls b.Run runs once, so the setup is not repeated as b.N grows.
func forEachStore(b *testing.B, f func(*testing.B, *env)) {
	for _, store := range []string{"sqlite", "postgres"} {
		b.Run(store, func(b *testing.B) { f(b, newEnv(b, store)) })
	}
}

// both runs op as the sub-benchmarks serial (one client) and parallel (parallelism×GOMAXPROCS
// clients), reporting req/s.
func both(b *testing.B, op func() error) {
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := op(); err != nil {
				b.Fatal(err)
			}
		}
		reportRate(b)
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(parallelism)
		var failed atomic.Bool
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := op(); err != nil {
					if !failed.Swap(true) {
						b.Error(err)
					}
					return
				}
			}
		})
		reportRate(b)
	})
}

func reportRate(b *testing.B) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, "req/s")
	}
}

// env is a running server with a workspace, its owner API key and one token.
type env struct {
	url        string
	client     *http.Client
	apiKey     string
	tokenID    string
	tokenValue string
	seq        atomic.Int64 // unique token names
	svc        *core.Service
}

func newEnv(b *testing.B, store string) *env {
	b.Helper()
	cfg := app.Config{
		RateLimit:   1 << 30,
		IPRateLimit: 1 << 30,
		Migrate:     true,
		Logger:      slog.New(slog.DiscardHandler),
		// BenchmarkCreateTokenWebhooks subscribes loopback URLs (never delivered: no job queue runs).
		WebhookAllowPrivate: true,
	}
	switch store {
	case "sqlite":
		cfg.DataDir = b.TempDir()
	case "postgres":
		cfg.DatabaseURL = postgrestest.NewDatabase(b) // skips the benchmark when there is no PostgreSQL
		cfg.MasterKey = jwks.GenerateMasterKey()
	}
	ctx := context.Background()
	m, err := app.Open(ctx, cfg)
	if err != nil {
		b.Fatalf("opening the app on %s: %v", store, err)
	}
	srv := httptest.NewServer(m.Handler)
	tr := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, MaxConnsPerHost: 0}
	b.Cleanup(func() {
		tr.CloseIdleConnections()
		srv.Close()
		m.Close()
	})
	boot, err := m.Service.Bootstrap(ctx, core.BootstrapInput{Email: "bench@example.com", Workspace: "bench"})
	if err != nil {
		b.Fatalf("bootstrap: %v", err)
	}
	e := &env{url: srv.URL, client: &http.Client{Transport: tr}, apiKey: boot.APIKey, svc: m.Service}

	var issued struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	if err := e.call(http.MethodPost, "/v1/tokens", e.apiKey,
		[]byte(`{"name":"hot","scopes":["tokens:read","tokens:write"]}`), http.StatusCreated, &issued); err != nil {
		b.Fatalf("creating the token: %v", err)
	}
	e.tokenID, e.tokenValue = issued.ID, issued.Token

	// Warm the caches the way a first request does, and check the value verifies.
	if err := e.do(http.MethodGet, "/v1/tokens/"+e.tokenID, e.tokenValue, nil, http.StatusOK); err != nil {
		b.Fatalf("first authenticated request: %v", err)
	}
	var v struct {
		Valid bool   `json:"valid"`
		Code  string `json:"code"`
	}
	if err := e.call(http.MethodPost, "/v1/tokens/verify", "", fmt.Appendf(nil, `{"token":%q}`, e.tokenValue),
		http.StatusOK, &v); err != nil || !v.Valid {
		b.Fatalf("verify: %v (valid=%v code=%s)", err, v.Valid, v.Code)
	}
	return e
}

// do sends one request and discards the response body (reading it so the connection is reused).
func (e *env) do(method, path, bearer string, body []byte, want int) error {
	return e.call(method, path, bearer, body, want, nil)
}

// call sends one request, checks the status and decodes the JSON body into out when out is not nil.
func (e *env) call(method, path, bearer string, body []byte, want int, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		return err
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, msg)
	}
	if out != nil {
		return json.NewDecoder(resp.Body).Decode(out)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}
