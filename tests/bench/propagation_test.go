package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tooken/tooken/adapters/jwks"
	"github.com/tooken/tooken/adapters/postgres/postgrestest"
	"github.com/tooken/tooken/cmd/tooken/app"
	"github.com/tooken/tooken/core"
	"github.com/tooken/tooken/sdk/verify"
)

const (
	// minRevocations is the least number of revocations the propagation percentiles are taken over.
	minRevocations = 200
	// propagationTimeout fails the benchmark when a revocation has not propagated by then.
	propagationTimeout = 10 * time.Second
)

// BenchmarkRevocationPropagation runs two replicas (app.Listen + Run, real clock) on one PostgreSQL
// database and an SDK verifier whose requests all land on replica B (a load balancer in front of
// replicas sharing one public URL). Each iteration revokes a token with DELETE on replica A — a token
// that replica A, replica B and the verifier have all accepted before, so every cache holds it — and
// measures, from the moment the DELETE is sent, the time until (a) replica B answers 401 to
// GET /v1/tokens/{id} with that token (a tight loop of requests) and (b) the verifier returns
// ErrRevoked (Verify polled every 100 µs); both start polling when the DELETE has answered, so
// the DELETE's own latency (the delete-ms metrics) is a floor for them. Percentiles are nearest-rank
// over every revocation, at least minRevocations of them (revocations beyond the timed loop are
// added untimed to reach that number); ns/op is one whole iteration.
func BenchmarkRevocationPropagation(b *testing.B) {
	b.Run("postgres", func(b *testing.B) {
		p := newPropagationEnv(b)
		p.addTokens(b, minRevocations)
		var replica, sdk, del []time.Duration
		revoke := func() {
			if len(p.pool) == 0 {
				b.StopTimer()
				p.addTokens(b, 100)
				b.StartTimer()
			}
			tok := p.pool[0]
			p.pool = p.pool[1:]
			r, s, d, err := p.revoke(tok)
			if err != nil {
				b.Fatal(err)
			}
			replica, sdk, del = append(replica, r), append(sdk, s), append(del, d)
		}
		for b.Loop() {
			revoke()
		}
		for len(replica) < minRevocations {
			revoke()
		}
		b.ReportMetric(float64(len(replica)), "revocations")
		for _, m := range []struct {
			name string
			d    []time.Duration
		}{{"replica", replica}, {"sdk", sdk}, {"delete", del}} {
			slices.Sort(m.d)
			b.ReportMetric(ms(percentile(m.d, 50)), "p50-"+m.name+"-ms")
			b.ReportMetric(ms(percentile(m.d, 99)), "p99-"+m.name+"-ms")
			b.ReportMetric(ms(m.d[len(m.d)-1]), "max-"+m.name+"-ms")
		}
	})
}

// percentile is the nearest-rank p-th percentile of sorted.
func percentile(sorted []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(i, 0)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// propagationEnv is two replicas, a workspace, an SDK verifier on replica B and a pool of tokens that
// all three have accepted.
type propagationEnv struct {
	a, b     *env
	verifier *verify.Verifier
	pool     []pooledToken
}

type pooledToken struct{ id, value string }

func newPropagationEnv(b *testing.B) *propagationEnv {
	b.Helper()
	cfg := app.Config{
		Addr:        "127.0.0.1:0",
		DatabaseURL: postgrestest.NewDatabase(b), // skips the benchmark when there is no PostgreSQL
		MasterKey:   jwks.GenerateMasterKey(),
		Migrate:     true,
		RateLimit:   1 << 30, IPRateLimit: 1 << 30, AuthFailureLimit: 1 << 30,
		Logger: slog.New(slog.DiscardHandler),
	}
	ma := serve(b, cfg)
	cfg.Addr, cfg.Migrate, cfg.PublicURL = "127.0.0.1:0", false, ma.URL // one public URL for both
	mb := serve(b, cfg)

	ctx := context.Background()
	boot, err := ma.Service.Bootstrap(ctx, core.BootstrapInput{Email: "bench@example.com", Workspace: "bench"})
	if err != nil {
		b.Fatalf("bootstrap: %v", err)
	}
	p := &propagationEnv{a: newClient(b, ma.URL, boot.APIKey), b: newClient(b, mb.URL, boot.APIKey)}

	via := strings.TrimPrefix(mb.URL, "http://")
	tr := http.DefaultTransport.(*http.Transport).Clone()
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.URL.Host, r.Host = via, via
		return tr.RoundTrip(r)
	})}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	p.verifier, err = verify.New(sctx, ma.URL+"/w/"+boot.Workspace.ID, verify.WithHTTPClient(client))
	if err != nil {
		b.Fatalf("verify.New: %v", err)
	}
	b.Cleanup(func() {
		p.verifier.Close()
		tr.CloseIdleConnections()
	})

	// A first revocation, not measured, shows the verifier follows replica B's stream.
	p.addTokens(b, 1)
	if _, _, _, err := p.revoke(p.pool[0]); err != nil {
		b.Fatalf("first revocation: %v", err)
	}
	p.pool = nil
	return p
}

// serve runs the server cfg describes until the benchmark ends.
func serve(b *testing.B, cfg app.Config) *app.Main {
	b.Helper()
	m, err := app.Listen(context.Background(), cfg)
	if err != nil {
		b.Fatalf("app.Listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("Run: %v", err)
		}
		m.Close()
	})
	return m
}

// newClient is an env (the HTTP helpers) for the server at url.
func newClient(b *testing.B, url, apiKey string) *env {
	tr := &http.Transport{MaxIdleConns: 64, MaxIdleConnsPerHost: 64}
	b.Cleanup(tr.CloseIdleConnections)
	return &env{url: url, client: &http.Client{Transport: tr, Timeout: propagationTimeout}, apiKey: apiKey}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// addTokens issues n tokens on replica A and has replica A, replica B and the verifier accept each.
func (p *propagationEnv) addTokens(b *testing.B, n int) {
	b.Helper()
	for range n {
		var tok struct {
			ID    string `json:"id"`
			Token string `json:"token"`
		}
		body := fmt.Appendf(nil, `{"name":"bench-%d","scopes":["tokens:read"]}`, p.a.seq.Add(1))
		if err := p.a.call(http.MethodPost, "/v1/tokens", p.a.apiKey, body, http.StatusCreated, &tok); err != nil {
			b.Fatal(err)
		}
		for _, e := range []*env{p.a, p.b} {
			if err := e.do(http.MethodGet, "/v1/tokens/"+tok.ID, tok.Token, nil, http.StatusOK); err != nil {
				b.Fatalf("warming %s: %v", e.url, err)
			}
		}
		if _, err := p.verifier.Verify(context.Background(), tok.Token); err != nil {
			b.Fatalf("warming the verifier: %v", err)
		}
		p.pool = append(p.pool, pooledToken{tok.ID, tok.Token})
	}
}

// status sends one request without a body and returns the status (reading the body so the
// connection is reused).
func (e *env) status(method, path, bearer string) (int, error) {
	req, err := http.NewRequest(method, e.url+path, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := e.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}

// revoke sends DELETE /v1/tokens/{id} to replica A and, once it has answered, polls replica B and
// the verifier side by side; it returns how long after the DELETE was sent each refused the token,
// and how long the DELETE itself took. (Polling while the DELETE runs would make the tight loop
// compete with it for the CPUs of this one process and inflate exactly what is measured.)
func (p *propagationEnv) revoke(tok pooledToken) (replica, sdk, del time.Duration, err error) {
	path := "/v1/tokens/" + tok.id
	start := time.Now()
	deleteErr := p.a.do(http.MethodDelete, path, p.a.apiKey, nil, http.StatusNoContent)
	del = time.Since(start)
	var wg sync.WaitGroup
	var replicaErr, sdkErr error
	wg.Go(func() {
		for {
			status, err := p.b.status(http.MethodGet, path, tok.value)
			if replica = time.Since(start); err == nil && status == http.StatusUnauthorized {
				return
			}
			if err != nil || status != http.StatusOK || replica > propagationTimeout {
				replicaErr = fmt.Errorf("replica B after %v: GET %s: status %d, %v; want 401", replica, path, status, err)
				return
			}
		}
	})
	wg.Go(func() {
		for {
			_, err := p.verifier.Verify(context.Background(), tok.value)
			if sdk = time.Since(start); errors.Is(err, verify.ErrRevoked) {
				return
			}
			if err != nil || sdk > propagationTimeout {
				sdkErr = fmt.Errorf("verifier after %v: %v, want %w", sdk, err, verify.ErrRevoked)
				return
			}
			time.Sleep(100 * time.Microsecond)
		}
	})
	wg.Wait()
	return replica, sdk, del, errors.Join(deleteErr, replicaErr, sdkErr)
}
