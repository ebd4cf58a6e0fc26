package sdk_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tooken/tooken/internal/testclock"
	"github.com/tooken/tooken/sdk"
)

// fakeTime is the injected clock and timer of the rotating credential: the credential's waits only
// end when the test moves the clock to their deadline.
type fakeTime struct {
	clock *testclock.Clock

	mu     sync.Mutex
	timers []fakeTimer
	asked  []time.Time // every deadline the credential waited for
}

type fakeTimer struct {
	at time.Time
	ch chan time.Time
}

func newFakeTime(start time.Time) *fakeTime { return &fakeTime{clock: testclock.New(start)} }

func (f *fakeTime) Now() time.Time { return f.clock.Now() }

func (f *fakeTime) After(d time.Duration) <-chan time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan time.Time, 1)
	at := f.clock.Now().Add(d)
	f.asked = append(f.asked, at)
	if d <= 0 {
		ch <- at
		return ch
	}
	f.timers = append(f.timers, fakeTimer{at, ch})
	return ch
}

// parked waits until the credential's goroutine waits on a timer (it is then idle) and returns the
// earliest deadline.
func (f *fakeTime) parked(t *testing.T) time.Time {
	t.Helper()
	var at time.Time
	waitFor(t, "the credential to wait on its timer", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		for i, tm := range f.timers {
			if i == 0 || tm.at.Before(at) {
				at = tm.at
			}
		}
		return len(f.timers) > 0
	})
	return at
}

// fireNext moves the clock to the credential's next deadline and fires it.
func (f *fakeTime) fireNext(t *testing.T) time.Time {
	t.Helper()
	at := f.parked(t)
	f.set(at)
	return at
}

// set moves the clock to at (never back) and fires every timer due by then.
func (f *fakeTime) set(at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if at.After(f.clock.Now()) {
		f.clock.Set(at)
	}
	now := f.clock.Now()
	keep := f.timers[:0]
	for _, tm := range f.timers {
		if tm.at.After(now) {
			keep = append(keep, tm)
		} else {
			tm.ch <- now
		}
	}
	f.timers = keep
}

func (f *fakeTime) deadlines() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.asked...)
}

// waitFor polls cond (1 ms apart, for at most 10 s of real time).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// claims reads a JWT's sub, iat and exp without verifying it.
type claims struct {
	Sub string `json:"sub"`
	Iat int64  `json:"iat"`
	Exp int64  `json:"exp"`
}

func parseClaims(t testing.TB, value string) claims {
	t.Helper()
	c, err := readClaims(value)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func readClaims(value string) (claims, error) {
	var c claims
	parts := strings.Split(value, ".")
	if len(parts) != 3 {
		return c, fmt.Errorf("not a JWT: %d parts", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	return c, err
}

func (c claims) iat() time.Time { return time.Unix(c.Iat, 0) }
func (c claims) exp() time.Time { return time.Unix(c.Exp, 0) }

// mint makes an unsigned JWT with the given claims (the credential never verifies signatures).
func mint(claims map[string]any) string {
	b, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"ES256","typ":"at+jwt"}`)) + "." + enc(b) + ".c2ln"
}

// recorder collects what the credential reports.
type recorder struct {
	mu      sync.Mutex
	errs    []error
	rotated []string
	stored  []string
}

func (r *recorder) onError(err error) { r.mu.Lock(); r.errs = append(r.errs, err); r.mu.Unlock() }
func (r *recorder) onRotate(v string) { r.mu.Lock(); r.rotated = append(r.rotated, v); r.mu.Unlock() }

func (r *recorder) errors() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.errs...)
}

func (r *recorder) values() (rotated, stored []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.rotated...), append([]string(nil), r.stored...)
}

// liveCheck is the transport under the credential's RoundTripper: it records every bearer value
// sent, and each one that had lapsed by the shared clock.
type liveCheck struct {
	now  func() time.Time
	base http.RoundTripper

	mu      sync.Mutex
	sent    []string
	expired int
}

func (l *liveCheck) RoundTrip(req *http.Request) (*http.Response, error) {
	value, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
	c, err := readClaims(value)
	l.mu.Lock()
	if !ok || err != nil || !l.now().Before(c.exp()) {
		l.expired++
	}
	l.sent = append(l.sent, value)
	l.mu.Unlock()
	return l.base.RoundTrip(req)
}

func (l *liveCheck) counts() (sent, expired int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.sent), l.expired
}

// roundTripFunc adapts a function to http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func isRotate(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/rotate")
}

func errorBody(status int, code, msg string) string {
	return fmt.Sprintf(`{"error":%q,"message":%q,"status":%d,"request_id":"req_test"}`, code, msg, status)
}

// fakeAPI answers POST /v1/tokens/{id}/rotate like Tooken does for a token with a rotation period:
// only the current value may rotate; each new value lives period (capped by cap, if set).
type fakeAPI struct {
	ft     *fakeTime
	period time.Duration
	cap    time.Time

	mu      sync.Mutex
	current string
	answers []int         // statuses to answer first, in order
	calls   int           // rotation requests received
	hold    chan struct{} // if set, requests wait for it (or their cancellation)
	held    chan struct{} // closed when a held request arrived
	srv     *httptest.Server
}

func newFakeAPI(t *testing.T, ft *fakeTime) *fakeAPI {
	api := &fakeAPI{ft: ft, period: 600 * time.Second}
	api.current = api.mint(ft.Now())
	api.srv = httptest.NewServer(http.HandlerFunc(api.serve))
	t.Cleanup(api.srv.Close)
	return api
}

func (a *fakeAPI) mint(now time.Time) string {
	exp := now.Add(a.period)
	if !a.cap.IsZero() && a.cap.Before(exp) {
		exp = a.cap
	}
	return mint(map[string]any{"sub": "tok_1", "iat": now.Unix(), "exp": exp.Unix(), "jti": fmt.Sprint(now.UnixNano())})
}

func (a *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if !isRotate(r) || r.URL.Path != "/v1/tokens/tok_1/rotate" {
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, `{}`)
		return
	}
	io.Copy(io.Discard, r.Body) // a read body lets the server notice a cancelled request
	a.mu.Lock()
	a.calls++
	if a.hold != nil {
		hold, held := a.hold, a.held
		a.hold = nil
		a.mu.Unlock()
		close(held)
		select {
		case <-hold:
		case <-r.Context().Done():
			return
		}
		a.mu.Lock()
	}
	defer a.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+a.current {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, errorBody(401, "unauthorized", "invalid credential"))
		return
	}
	if len(a.answers) > 0 {
		status := a.answers[0]
		a.answers = a.answers[1:]
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "30")
		}
		w.WriteHeader(status)
		io.WriteString(w, errorBody(status, "some_error", "try something else"))
		return
	}
	a.current = a.mint(a.ft.Now())
	fmt.Fprintf(w, `{"id":"tok_1","name":"t","token":%q}`, a.current)
}

func (a *fakeAPI) state() (current string, calls int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.current, a.calls
}

func (a *fakeAPI) credential(t *testing.T, rec *recorder, store func(context.Context, string) error, opts ...sdk.RotatingOption) *sdk.RotatingCredential {
	t.Helper()
	if store == nil {
		store = func(_ context.Context, v string) error {
			rec.mu.Lock()
			rec.stored = append(rec.stored, v)
			rec.mu.Unlock()
			return nil
		}
	}
	value, _ := a.state()
	opts = append([]sdk.RotatingOption{sdk.WithRotatingClock(a.ft.Now), sdk.WithRotatingAfter(a.ft.After),
		sdk.WithOnError(rec.onError), sdk.WithOnRotate(rec.onRotate)}, opts...)
	c, err := sdk.NewRotatingCredential(context.Background(), a.srv.URL, value, store, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }
