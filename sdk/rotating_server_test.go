package sdk_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tooken/tooken/cmd/tooken/app"
	"github.com/tooken/tooken/core"
	"github.com/tooken/tooken/sdk"
)

// server is a real Tooken (SQLite in a temporary directory) sharing its clock with the credential,
// and a token created with rotation_period 600 s through the generated SDK.
type server struct {
	url   string
	ft    *fakeTime
	admin *sdk.ClientWithResponses
	token sdk.IssuedToken
}

func startServer(t *testing.T) *server {
	t.Helper()
	ft := newFakeTime(time.Now().Truncate(time.Second))
	ctx, cancel := context.WithCancel(context.Background())
	m, err := app.Listen(ctx, app.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Migrate: true, Clock: ft.clock,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	ran := make(chan error, 1)
	go func() { ran <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-ran; err != nil {
			t.Error(err)
		}
		m.Close()
	})
	b, err := m.Service.Bootstrap(ctx, core.BootstrapInput{Email: "ops@example.com", Workspace: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := sdk.New(m.URL, b.APIKey)
	if err != nil {
		t.Fatal(err)
	}
	period := int64(600)
	res, err := admin.CreateTokenWithResponse(ctx, sdk.CreateTokenRequest{Name: "billing", Scopes: []string{"tokens:read"}, RotationPeriod: &period})
	if err != nil || res.JSON201 == nil {
		t.Fatalf("creating the token: %v %s", err, res.Body)
	}
	if c := parseClaims(t, res.JSON201.Token); c.exp().Sub(c.iat()) != 600*time.Second {
		t.Fatalf("the value lives %v, want the rotation period", c.exp().Sub(c.iat()))
	}
	return &server{url: m.URL, ft: ft, admin: admin, token: *res.JSON201}
}

// credential starts a rotating credential for the server's token, recording what it reports.
func (s *server) credential(t *testing.T, rec *recorder, opts ...sdk.RotatingOption) *sdk.RotatingCredential {
	t.Helper()
	store := func(_ context.Context, v string) error {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		rec.stored = append(rec.stored, v)
		return nil
	}
	opts = append([]sdk.RotatingOption{sdk.WithRotatingClock(s.ft.Now), sdk.WithRotatingAfter(s.ft.After),
		sdk.WithOnError(rec.onError), sdk.WithOnRotate(rec.onRotate)}, opts...)
	c, err := sdk.NewRotatingCredential(context.Background(), s.url, s.token.Token, store, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// client is a generated SDK client authenticated by c, with check under it.
func (s *server) client(t *testing.T, c *sdk.RotatingCredential) (*sdk.ClientWithResponses, *liveCheck) {
	t.Helper()
	check := &liveCheck{now: s.ft.Now, base: http.DefaultTransport}
	api, err := sdk.NewClientWithResponses(s.url, sdk.WithHTTPClient(&http.Client{Transport: c.RoundTripper(check)}))
	if err != nil {
		t.Fatal(err)
	}
	return api, check
}

func listTokens(t *testing.T, api *sdk.ClientWithResponses) {
	t.Helper()
	res, err := api.ListTokensWithResponse(context.Background(), nil)
	if err != nil || res.StatusCode() != http.StatusOK {
		t.Fatalf("GET /v1/tokens: %v %s", err, res.Body)
	}
}

func TestRotatingCredentialKeepsARealTokenLive(t *testing.T) {
	s := startServer(t)
	rec := &recorder{}
	c := s.credential(t, rec)
	api, check := s.client(t, c)
	prev := parseClaims(t, s.token.Token)
	const rotations = 5
	for i := range rotations {
		listTokens(t, api)
		at := s.ft.parked(t)
		if want := prev.iat().Add(400 * time.Second); !at.Equal(want) {
			t.Fatalf("rotation %d planned at %v, want %v (2/3 of the value's life)", i, at, want)
		}
		s.ft.set(at.Add(-time.Second)) // just before it: the value is still used
		listTokens(t, api)
		s.ft.fireNext(t)
		s.ft.parked(t) // rotated and stored, waiting for the next one
		next := parseClaims(t, c.Current())
		if !next.iat().Equal(at) || !next.exp().Equal(at.Add(600*time.Second)) || !at.Before(prev.exp()) {
			t.Fatalf("rotation %d: new value %v–%v at %v; previous value lapsed at %v", i, next.iat(), next.exp(), at, prev.exp())
		}
		listTokens(t, api)
		prev = next
	}
	rotated, stored := rec.values()
	if len(rotated) != rotations || strings.Join(stored, " ") != strings.Join(rotated, " ") {
		t.Fatalf("%d rotations, store saw %d values: want every new value, in order", len(rotated), len(stored))
	}
	seen := map[string]bool{s.token.Token: true}
	for _, v := range rotated {
		if seen[v] {
			t.Fatal("a rotation returned a value seen before")
		}
		seen[v] = true
	}
	if sent, expired := check.counts(); sent != 3*rotations || expired != 0 {
		t.Fatalf("%d requests, %d with an expired value", sent, expired)
	}
	if errs := rec.errors(); len(errs) > 0 || c.Err() != nil {
		t.Fatalf("errors %v, Err %v", errs, c.Err())
	}
	old, _ := sdk.New(s.url, s.token.Token)
	if res, err := old.ListTokensWithResponse(context.Background(), nil); err != nil || res.StatusCode() != http.StatusUnauthorized {
		t.Fatalf("the first value still works after its rotation: %v %v", err, res.StatusCode())
	}
}

func TestRotatingCredentialSurvivesAFailedRotation(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fail   func(*http.Request) (*http.Response, error)
		status int
	}{
		{"503", func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: http.StatusServiceUnavailable, Header: http.Header{"Retry-After": {"1"}},
				Body: io.NopCloser(strings.NewReader(errorBody(503, "unavailable", "database unreachable"))), Request: r}, nil
		}, 503},
		{"connection error", func(*http.Request) (*http.Response, error) {
			return nil, errors.New("connection reset by peer")
		}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t)
			var once sync.Once
			flaky := roundTripFunc(func(r *http.Request) (*http.Response, error) {
				failed := false
				if isRotate(r) {
					once.Do(func() { failed = true })
				}
				if failed {
					return tc.fail(r)
				}
				return http.DefaultTransport.RoundTrip(r)
			})
			rec := &recorder{}
			c := s.credential(t, rec, sdk.WithRotatingHTTPClient(&http.Client{Transport: flaky}))
			api, check := s.client(t, c)
			at := s.ft.fireNext(t)
			retry := s.ft.parked(t)
			var re *sdk.RotationError
			if errs := rec.errors(); len(errs) != 1 || !errors.As(errs[0], &re) || re.StatusCode != tc.status || re.Permanent() {
				t.Fatalf("errors %v, want one transient failure with status %d", errs, tc.status)
			}
			if d := retry.Sub(at); d <= 0 || d > time.Second {
				t.Fatalf("retry %v after the failure, want within the first backoff (1 s)", d)
			}
			listTokens(t, api) // the current value still works meanwhile
			s.ft.fireNext(t)
			s.ft.parked(t)
			rotated, stored := rec.values()
			if len(rotated) != 1 || len(stored) != 1 || c.Current() != rotated[0] || c.Err() != nil {
				t.Fatalf("after the retry: %d rotations, %d stored, Err %v", len(rotated), len(stored), c.Err())
			}
			listTokens(t, api)
			if _, expired := check.counts(); expired != 0 {
				t.Fatal("a request carried an expired value")
			}
		})
	}
}

func TestRotatingCredentialRequestsWaitForTheRotationInFlight(t *testing.T) {
	s := startServer(t)
	answered, release := make(chan struct{}), make(chan struct{})
	slow := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		res, err := http.DefaultTransport.RoundTrip(r)
		if isRotate(r) {
			close(answered) // the server has rotated; the answer is late
			<-release
		}
		return res, err
	})
	rec := &recorder{}
	c := s.credential(t, rec, sdk.WithRotatingHTTPClient(&http.Client{Transport: slow}))
	api, check := s.client(t, c)
	s.ft.fireNext(t)
	<-answered
	first := parseClaims(t, s.token.Token)
	s.ft.set(first.exp().Add(time.Second)) // the old value lapses while the answer is on its way

	done := make(chan error, 1)
	go func() {
		res, err := api.ListTokensWithResponse(context.Background(), nil)
		if err == nil && res.StatusCode() != http.StatusOK {
			err = errors.New(res.Status())
		}
		done <- err
	}()
	time.Sleep(10 * time.Millisecond) // let the request reach its wait (the test passes either way)
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("GET /v1/tokens across the rotation: %v", err)
	}
	if sent, expired := check.counts(); sent != 1 || expired != 0 || check.sent[0] != c.Current() {
		t.Fatalf("%d requests, %d with an expired value: want one, with the new value", sent, expired)
	}
}

func TestRotatingCredentialStopsWhenTheTokenIsRevoked(t *testing.T) {
	s := startServer(t)
	rec := &recorder{}
	c := s.credential(t, rec)
	api, check := s.client(t, c)
	listTokens(t, api)
	res, err := s.admin.RevokeTokenWithResponse(context.Background(), s.token.Id)
	if err != nil || res.StatusCode() != http.StatusNoContent {
		t.Fatalf("revoking: %v %v", err, res.StatusCode())
	}
	s.ft.fireNext(t)
	waitFor(t, "rotation to stop", func() bool { return c.Err() != nil })
	var re *sdk.RotationError
	if !errors.As(c.Err(), &re) || !re.Permanent() || (re.StatusCode != 401 && re.StatusCode != 409) || re.RequestID == "" {
		t.Fatalf("Err = %v, want the server's permanent refusal", c.Err())
	}
	closed := make(chan struct{})
	go func() { c.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
	if errs := rec.errors(); len(errs) != 1 || errs[0] != c.Err() {
		t.Fatalf("errors %v: want the permanent error reported once", errs)
	}
	s.ft.set(parseClaims(t, s.token.Token).exp())
	_, err = api.ListTokensWithResponse(context.Background(), nil)
	if !errors.Is(err, sdk.ErrCredentialExpired) || !strings.Contains(err.Error(), "rotation had stopped") {
		t.Fatalf("request after the value lapsed: err = %v", err)
	}
	if sent, _ := check.counts(); sent != 1 {
		t.Fatalf("%d requests sent, want only the one before the revocation", sent)
	}
}
