package contract

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/tooken/tooken/sdk"
)

// wantRateLimited checks a 429 answer's headers: Retry-After in whole seconds and the quota, spent.
func wantRateLimited(t *testing.T, resp *http.Response, err error, limit int) {
	t.Helper()
	wantHTTP(t, resp, err, http.StatusTooManyRequests)
	h := resp.Header
	if n, err := strconv.Atoi(h.Get("Retry-After")); err != nil || n < 1 {
		t.Errorf("Retry-After = %q, want a positive number of seconds", h.Get("Retry-After"))
	}
	wantQuota(t, h, limit, 0)
}

// wantQuota checks the X-RateLimit-* headers.
func wantQuota(t *testing.T, h http.Header, limit, remaining int) {
	t.Helper()
	if got := h.Get("X-RateLimit-Limit"); got != strconv.Itoa(limit) {
		t.Errorf("X-RateLimit-Limit = %q, want %d", got, limit)
	}
	if got := h.Get("X-RateLimit-Remaining"); got != strconv.Itoa(remaining) {
		t.Errorf("X-RateLimit-Remaining = %q, want %d", got, remaining)
	}
	reset, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
	if now := time.Now().Unix(); err != nil || reset < now || reset > now+120 {
		t.Errorf("X-RateLimit-Reset = %q, want a Unix time within the next window", h.Get("X-RateLimit-Reset"))
	}
}

func TestWorkspaceOverItsRateLimitGets429OnEveryOperation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{RateLimit: 2})
	ws := e.bootstrap(t, "Acme")
	ctx := t.Context()
	for remaining := 1; remaining >= 0; remaining-- {
		res, err := ws.Owner.GetWorkspaceWithResponse(ctx)
		want(t, res, err, http.StatusOK)
		wantQuota(t, res.HTTPResponse.Header, 2, remaining)
	}
	ops := authenticatedOperations("tok_any0000000000000000000", "key_any0000000000000000000", "kid_any")
	requireOperationsFor(t, ops, http.StatusTooManyRequests)
	for _, op := range ops {
		resp, err := op.call(ctx, ws.Owner)
		wantRateLimited(t, resp, err, 2)
	}
	// The limit is per workspace.
	other := e.bootstrap(t, "Globex")
	res, err := other.Owner.GetWorkspaceWithResponse(ctx)
	want(t, res, err, http.StatusOK)
}

func TestVerifyOverThePerIPLimitGets429(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{IPRateLimit: 1})
	anon := e.client(t, "")
	ctx := t.Context()
	res, err := anon.VerifyTokenWithResponse(ctx, sdk.VerifyRequest{Token: "not-a-jwt"})
	want(t, res, err, http.StatusOK)
	wantQuota(t, res.HTTPResponse.Header, 1, 0)
	resp, err := anon.VerifyToken(ctx, sdk.VerifyRequest{Token: "not-a-jwt"})
	wantRateLimited(t, resp, err, 1)
}

func TestRepeatedAuthenticationFailuresFromAnIPGet429EvenWithAValidKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{AuthFailureLimit: 1})
	ws := e.bootstrap(t, "Acme")
	ctx := t.Context()
	bad, err := e.client(t, "garbage").GetWorkspaceWithResponse(ctx)
	want(t, bad, err, http.StatusUnauthorized)
	ops := authenticatedOperations("tok_any0000000000000000000", "key_any0000000000000000000", "kid_any")
	for _, op := range ops {
		resp, err := op.call(ctx, ws.Owner)
		wantRateLimited(t, resp, err, 1)
	}
}

// The spec's description: "Every /v1 response carries X-RateLimit-Limit, X-RateLimit-Remaining and
// X-RateLimit-Reset"; unauthenticated, they describe the client IP's quota.
func TestRefusedCredentialsStillGetRateLimitHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{AuthFailureLimit: 5})
	res, err := e.client(t, "garbage").GetWorkspaceWithResponse(t.Context())
	want(t, res, err, http.StatusUnauthorized)
	for _, h := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} {
		if res.HTTPResponse.Header.Get(h) == "" {
			t.Errorf("401 from /v1/workspace lacks %s", h)
		}
	}
}
