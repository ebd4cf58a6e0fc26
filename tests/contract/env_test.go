package contract

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tooken/tooken/cmd/tooken/app"
	"github.com/tooken/tooken/core"
	"github.com/tooken/tooken/sdk"
)

// fakeClock is the server's clock: the real time plus an offset tests move forward, or, once frozen,
// a fixed instant that only Advance moves.
type fakeClock struct {
	offset atomic.Int64
	frozen atomic.Int64 // Unix nanoseconds; 0 = running
}

func (c *fakeClock) Now() time.Time {
	if f := c.frozen.Load(); f != 0 {
		return time.Unix(0, f).UTC()
	}
	return time.Now().Add(time.Duration(c.offset.Load()))
}

func (c *fakeClock) Advance(d time.Duration) {
	c.offset.Add(int64(d))
	if c.frozen.Load() != 0 {
		c.frozen.Add(int64(d))
	}
}

// Freeze stops the clock at the next whole second and returns that instant, so that tests can check
// bounds to the second.
func (c *fakeClock) Freeze() time.Time {
	now := c.Now().Truncate(time.Second).Add(time.Second)
	c.frozen.Store(now.UnixNano())
	return now
}

// limits are the rate limits of a test server; zero fields are generous, so that the many
// deliberate authentication failures of the suite never trip a limit by accident.
type limits struct {
	RateLimit, IPRateLimit, AuthFailureLimit int
}

// env is one real Tooken handler on its own embedded SQLite database, served over HTTP.
type env struct {
	Main  *app.Main
	URL   string
	Clock *fakeClock

	http      *http.Client
	closeOnce sync.Once
}

// newEnv starts a server; configure, if given, changes its configuration before it opens.
func newEnv(t *testing.T, lim limits, configure ...func(*app.Config)) *env {
	t.Helper()
	s, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(nil)
	url := "http://" + ts.Listener.Addr().String()
	clock := &fakeClock{}
	dataDir := t.TempDir()
	copyTemplate(t, dataDir)
	cfg := app.Config{
		DataDir:          dataDir,
		Migrate:          true,
		PublicURL:        url,
		RateLimit:        orDefault(lim.RateLimit, 1_000_000),
		IPRateLimit:      orDefault(lim.IPRateLimit, 1_000_000),
		AuthFailureLimit: orDefault(lim.AuthFailureLimit, 1_000_000),
		Clock:            clock,
		Logger:           slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, f := range configure {
		f(&cfg)
	}
	m, err := app.Open(context.Background(), cfg)
	if err != nil {
		ts.Close()
		t.Fatalf("app.Open: %v", err)
	}
	ts.Config.Handler = m.Handler
	ts.Start()
	e := &env{Main: m, URL: ts.URL, Clock: clock,
		http: &http.Client{Transport: &validatingTransport{spec: s, base: ts.Client().Transport, cov: cov}}}
	t.Cleanup(func() {
		ts.Close()
		e.closeDB(t)
	})
	return e
}

func orDefault(v, d int) int {
	if v == 0 {
		return d
	}
	return v
}

// closeDB closes the server's database (once).
func (e *env) closeDB(t *testing.T) {
	e.closeOnce.Do(func() {
		if err := e.Main.Close(); err != nil {
			t.Errorf("closing the database: %v", err)
		}
	})
}

// client is an SDK client authenticating with credential ("" sends no Authorization header).
func (e *env) client(t *testing.T, credential string, opts ...sdk.ClientOption) *sdk.ClientWithResponses {
	t.Helper()
	c, err := sdk.New(e.URL, credential, append([]sdk.ClientOption{sdk.WithHTTPClient(e.http)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// workspace is a bootstrapped workspace and a client acting with its owner API key.
type workspace struct {
	ID    string
	Email string
	Key   string
	Owner *sdk.ClientWithResponses
}

// bootstrap creates a workspace through the core service, as `tooken bootstrap` does.
func (e *env) bootstrap(t *testing.T, name string) workspace {
	t.Helper()
	email := strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.com"
	b, err := e.Main.Service.Bootstrap(context.Background(), core.BootstrapInput{Email: email, Workspace: name})
	if err != nil {
		t.Fatalf("bootstrap %s: %v", name, err)
	}
	return workspace{ID: b.Workspace.ID, Email: email, Key: b.APIKey, Owner: e.client(t, b.APIKey)}
}

// sdkResponse is what every generated XxxResponse offers.
type sdkResponse interface {
	StatusCode() int
	GetBody() []byte
}

// want fails the test unless the call got an answer with status; for an error status it returns
// the decoded error body (whose shape the transport has already checked).
func want(t *testing.T, r sdkResponse, err error, status int) *sdk.Error {
	t.Helper()
	if err != nil {
		t.Fatalf("call failed: %v", err)
	}
	if r.StatusCode() != status {
		t.Fatalf("status = %d, want %d; body: %s", r.StatusCode(), status, truncate(r.GetBody()))
	}
	return decodeError(t, status, r.GetBody())
}

// wantHTTP is want for the plain *http.Response of the SDK's low-level methods.
func wantHTTP(t *testing.T, resp *http.Response, err error, status int) *sdk.Error {
	t.Helper()
	if err != nil {
		t.Fatalf("call failed: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != status {
		t.Fatalf("%s %s: status = %d, want %d; body: %s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, status, truncate(body))
	}
	return decodeError(t, status, body)
}

func decodeError(t *testing.T, status int, body []byte) *sdk.Error {
	t.Helper()
	if status < 400 {
		return nil
	}
	var e sdk.Error
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body: %v", err)
	}
	return &e
}

// wantDetail fails the test unless the error names field in its details.
func wantDetail(t *testing.T, e *sdk.Error, field string) {
	t.Helper()
	if e.Details == nil || (*e.Details)[field] == "" {
		t.Errorf("details = %v, want an entry for %q (message %q)", e.Details, field, e.Message)
	}
}

// wantScopeChallenge fails the test unless the 403 challenge names the missing scope.
func wantScopeChallenge(t *testing.T, h http.Header, scope string) {
	t.Helper()
	wantChallenge := insufficientScopeChallenge + `, scope="` + scope + `"`
	if got := h.Get("WWW-Authenticate"); got != wantChallenge {
		t.Errorf("WWW-Authenticate = %q, want %q", got, wantChallenge)
	}
}

// mint creates a token that never expires with the given scopes.
func mint(t *testing.T, c *sdk.ClientWithResponses, name string, scopes ...string) *sdk.IssuedToken {
	t.Helper()
	return mintReq(t, c, sdk.CreateTokenRequest{Name: name, Scopes: scopes})
}

func mintReq(t *testing.T, c *sdk.ClientWithResponses, req sdk.CreateTokenRequest) *sdk.IssuedToken {
	t.Helper()
	res, err := c.CreateTokenWithResponse(context.Background(), req)
	want(t, res, err, http.StatusCreated)
	return res.JSON201
}

func ptr[T any](v T) *T { return &v }

func rfc3339(t time.Time) *string { return ptr(t.UTC().Format(time.RFC3339)) }
