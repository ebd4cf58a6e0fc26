package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tooken/tooken/adapters/jwks"
	"github.com/tooken/tooken/adapters/postgres/postgrestest"
	"github.com/tooken/tooken/cmd/tooken/app"
	"github.com/tooken/tooken/core"
	"github.com/tooken/tooken/internal/testclock"
)

// t0 is where every test clock starts: whole seconds, so RFC 3339 times round-trip exactly.
var t0 = time.Date(2030, time.March, 4, 5, 6, 7, 0, time.UTC)

// Challenges the API must send (spec section 2).
const (
	challengeInvalidToken = `Bearer realm="tooken", error="invalid_token"`
	msgInvalidAPIKey      = "Invalid or missing API key"
)

// server is a running Tooken reached over real HTTP.
type server struct {
	URL     string
	Service *core.Service
	Clock   *testclock.Clock
	client  *http.Client
	cfg     app.Config
}

// workspace is a bootstrapped workspace and its owner API key.
type workspace struct {
	ID     string
	Email  string
	APIKey string
}

// startServer runs the real server (app.Listen + Run) on 127.0.0.1:0 against a fresh PostgreSQL
// database, with a test clock stopped at t0; options adjust the configuration. Everything is shut down
// when the test ends.
func startServer(t *testing.T, options ...func(*app.Config)) *server {
	t.Helper()
	dbURL := postgrestest.NewDatabase(t) // registered first, so the database is dropped last
	clock := testclock.New(t0)
	cfg := app.Config{
		Addr: "127.0.0.1:0", DatabaseURL: dbURL, MasterKey: jwks.GenerateMasterKey(), Migrate: true,
		Clock: clock, Logger: testLogger(t),
		// The hostile-input tests send dozens of bad credentials from one IP on purpose.
		AuthFailureLimit: 10_000,
	}
	for _, o := range options {
		o(&cfg)
	}
	m, err := app.Listen(context.Background(), cfg)
	if err != nil {
		t.Fatalf("app.Listen: %v", err)
	}
	s := run(t, m, clock)
	s.cfg = cfg
	t.Cleanup(func() { collectAuditEvents(t, dbURL) }) // runs before the shutdown and the drop
	return s
}

// replica starts another server on the same database, master key and clock, as a second replica of a
// scaled-out installation would run.
func (s *server) replica(t *testing.T) *server {
	t.Helper()
	cfg := s.cfg
	// Replicas share one public URL (a load balancer's), so one issuer; here, the first server's URL.
	cfg.Addr, cfg.Migrate, cfg.PublicURL = "127.0.0.1:0", false, s.URL
	m, err := app.Listen(context.Background(), cfg)
	if err != nil {
		t.Fatalf("app.Listen (replica): %v", err)
	}
	r := run(t, m, s.Clock)
	r.cfg = cfg
	return r
}

// run serves m until the test ends and returns a client for it.
func run(t *testing.T, m *app.Main, clock *testclock.Clock) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	s := &server{URL: m.URL, Service: m.Service, Clock: clock,
		client: &http.Client{Timeout: 30 * time.Second, Transport: http.DefaultTransport.(*http.Transport).Clone()}}
	t.Cleanup(func() {
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
	return s
}

// testLogger logs at debug level: every line is kept for the secret-hygiene check, and warnings and
// errors also go to the test log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(&testWriter{t: t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct {
	mu sync.Mutex
	t  *testing.T
}

func (w *testWriter) Write(p []byte) (int, error) {
	line := strings.TrimRight(string(p), "\n")
	recordLogLine(line)
	if strings.Contains(line, "level=DEBUG") || strings.Contains(line, "level=INFO") {
		return len(p), nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.t.Logf("server: %s", line)
	return len(p), nil
}

// bootstrap creates a workspace with an owner API key, as `tooken bootstrap` does.
func (s *server) bootstrap(t *testing.T, name string) workspace {
	t.Helper()
	email := strings.ToLower(name) + "-owner@example.com"
	b, err := s.Service.Bootstrap(context.Background(), core.BootstrapInput{Email: email, Workspace: name})
	if err != nil {
		t.Fatalf("Bootstrap: %v", err)
	}
	recordSecret("bootstrap API key", b.APIKey)
	return workspace{ID: b.Workspace.ID, Email: email, APIKey: b.APIKey}
}

// response is an HTTP answer, read in full.
type response struct {
	Method, Path string
	Status       int
	Header       http.Header
	Body         []byte
}

// do sends one request. body is sent as is when it is a string or []byte, else as JSON; credential,
// when not empty, is sent as "Authorization: Bearer <credential>".
func (s *server) do(t *testing.T, method, path, credential string, body any) *response {
	t.Helper()
	h := http.Header{}
	if credential != "" {
		h = bearer(credential)
	}
	return s.doHeader(t, method, path, h, body)
}

// doHeader is do with the request headers given in full.
func (s *server) doHeader(t *testing.T, method, path string, h http.Header, body any) *response {
	t.Helper()
	r, err := s.send(method, path, h, body)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// send is doHeader for any goroutine: it reports failures instead of ending the test.
func (s *server) send(method, path string, h http.Header, body any) (*response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header = h.Clone()
	if rd != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the body: %w", method, path, err)
	}
	if res.StatusCode < 300 {
		recordResponseSecrets(path, raw)
	}
	return &response{Method: method, Path: path, Status: res.StatusCode, Header: res.Header, Body: raw}, nil
}

// bearer returns the headers of a request authenticated with credential.
func bearer(credential string) http.Header {
	return http.Header{"Authorization": {"Bearer " + credential}}
}

func (r *response) String() string {
	return fmt.Sprintf("%s %s → %d %s", r.Method, r.Path, r.Status, r.Body)
}

// want fails the test unless the status is status.
func (r *response) want(t *testing.T, status int) *response {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%v; want status %d", r, status)
	}
	return r
}

// decode unmarshals the body into v.
func (r *response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("%v: body is not the expected JSON: %v", r, err)
	}
}

// tokenJSON is the API's token object (value included when issued).
type tokenJSON struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Token      string   `json:"token"`
	Scopes     []string `json:"scopes"`
	Status     string   `json:"status"`
	CreatedAt  string   `json:"created_at"`
	ExpiresAt  *string  `json:"expires_at"`
	LastUsedAt *string  `json:"last_used_at"`
	CreatedBy  string   `json:"created_by"`
	RevokedAt  *string  `json:"revoked_at"`
	RotatedAt  *string  `json:"rotated_at"`
	Audience   []string `json:"audience"`
	// RotationPeriod is in seconds; null when the token has none.
	RotationPeriod *int64 `json:"rotation_period"`
}

// tokenList is the API's page of tokens.
type tokenList struct {
	Data []tokenJSON `json:"data"`
	Meta listMeta    `json:"meta"`
}

type listMeta struct {
	Page    int `json:"page"`
	PerPage int `json:"per_page"`
	Total   int `json:"total"`
}

// auditList is the API's page of audit events.
type auditList struct {
	Data []struct {
		ID     string `json:"id"`
		Action string `json:"action"`
		Actor  struct {
			Type, ID, Email string
		} `json:"actor"`
		Target struct {
			Type, ID, Name string
		} `json:"target"`
	} `json:"data"`
	Meta listMeta `json:"meta"`
}

// createToken mints a token with credential and returns it with its value (201 required).
func (s *server) createToken(t *testing.T, credential string, req map[string]any) tokenJSON {
	t.Helper()
	var tok tokenJSON
	s.do(t, "POST", "/v1/tokens", credential, req).want(t, http.StatusCreated).decode(t, &tok)
	if !strings.HasPrefix(tok.ID, "tok_") || strings.Count(tok.Token, ".") != 2 {
		t.Fatalf("created token %+v has no id or no JWT value", tok)
	}
	return tok
}

// getToken reads a token with credential (200 required).
func (s *server) getToken(t *testing.T, credential, id string) tokenJSON {
	t.Helper()
	var tok tokenJSON
	s.do(t, "GET", "/v1/tokens/"+id, credential, nil).want(t, http.StatusOK).decode(t, &tok)
	return tok
}

// audit lists the workspace's audit events matching query (e.g. "action=token.revoked").
func (s *server) audit(t *testing.T, ws workspace, query string) auditList {
	t.Helper()
	var l auditList
	s.do(t, "GET", "/v1/audit-logs?per_page=100&"+query, ws.APIKey, nil).want(t, http.StatusOK).decode(t, &l)
	return l
}

// snapshot is how much a workspace holds: what "nothing was written" is checked against.
type snapshot struct{ Tokens, Events int }

func (s *server) snapshot(t *testing.T, ws workspace) snapshot {
	t.Helper()
	var tl tokenList
	s.do(t, "GET", "/v1/tokens?per_page=1", ws.APIKey, nil).want(t, http.StatusOK).decode(t, &tl)
	return snapshot{Tokens: tl.Meta.Total, Events: s.audit(t, ws, "").Meta.Total}
}

// requireUnchanged fails the test if the workspace gained or lost tokens or audit events.
func (s *server) requireUnchanged(t *testing.T, ws workspace, before snapshot) {
	t.Helper()
	if after := s.snapshot(t, ws); after != before {
		t.Errorf("something was written: before %+v, after %+v", before, after)
	}
}

// requireError checks the spec's error answer: the status, the body {error, message, status,
// request_id} (plus optional details) with the given code, a message containing msg, the request id of
// the X-Request-Id header, and the WWW-Authenticate challenge of 401s.
func requireError(t *testing.T, r *response, status int, code, msg string) {
	t.Helper()
	if r.Status != status {
		t.Errorf("%v; want status %d", r, status)
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%v: Content-Type %q, want application/json", r, ct)
	}
	var body map[string]any
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Errorf("%v: error body is not JSON: %v", r, err)
		return
	}
	for k := range body {
		switch k {
		case "error", "message", "status", "request_id", "details":
		default:
			t.Errorf("%v: unexpected field %q in the error body", r, k)
		}
	}
	gotCode, _ := body["error"].(string)
	gotMsg, _ := body["message"].(string)
	gotStatus, _ := body["status"].(float64)
	gotReq, _ := body["request_id"].(string)
	if gotCode != code || int(gotStatus) != status || gotMsg == "" || !strings.Contains(gotMsg, msg) {
		t.Errorf("%v: want error %q, status %d and a message containing %q", r, code, status, msg)
	}
	if gotReq == "" || gotReq != r.Header.Get("X-Request-Id") {
		t.Errorf("%v: request_id %q does not match X-Request-Id %q", r, gotReq, r.Header.Get("X-Request-Id"))
	}
	if status == http.StatusUnauthorized && r.Header.Get("WWW-Authenticate") != challengeInvalidToken {
		t.Errorf("%v: WWW-Authenticate %q, want %q", r, r.Header.Get("WWW-Authenticate"), challengeInvalidToken)
	}
}

// requireInsufficientScope checks a 403 naming the scope the credential lacks, in body and challenge.
func requireInsufficientScope(t *testing.T, r *response, scope string) {
	t.Helper()
	requireError(t, r, http.StatusForbidden, "forbidden", "")
	want := `Bearer realm="tooken", error="insufficient_scope", scope="` + scope + `"`
	if got := r.Header.Get("WWW-Authenticate"); got != want {
		t.Errorf("%v: WWW-Authenticate %q, want %q", r, got, want)
	}
}

// rfc3339 formats t as the API does: UTC, whole seconds.
func rfc3339(t time.Time) string { return t.UTC().Truncate(time.Second).Format(time.RFC3339) }
