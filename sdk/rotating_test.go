package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tooken/tooken/sdk"
)

var t0 = time.Unix(1_900_000_000, 0)

func TestNewRotatingCredentialRefusesUnusableValues(t *testing.T) {
	ft := newFakeTime(t0)
	live := mint(map[string]any{"sub": "tok_1", "iat": t0.Unix(), "exp": t0.Unix() + 600})
	for _, tc := range []struct {
		name, url, value string
		opts             []sdk.RotatingOption
		is               error
		says             string
	}{
		{"no exp", "http://x", mint(map[string]any{"sub": "tok_1", "iat": t0.Unix()}), nil, sdk.ErrNoExpiry, "never expires"},
		{"expired", "http://x", mint(map[string]any{"sub": "tok_1", "iat": t0.Unix() - 600, "exp": t0.Unix()}), nil, sdk.ErrCredentialExpired, "expired at"},
		{"not a JWT", "http://x", "secret-api-key", nil, nil, "not a JWT"},
		{"bad claims", "http://x", "a.secret!.c", nil, nil, "not base64url"},
		{"no sub", "http://x", mint(map[string]any{"exp": t0.Unix() + 60}), nil, nil, "no sub"},
		{"bad URL", "localhost:8080", live, nil, nil, "not an absolute http(s) URL"},
		{"bad grace", "http://x", live, []sdk.RotatingOption{sdk.WithGracePeriod(-1)}, nil, "grace period"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := append([]sdk.RotatingOption{sdk.WithRotatingClock(ft.Now)}, tc.opts...)
			c, err := sdk.NewRotatingCredential(context.Background(), tc.url, tc.value, nil, opts...)
			if err == nil {
				c.Close()
				t.Fatal("accepted")
			}
			if (tc.is != nil && !errors.Is(err, tc.is)) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("err = %v, want %v saying %q", err, tc.is, tc.says)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("the error echoes the value: %v", err)
			}
		})
	}
}

func TestRotatingCredentialRotatesAtTwoThirdsOfEachLife(t *testing.T) {
	ft := newFakeTime(t0)
	api := newFakeAPI(t, ft)
	rec := &recorder{}
	c := api.credential(t, rec, nil)
	want := t0.Add(400 * time.Second)
	for i := range 3 {
		if at := ft.fireNext(t); !at.Equal(want) {
			t.Fatalf("rotation %d at %v, want %v (2/3 of the value's life)", i, at, want)
		}
		ft.parked(t)
		current, calls := api.state()
		if c.Current() != current || calls != i+1 {
			t.Fatalf("after rotation %d: credential and server disagree (calls %d)", i, calls)
		}
		want = want.Add(400 * time.Second)
	}
	rotated, stored := rec.values()
	if len(rotated) != 3 || fmt.Sprint(rotated) != fmt.Sprint(stored) {
		t.Fatalf("rotated %d values, stored %d, want the same 3 in order", len(rotated), len(stored))
	}
	if errs := rec.errors(); len(errs) > 0 || c.Err() != nil {
		t.Fatalf("errors %v, Err %v", errs, c.Err())
	}
}

func TestRotatingCredentialKeepsANewValueItCouldNotStore(t *testing.T) {
	ft := newFakeTime(t0)
	api := newFakeAPI(t, ft)
	rec := &recorder{}
	var calls []string
	store := func(_ context.Context, v string) error {
		calls = append(calls, v) // only the credential's goroutine calls store
		if len(calls) == 1 {
			return errors.New("secret manager unavailable")
		}
		return nil
	}
	c := api.credential(t, rec, store)
	ft.fireNext(t)
	ft.parked(t)
	current, _ := api.state()
	if c.Current() != current {
		t.Fatal("the credential does not use the new value after store failed")
	}
	if errs := rec.errors(); len(errs) != 1 || !errors.Is(errs[0], sdk.ErrStore) || !strings.Contains(errs[0].Error(), "unavailable") {
		t.Fatalf("errors = %v, want one ErrStore", errs)
	}
	ft.fireNext(t) // the store retry comes before the next rotation
	ft.parked(t)
	if _, n := api.state(); n != 1 || len(calls) != 2 || calls[1] != current {
		t.Fatalf("store calls %d, rotations %d: want the same value stored again before rotating", len(calls), n)
	}
}

func TestRotatingCredentialBacksOffButNeverPastTheValuesExpiry(t *testing.T) {
	ft := newFakeTime(t0)
	api := newFakeAPI(t, ft)
	api.answers = make([]int, 100)
	for i := range api.answers {
		api.answers[i] = http.StatusServiceUnavailable
	}
	rec := &recorder{}
	c := api.credential(t, rec, nil)
	exp := t0.Add(600 * time.Second)
	for n := 1; c.Err() == nil; n++ {
		ft.fireNext(t)
		waitFor(t, "the attempt to end", func() bool {
			_, calls := api.state()
			return calls == n && (c.Err() != nil || len(rec.errors()) == n)
		})
	}
	c.Close()
	_, calls := api.state()
	deadlines := ft.deadlines()
	for i, at := range deadlines {
		if !at.Before(exp) {
			t.Fatalf("wait %d ends at %v, not before the value's exp %v", i, at, exp)
		}
	}
	gaps := []time.Duration{}
	for i := 1; i < len(deadlines); i++ {
		gaps = append(gaps, deadlines[i].Sub(deadlines[i-1]))
	}
	t.Logf("%d attempts, waits %v", calls, gaps)
	if calls < 6 || gaps[2] <= gaps[0] || gaps[0] > time.Second {
		t.Fatalf("%d attempts with gaps %v: want growing waits from 1 s", calls, gaps)
	}
	var re *sdk.RotationError
	if err := c.Err(); !errors.Is(err, sdk.ErrCredentialExpired) || !errors.As(err, &re) || re.StatusCode != 503 || re.Permanent() {
		t.Fatalf("Err = %v, want ErrCredentialExpired wrapping the last 503", err)
	}
	if errs := rec.errors(); len(errs) != calls+1 {
		t.Fatalf("%d errors reported for %d attempts, want each attempt and the end", len(errs), calls)
	}
	ft.set(exp)
	_, err := (&http.Client{Transport: c.RoundTripper(nil)}).Get(api.srv.URL + "/v1/tokens")
	if !errors.Is(err, sdk.ErrCredentialExpired) {
		t.Fatalf("request with a lapsed value: err = %v", err)
	}
}

func TestRotatingCredentialHonoursRetryAfter(t *testing.T) {
	ft := newFakeTime(t0)
	api := newFakeAPI(t, ft)
	api.answers = []int{http.StatusTooManyRequests}
	c := api.credential(t, &recorder{}, nil)
	at := ft.fireNext(t)
	if next := ft.parked(t); next.Sub(at) < 30*time.Second {
		t.Fatalf("retry after %v, want at least Retry-After (30 s)", next.Sub(at))
	}
	ft.fireNext(t)
	ft.parked(t)
	if current, calls := api.state(); calls != 2 || c.Current() != current {
		t.Fatal("the retry did not rotate")
	}
}

func TestRotatingCredentialStopsOnPermanentErrors(t *testing.T) {
	for _, status := range []int{http.StatusUnauthorized, http.StatusConflict, http.StatusUnprocessableEntity} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			ft := newFakeTime(t0)
			api := newFakeAPI(t, ft)
			api.answers = []int{status}
			rec := &recorder{}
			c := api.credential(t, rec, nil)
			before := c.Current()
			ft.fireNext(t)
			waitFor(t, "rotation to stop", func() bool { return c.Err() != nil })
			var re *sdk.RotationError
			if !errors.As(c.Err(), &re) || re.StatusCode != status || !re.Permanent() || re.Code != "some_error" || re.RequestID != "req_test" {
				t.Fatalf("Err = %#v", c.Err())
			}
			c.Close()
			if _, calls := api.state(); calls != 1 || len(rec.errors()) != 1 || c.Current() != before {
				t.Fatalf("%d attempts, errors %v: want one attempt reported once", calls, rec.errors())
			}
		})
	}
}

func TestRotatingCredentialStopsWhenRotationNoLongerExtendsTheValue(t *testing.T) {
	ft := newFakeTime(t0)
	api := newFakeAPI(t, ft)
	api.cap = t0.Add(700 * time.Second) // the token's expires_at
	rec := &recorder{}
	c := api.credential(t, rec, nil)
	ft.fireNext(t) // at 400 s: exp 700 s, later than 600 s
	ft.fireNext(t) // at 600 s: exp still 700 s
	waitFor(t, "rotation to stop", func() bool { return c.Err() != nil })
	if !errors.Is(c.Err(), sdk.ErrFinalValue) {
		t.Fatalf("Err = %v, want ErrFinalValue", c.Err())
	}
	c.Close()
	current, calls := api.state()
	rotated, stored := rec.values()
	if calls != 2 || c.Current() != current || len(stored) != 2 || stored[1] != current || len(rotated) != 2 {
		t.Fatalf("calls %d, stored %d: the final value must still be used and stored", calls, len(stored))
	}
}

func TestRotatingCredentialCloseAbortsARotationInFlight(t *testing.T) {
	ft := newFakeTime(t0)
	api := newFakeAPI(t, ft)
	api.hold, api.held = make(chan struct{}), make(chan struct{})
	rec := &recorder{}
	c := api.credential(t, rec, nil)
	ft.fireNext(t)
	<-api.held
	closed := make(chan struct{})
	go func() { c.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return while a rotation was in flight")
	}
	c.Close() // idempotent
	if errs := rec.errors(); len(errs) > 0 || c.Err() != nil {
		t.Fatalf("Close reported %v / %v", errs, c.Err())
	}
}

func TestRoundTripperWaitsForTheRotationInFlightWithinTheRequestContext(t *testing.T) {
	ft := newFakeTime(t0)
	api := newFakeAPI(t, ft)
	hold := make(chan struct{})
	api.hold, api.held = hold, make(chan struct{})
	c := api.credential(t, &recorder{}, nil)
	check := &liveCheck{now: ft.Now, base: http.DefaultTransport}
	client := &http.Client{Transport: c.RoundTripper(check)}
	ft.fireNext(t)
	<-api.held
	ft.set(t0.Add(601 * time.Second)) // the old value lapses while the rotation is in flight

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, api.srv.URL+"/v1/tokens", nil)
	if _, err := client.Do(req); !errors.Is(err, sdk.ErrCredentialExpired) || !errors.Is(err, context.Canceled) ||
		!strings.Contains(err.Error(), "waiting for the rotation in flight") {
		t.Fatalf("err = %v, want a wait for the rotation cut short by the request context", err)
	}

	done := make(chan error, 1)
	go func() {
		res, err := client.Get(api.srv.URL + "/v1/tokens")
		if err == nil {
			res.Body.Close()
		}
		done <- err
	}()
	time.Sleep(10 * time.Millisecond) // let the request reach its wait (it passes either way)
	close(hold)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	current, _ := api.state()
	if sent, expired := check.counts(); sent != 1 || expired != 0 || check.sent[0] != current {
		t.Fatalf("sent %d requests, %d with an expired value; want one with the new value", sent, expired)
	}
}

func TestRoundTripperSendsAClone(t *testing.T) {
	ft := newFakeTime(t0)
	api := newFakeAPI(t, ft)
	c := api.credential(t, &recorder{}, nil)
	var got string
	rt := c.RoundTripper(roundTripFunc(func(r *http.Request) (*http.Response, error) {
		got = r.Header.Get("Authorization")
		return &http.Response{StatusCode: 200, Body: http.NoBody, Request: r}, nil
	}))
	req, _ := http.NewRequest(http.MethodGet, "http://example.test/v1/tokens", nil)
	req.Header.Set("Authorization", "Bearer other")
	if _, err := rt.RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	if got != "Bearer "+c.Current() || req.Header.Get("Authorization") != "Bearer other" {
		t.Fatal("the request was not cloned with the current value")
	}

	c.Close()
	ft.set(t0.Add(600 * time.Second))
	body := &closeRecorder{Reader: strings.NewReader("{}")}
	req, _ = http.NewRequest(http.MethodPost, "http://example.test/v1/tokens", body)
	if _, err := rt.RoundTrip(req); !errors.Is(err, sdk.ErrCredentialExpired) || !body.closed {
		t.Fatalf("lapsed value: err = %v, body closed %v", err, body.closed)
	}
}
