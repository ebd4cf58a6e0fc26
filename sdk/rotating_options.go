package sdk

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"
)

// Errors of the rotating credential, usable with errors.Is. They never contain a token value.
var (
	// ErrNoExpiry: the value has no exp claim. It never lapses, so there is nothing to rotate; use it
	// with New directly (or create the token with a rotation_period).
	ErrNoExpiry = errors.New("sdk: token value has no exp claim: it never expires and needs no rotation")
	// ErrCredentialExpired: no live value is available — the value lapsed before a rotation could
	// replace it. RoundTripper returns it instead of sending an expired value.
	ErrCredentialExpired = errors.New("sdk: rotating credential has no live token value")
	// ErrFinalValue: a rotation did not extend the value's exp (the token's own expires_at caps it),
	// so rotation stops; the current value stays usable until it lapses.
	ErrFinalValue = errors.New("sdk: rotation no longer extends the token value's expiry (the token's expires_at is near)")
	// ErrStore: the store callback failed; the new value is kept in memory and stored again later.
	ErrStore = errors.New("sdk: storing the new token value failed")
)

// RotationError is a failed rotation request, reported through WithOnError.
type RotationError struct {
	StatusCode int           // the HTTP status; 0 when the request got no response
	Code       string        // the API's error code, e.g. "unauthorized" (when the body had one)
	Message    string        // the API's message
	RequestID  string        // the API's request id, for support
	RetryAfter time.Duration // the server's Retry-After, if any
	Err        error         // the transport or decoding error, if any
}

func (e *RotationError) Error() string {
	switch {
	case e.StatusCode == 0:
		return fmt.Sprintf("sdk: rotating the token: %v", e.Err)
	case e.Message != "":
		return fmt.Sprintf("sdk: rotating the token: %d %s: %s (request %s)", e.StatusCode, e.Code, e.Message, e.RequestID)
	case e.Err != nil:
		return fmt.Sprintf("sdk: rotating the token: status %d: %v", e.StatusCode, e.Err)
	}
	return fmt.Sprintf("sdk: rotating the token: status %d", e.StatusCode)
}

func (e *RotationError) Unwrap() error { return e.Err }

// Permanent reports whether retrying cannot help: the server answered with a 4xx status other than
// 408 and 429 — 401 (the value was revoked or rotated elsewhere), 409 (the token is revoked or
// expired), 404, 422 (the workspace policy refuses the rotation)…
func (e *RotationError) Permanent() bool {
	return e.StatusCode >= 400 && e.StatusCode < 500 &&
		e.StatusCode != http.StatusRequestTimeout && e.StatusCode != http.StatusTooManyRequests
}

// RotatingOption configures a RotatingCredential.
type RotatingOption func(*rotatingConfig)

type rotatingConfig struct {
	client     HttpRequestDoer
	now        func() time.Time
	after      func(time.Duration) <-chan time.Time
	grace      *int
	onError    func(error)
	onRotate   func(string)
	backoffMin time.Duration
	backoffMax time.Duration
	timeout    time.Duration
}

func defaultRotatingConfig() rotatingConfig {
	return rotatingConfig{
		client:     &http.Client{},
		now:        time.Now,
		after:      time.After,
		onError:    func(error) {},
		onRotate:   func(string) {},
		backoffMin: time.Second,
		backoffMax: time.Minute,
		timeout:    30 * time.Second,
	}
}

// WithRotatingHTTPClient sets the client that sends the rotation requests (default: a new
// http.Client). Do not give it the credential's own RoundTripper.
func WithRotatingHTTPClient(c *http.Client) RotatingOption {
	return func(cfg *rotatingConfig) {
		if c != nil {
			cfg.client = c
		}
	}
}

// WithRotatingClock replaces time.Now for every decision about the value's life: when to rotate,
// when a retry is too late, whether RoundTripper's value has lapsed. Meant for tests, with
// WithRotatingAfter.
func WithRotatingClock(now func() time.Time) RotatingOption {
	return func(cfg *rotatingConfig) {
		if now != nil {
			cfg.now = now
		}
	}
}

// WithRotatingAfter replaces time.After for every wait of the background goroutine (until the next
// rotation, between retries), so tests can drive time with the clock of WithRotatingClock.
func WithRotatingAfter(after func(d time.Duration) <-chan time.Time) RotatingOption {
	return func(cfg *rotatingConfig) {
		if after != nil {
			cfg.after = after
		}
	}
}

// WithGracePeriod asks the server to keep each rotated-out value valid for seconds more (0–86400;
// default 0: it dies at once). A few seconds cover requests already in flight with the old value.
func WithGracePeriod(seconds int) RotatingOption {
	return func(cfg *rotatingConfig) { cfg.grace = &seconds }
}

// WithOnError is called, from the background goroutine, with every failure: each failed rotation
// attempt (a *RotationError), each failed store (wrapping ErrStore), and finally the reason rotation
// stopped, if it does (a permanent *RotationError, ErrCredentialExpired or ErrFinalValue). It must
// not block for long.
func WithOnError(f func(error)) RotatingOption {
	return func(cfg *rotatingConfig) {
		if f != nil {
			cfg.onError = f
		}
	}
}

// WithOnRotate is called, from the background goroutine, with each new value as soon as the
// credential uses it (before it is stored). It must not block for long.
func WithOnRotate(f func(newValue string)) RotatingOption {
	return func(cfg *rotatingConfig) {
		if f != nil {
			cfg.onRotate = f
		}
	}
}

// backoff is the wait before retry number n (1, 2, …): exponential from backoffMin, capped at
// backoffMax, with jitter in [d/2, d).
func (cfg *rotatingConfig) backoff(n int, jitter func(time.Duration) time.Duration) time.Duration {
	d := cfg.backoffMax
	if n < 30 {
		d = min(time.Duration(float64(cfg.backoffMin)*math.Pow(2, float64(n-1))), cfg.backoffMax)
	}
	return d/2 + jitter(d/2)
}

// tokenValue is a token value with the claims the credential needs, read without verification:
// the server verifies the value; the client only needs to know when it lapses.
type tokenValue struct {
	raw      string
	id       string // sub: the token id
	iat, exp time.Time
}

// rotateAt is when the value should be replaced: at 2/3 of its life.
func (v tokenValue) rotateAt() time.Time { return v.iat.Add(v.exp.Sub(v.iat) * 2 / 3) }

// parseTokenValue reads sub, iat and exp from a JWT's claims without verifying its signature. A
// missing iat counts from now.
func parseTokenValue(raw string, now time.Time) (tokenValue, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return tokenValue{}, errors.New("sdk: the token value is not a JWT (want three dot-separated parts)")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return tokenValue{}, errors.New("sdk: the token value's claims are not base64url")
	}
	var c struct {
		Sub string   `json:"sub"`
		Iat *float64 `json:"iat"`
		Exp *float64 `json:"exp"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return tokenValue{}, errors.New("sdk: the token value's claims are not a JSON object")
	}
	if c.Sub == "" {
		return tokenValue{}, errors.New("sdk: the token value has no sub claim (the token id)")
	}
	if c.Exp == nil {
		return tokenValue{}, ErrNoExpiry
	}
	v := tokenValue{raw: raw, id: c.Sub, iat: now, exp: unixTime(*c.Exp)}
	if c.Iat != nil {
		v.iat = unixTime(*c.Iat)
	}
	if !v.iat.Before(v.exp) {
		return tokenValue{}, errors.New("sdk: the token value's iat is not before its exp")
	}
	return v, nil
}

func unixTime(f float64) time.Time {
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9))
}
