package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// RotatingCredential keeps a token that was created with a rotation_period alive: it rotates the
// token's value unattended at about 2/3 of each value's life (a token may always rotate itself),
// hands each new value to a store callback (a file, a secret manager…) and exposes the current value
// to an http.RoundTripper, so that a client always sends a live value.
//
// Failed attempts are retried with exponential backoff and jitter (1 s doubling to 1 min, honouring
// Retry-After), never past the value's exp. A 4xx answer other than 408/429 (401: the value was
// revoked or rotated by someone else; 409: the token is revoked) is permanent: rotation stops.
type RotatingCredential struct {
	cfg    rotatingConfig
	client *Client
	store  func(context.Context, string) error

	mu       sync.Mutex
	cur      tokenValue
	inflight chan struct{} // non-nil while a rotation request is in flight; closed when it ends
	stopErr  error         // why rotation stopped

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

// NewRotatingCredential starts rotating value, a token value (JWT) of the Tooken API at baseURL.
// The value's claims are read without verification (the server verifies it): sub names the token,
// iat and exp its life. A value without exp is refused with ErrNoExpiry, an expired one with
// ErrCredentialExpired.
//
// store receives each new value, in order, with ctx's values; if it fails, the credential keeps and
// uses the new value, reports the error through WithOnError and calls store again later (with the
// newest value: a value rotated out before it could be stored is skipped). store may be nil.
//
// The background goroutine runs until Close; ctx's cancellation does not stop it.
func NewRotatingCredential(ctx context.Context, baseURL, value string, store func(ctx context.Context, newValue string) error, opts ...RotatingOption) (*RotatingCredential, error) {
	cfg := defaultRotatingConfig()
	for _, o := range opts {
		o(&cfg)
	}
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("sdk: base URL %q is not an absolute http(s) URL", baseURL)
	}
	if cfg.grace != nil && (*cfg.grace < 0 || *cfg.grace > 86400) {
		return nil, fmt.Errorf("sdk: grace period %d s is outside 0–86400", *cfg.grace)
	}
	now := cfg.now()
	cur, err := parseTokenValue(value, now)
	if err != nil {
		return nil, err
	}
	if !now.Before(cur.exp) {
		return nil, fmt.Errorf("%w: the value expired at %s", ErrCredentialExpired, cur.exp.UTC().Format(time.RFC3339))
	}
	client, err := NewClient(baseURL, WithHTTPClient(cfg.client))
	if err != nil {
		return nil, fmt.Errorf("sdk: %w", err)
	}
	if store == nil {
		store = func(context.Context, string) error { return nil }
	}
	c := &RotatingCredential{cfg: cfg, client: client, store: store, cur: cur, done: make(chan struct{})}
	c.ctx, c.cancel = context.WithCancel(context.WithoutCancel(ctx))
	go c.run()
	return c, nil
}

// Current returns the current value. It may have lapsed if rotation failed; RoundTripper never sends
// a lapsed value.
func (c *RotatingCredential) Current() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur.raw
}

// Err returns why rotation stopped: a permanent *RotationError, ErrCredentialExpired (every retry
// failed before the value lapsed) or ErrFinalValue. It is nil while rotation runs, and when Close
// stopped it.
func (c *RotatingCredential) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopErr
}

// Close stops the background goroutine (aborting a rotation in flight) and waits for it to end; a new
// value that store has not accepted yet gets one last store call first. The current value stays
// readable and usable through RoundTripper until it lapses. Close is idempotent.
func (c *RotatingCredential) Close() error {
	c.cancel()
	<-c.done
	return nil
}

// RoundTripper returns a transport that sends each request through base (http.DefaultTransport if
// nil), on a clone of it, with "Authorization: Bearer <current value>". When the current value has
// lapsed and a rotation is in flight, it waits for it, as long as the request's context allows; when
// no live value is available it fails with ErrCredentialExpired and sends nothing.
//
//	httpClient := &http.Client{Transport: cred.RoundTripper(nil)}
//	c, err := sdk.NewClientWithResponses(baseURL, sdk.WithHTTPClient(httpClient))
func (c *RotatingCredential) RoundTripper(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &rotatingTransport{c: c, base: base}
}

type rotatingTransport struct {
	c    *RotatingCredential
	base http.RoundTripper
}

func (t *rotatingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	value, err := t.c.live(req.Context())
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+value)
	return t.base.RoundTrip(r)
}

// live returns a value that has not lapsed, waiting for a rotation in flight if it must.
func (c *RotatingCredential) live(ctx context.Context) (string, error) {
	for {
		c.mu.Lock()
		cur, inflight, stopErr := c.cur, c.inflight, c.stopErr
		c.mu.Unlock()
		if c.cfg.now().Before(cur.exp) {
			return cur.raw, nil
		}
		switch {
		case inflight != nil:
		case errors.Is(stopErr, ErrCredentialExpired):
			return "", stopErr
		case stopErr != nil:
			return "", fmt.Errorf("%w: the value lapsed at %s and rotation had stopped: %w", ErrCredentialExpired, stamp(cur.exp), stopErr)
		default:
			return "", fmt.Errorf("%w: the value lapsed at %s", ErrCredentialExpired, stamp(cur.exp))
		}
		select {
		case <-inflight:
		case <-ctx.Done():
			return "", fmt.Errorf("%w: waiting for the rotation in flight: %w", ErrCredentialExpired, ctx.Err())
		}
	}
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// rotationState is the background goroutine's own state.
type rotationState struct {
	next          time.Time // when to rotate next; zero once rotation has stopped
	failures      int       // consecutive failed attempts
	lastErr       error
	pending       string // the newest value, not stored yet
	storeAt       time.Time
	storeFailures int
}

// run rotates, stores and waits, in turn, until rotation has stopped and nothing is left to store,
// or until Close.
func (c *RotatingCredential) run() {
	defer close(c.done)
	st := rotationState{next: c.cur.rotateAt()}
	for c.ctx.Err() == nil && (!st.next.IsZero() || st.pending != "") {
		now := c.cfg.now()
		if st.pending != "" && !now.Before(st.storeAt) {
			c.persist(&st)
			continue
		}
		if !st.next.IsZero() && !now.Before(st.next) {
			c.rotate(&st, now)
			continue
		}
		wake := st.next
		if st.pending != "" && (wake.IsZero() || st.storeAt.Before(wake)) {
			wake = st.storeAt
		}
		select {
		case <-c.ctx.Done():
		case <-c.cfg.after(wake.Sub(now)):
		}
	}
	if st.pending != "" && c.ctx.Err() != nil {
		// Closing with a value not stored yet: one last try, or the holder may be locked out later.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), c.cfg.timeout)
		defer cancel()
		if err := c.store(ctx, st.pending); err != nil {
			c.cfg.onError(fmt.Errorf("%w: %w", ErrStore, err))
		}
	}
}

// rotate makes one attempt and decides what comes next: the next rotation, a retry, or the end.
func (c *RotatingCredential) rotate(st *rotationState, now time.Time) {
	c.mu.Lock()
	cur := c.cur
	if !now.Before(cur.exp) {
		c.stopErr = fmt.Errorf("%w: the value lapsed at %s before it could be rotated", ErrCredentialExpired, stamp(cur.exp))
		if st.lastErr != nil {
			c.stopErr = fmt.Errorf("%w (last attempt: %w)", c.stopErr, st.lastErr)
		}
		c.mu.Unlock()
		st.next = time.Time{}
		c.cfg.onError(c.Err())
		return
	}
	done := make(chan struct{})
	c.inflight = done
	c.mu.Unlock()

	next, err := c.request(cur)
	var stop error
	switch {
	case err == nil: // even when closing: the old value may be dead already
		st.failures, st.lastErr = 0, nil
		st.pending, st.storeAt, st.storeFailures = next.raw, now, 0
		st.next = next.rotateAt()
		if !next.exp.After(cur.exp) {
			st.next, stop = time.Time{}, ErrFinalValue
		}
	case c.ctx.Err() != nil: // aborted by Close: nothing to report
		st.next, err = time.Time{}, nil
	default:
		st.failures++
		st.lastErr = err
		if delay, ok := c.retryDelay(st.failures, err, cur.exp); ok {
			st.next = c.cfg.now().Add(delay)
		} else {
			st.next, stop = time.Time{}, err
			if re := (*RotationError)(nil); !errors.As(err, &re) || !re.Permanent() {
				stop = fmt.Errorf("%w: the value lapses at %s, too soon for another attempt: %w", ErrCredentialExpired, stamp(cur.exp), err)
			}
		}
	}

	c.mu.Lock()
	if next.raw != "" {
		c.cur = next
	}
	c.stopErr = stop
	c.inflight = nil
	close(done)
	c.mu.Unlock()

	if next.raw != "" {
		c.cfg.onRotate(next.raw)
	}
	if err != nil && err != stop {
		c.cfg.onError(err)
	}
	if stop != nil {
		c.cfg.onError(stop)
	}
}

// retryDelay is the wait before retry number n after err, or false when the error is permanent or
// no retry fits before exp. Near exp the wait halves what is left, down to half the minimum backoff.
func (c *RotatingCredential) retryDelay(n int, err error, exp time.Time) (time.Duration, bool) {
	d := c.cfg.backoff(n, jitter)
	var re *RotationError
	if errors.As(err, &re) {
		if re.Permanent() {
			return 0, false
		}
		d = max(d, re.RetryAfter)
	}
	if left := exp.Sub(c.cfg.now()); d >= left {
		d = left / 2
	}
	return d, d >= c.cfg.backoffMin/2
}

func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d)
}

// persist hands the pending value to store, scheduling another try if it fails.
func (c *RotatingCredential) persist(st *rotationState) {
	err := c.store(c.ctx, st.pending)
	if err != nil && c.ctx.Err() != nil {
		return // closing: run makes one last try
	}
	if err != nil {
		st.storeFailures++
		st.storeAt = c.cfg.now().Add(c.cfg.backoff(st.storeFailures, jitter))
		c.cfg.onError(fmt.Errorf("%w: %w", ErrStore, err))
		return
	}
	st.pending, st.storeFailures = "", 0
}

// request sends one rotation request authenticated with cur and reads the new value.
func (c *RotatingCredential) request(cur tokenValue) (tokenValue, error) {
	ctx, cancel := context.WithTimeout(c.ctx, c.cfg.timeout)
	defer cancel()
	bearer := func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+cur.raw)
		return nil
	}
	res, err := c.client.RotateToken(ctx, cur.id, RotateTokenRequest{GracePeriod: c.cfg.grace}, bearer)
	if err != nil {
		return tokenValue{}, &RotationError{Err: err}
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if res.StatusCode != http.StatusOK {
		re := &RotationError{StatusCode: res.StatusCode, RetryAfter: retryAfter(res.Header.Get("Retry-After"))}
		var e Error
		if err == nil && json.Unmarshal(body, &e) == nil {
			re.Code, re.Message, re.RequestID = string(e.Error), e.Message, e.RequestId
		}
		return tokenValue{}, re
	}
	if err != nil {
		return tokenValue{}, &RotationError{StatusCode: res.StatusCode, Err: fmt.Errorf("reading the response: %w", err)}
	}
	var it IssuedToken
	if err := json.Unmarshal(body, &it); err != nil {
		return tokenValue{}, &RotationError{StatusCode: res.StatusCode, Err: errors.New("the response is not an issued token")}
	}
	next, err := parseTokenValue(it.Token, c.cfg.now())
	if err == nil && next.id != cur.id {
		err = errors.New("the new value names another token")
	}
	if err != nil {
		return tokenValue{}, &RotationError{StatusCode: res.StatusCode, Err: fmt.Errorf("the new value: %w", err)}
	}
	return next, nil
}

// retryAfter reads a Retry-After header in seconds (the form the Tooken API sends).
func retryAfter(h string) time.Duration {
	if s, err := strconv.Atoi(h); err == nil && s > 0 {
		return time.Duration(min(s, 3600)) * time.Second
	}
	return 0
}
