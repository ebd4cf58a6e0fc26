package e2e

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tooken/tooken/adapters/jwks"
	"github.com/tooken/tooken/adapters/postgres/postgrestest"
	"github.com/tooken/tooken/cmd/tooken/app"
	"github.com/tooken/tooken/internal/testclock"
	"github.com/tooken/tooken/sdk/verify"
)

// propagationBound is how soon a change made through the API must reach every verifier (issue 3).
const propagationBound = time.Second

// startStoppable is startServer for tests that take the issuer down while they run: stop shuts the
// server down (Run returns, connections and revocation streams end, the database is released) and
// may be called any number of times; the test's cleanup calls it too.
func startStoppable(t *testing.T, options ...func(*app.Config)) (*server, func()) {
	t.Helper()
	dbURL := postgrestest.NewDatabase(t)
	clock := testclock.New(t0)
	cfg := app.Config{
		Addr: "127.0.0.1:0", DatabaseURL: dbURL, MasterKey: jwks.GenerateMasterKey(), Migrate: true,
		Clock: clock, Logger: testLogger(t), AuthFailureLimit: 10_000,
	}
	for _, o := range options {
		o(&cfg)
	}
	m, err := app.Listen(context.Background(), cfg)
	if err != nil {
		t.Fatalf("app.Listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	s := &server{URL: m.URL, Service: m.Service, Clock: clock, cfg: cfg,
		client: &http.Client{Timeout: 30 * time.Second, Transport: http.DefaultTransport.(*http.Transport).Clone()}}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			s.client.CloseIdleConnections()
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(20 * time.Second):
				t.Error("the server did not shut down within 20 s")
			}
			if err := m.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return s, stop
}

// sdkTransport is the verifier's view of the network: it counts requests by the last element of
// their path (jwks.json, revocations, stream, openid-configuration) and, when via is set, sends
// them to that host instead, as a load balancer in front of replicas sharing one public URL would.
type sdkTransport struct {
	base http.RoundTripper
	via  string // host:port, or "" to leave requests alone

	mu     sync.Mutex
	counts map[string]int // by the path's last segment; streamOpened counts streams answered 200
}

// streamOpened is the key of counts under which RoundTrip counts the revocation streams the server
// answered 200: it subscribes a stream to its events before it answers.
const streamOpened = "stream 200"

func (tr *sdkTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	last := req.URL.Path[strings.LastIndexByte(req.URL.Path, '/')+1:]
	tr.mu.Lock()
	tr.counts[last]++
	tr.mu.Unlock()
	if tr.via != "" {
		req = req.Clone(req.Context())
		req.URL.Host, req.Host = tr.via, tr.via
	}
	res, err := tr.base.RoundTrip(req)
	if err == nil && last == "stream" && res.StatusCode == http.StatusOK {
		tr.mu.Lock()
		tr.counts[streamOpened]++
		tr.mu.Unlock()
	}
	return res, err
}

// count is how many requests went to paths ending in last.
func (tr *sdkTransport) count(last string) int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.counts[last]
}

// sdkVerifier is an SDK verifier under test and its transport.
type sdkVerifier struct {
	*verify.Verifier
	net *sdkTransport
}

// newVerifier starts an SDK verifier for ws's issuer on s over loopback HTTP, on the server's test
// clock; when via is not nil, every request of the verifier is served by that replica. It is closed
// when the test ends (before the servers, which were started first).
func newVerifier(t *testing.T, s *server, ws workspace, via *server, opts ...verify.Option) *sdkVerifier {
	t.Helper()
	tr := &sdkTransport{base: http.DefaultTransport.(*http.Transport).Clone(), counts: map[string]int{}}
	if via != nil {
		tr.via = strings.TrimPrefix(via.URL, "http://")
	}
	opts = append([]verify.Option{verify.WithClock(s.Clock.Now), verify.WithHTTPClient(&http.Client{Transport: tr}),
		verify.WithLogger(slog.New(slog.NewTextHandler(&prefixWriter{t: t, prefix: "verifier: "},
			&slog.HandlerOptions{Level: slog.LevelWarn})))}, opts...)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := verify.New(ctx, s.URL+"/w/"+ws.ID, opts...)
	if err != nil {
		t.Fatalf("verify.New: %v", err)
	}
	t.Cleanup(func() {
		v.Close()
		tr.base.(*http.Transport).CloseIdleConnections()
	})
	return &sdkVerifier{Verifier: v, net: tr}
}

// awaitStream waits until the verifier's revocation stream is open: the server subscribes a stream
// before it answers, so from then on every event reaches the verifier. (Revocations sent before are
// replayed from the verifier's cursor; a jwks event is not — the verifier then fetches a new key when
// its copy of the JWKS expires, within the announce window.)
func (v *sdkVerifier) awaitStream(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for v.net.count(streamOpened) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the verifier's revocation stream did not open within 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

// accepts fails the test unless v verifies value; it returns the claims.
func (v *sdkVerifier) accepts(t *testing.T, what, value string) *verify.Claims {
	t.Helper()
	c, err := v.Verify(context.Background(), value)
	if err != nil {
		t.Fatalf("%s: Verify: %v; want it accepted", what, err)
	}
	return c
}

// refuses fails the test unless v refuses value with want.
func (v *sdkVerifier) refuses(t *testing.T, what, value string, want error) {
	t.Helper()
	if _, err := v.Verify(context.Background(), value); !errors.Is(err, want) {
		t.Errorf("%s: Verify error = %v; want %v", what, err, want)
	}
}

// refusesWithin polls Verify until it refuses value with want, failing the test unless that happens
// within the propagation bound from start (taken just before the change was requested); it returns
// how long it took.
func (v *sdkVerifier) refusesWithin(t *testing.T, what, value string, want error, start time.Time) time.Duration {
	t.Helper()
	for {
		_, err := v.Verify(context.Background(), value)
		took := time.Since(start)
		if errors.Is(err, want) {
			t.Logf("%s: refused with %v after %v", what, want, took.Round(time.Microsecond))
			return took
		}
		if took > propagationBound {
			t.Fatalf("%s: Verify error = %v after %v; want %v within %v", what, err, took, want, propagationBound)
		}
		time.Sleep(time.Millisecond) // polling, not waiting out a delay
	}
}

// prefixWriter sends log lines to the test log.
type prefixWriter struct {
	mu     sync.Mutex
	t      *testing.T
	prefix string
}

func (w *prefixWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.t.Logf("%s%s", w.prefix, strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// revoke revokes token id through s (204 required).
func (s *server) revoke(t *testing.T, credential, id string) {
	t.Helper()
	s.do(t, "DELETE", "/v1/tokens/"+id, credential, nil).want(t, http.StatusNoContent)
}

// signingKeyJSON is the API's signing key object.
type signingKeyJSON struct {
	KID         string  `json:"kid"`
	Algorithm   string  `json:"algorithm"`
	State       string  `json:"state"`
	CreatedAt   string  `json:"created_at"`
	ActivatesAt string  `json:"activates_at"`
	RetiredAt   *string `json:"retired_at"`
	RevokedAt   *string `json:"revoked_at"`
}

// signingKeys lists ws's signing keys by state (a state may hold several keys).
func (s *server) signingKeys(t *testing.T, ws workspace) map[string][]signingKeyJSON {
	t.Helper()
	var l struct {
		Data []signingKeyJSON `json:"data"`
	}
	s.do(t, "GET", "/v1/signing-keys", ws.APIKey, nil).want(t, http.StatusOK).decode(t, &l)
	out := map[string][]signingKeyJSON{}
	for _, k := range l.Data {
		out[k.State] = append(out[k.State], k)
	}
	return out
}

// activeKID is the kid of ws's one active signing key.
func (s *server) activeKID(t *testing.T, ws workspace) string {
	t.Helper()
	active := s.signingKeys(t, ws)["active"]
	if len(active) != 1 {
		t.Fatalf("active signing keys = %+v, want exactly one", active)
	}
	return active[0].KID
}
