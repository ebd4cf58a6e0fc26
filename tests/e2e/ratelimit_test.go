package e2e

import (
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/tooken/tooken/cmd/tooken/app"
)

// TestEveryV1ResponseCarriesRateLimitHeaders checks the README's promise that every /v1 response —
// successes and errors alike — carries X-RateLimit-Limit, -Remaining and -Reset, and that going over
// the limit is 429 with Retry-After and the error body.
func TestEveryV1ResponseCarriesRateLimitHeaders(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ws := s.bootstrap(t, "Acme")
	tok := s.createToken(t, ws.APIKey, map[string]any{"name": "reader", "scopes": []string{"tokens:read"}})
	rs := []*response{
		s.do(t, "GET", "/v1/tokens", ws.APIKey, nil),
		s.do(t, "POST", "/v1/tokens", ws.APIKey, map[string]any{"name": "new", "scopes": []string{"tokens:read"}}),
		s.do(t, "POST", "/v1/tokens", ws.APIKey, `{`),
		s.do(t, "POST", "/v1/tokens", ws.APIKey, map[string]any{"name": "NEW", "scopes": []string{"tokens:read"}}),
		s.do(t, "POST", "/v1/tokens", ws.APIKey, map[string]any{"name": "n", "scopes": []string{"tokens:read"}, "expires_at": "x"}),
		s.do(t, "POST", "/v1/tokens", tok.Token, map[string]any{"name": "n", "scopes": []string{"tokens:read"}}),
		s.do(t, "GET", "/v1/tokens/tok_nope", ws.APIKey, nil),
		s.do(t, "POST", "/v1/tokens/verify", "", map[string]any{"token": tok.Token}),
		s.do(t, "GET", "/v1/tokens", "", nil),
		s.do(t, "GET", "/v1/tokens", "x.y.z", nil),
		s.do(t, "DELETE", "/v1/tokens/"+tok.ID, ws.APIKey, nil),
	}
	wantStatuses := []int{200, 201, 400, 409, 422, 403, 404, 200, 401, 401, 204}
	for i, r := range rs {
		if r.Status != wantStatuses[i] {
			t.Errorf("%v; want %d", r, wantStatuses[i])
		}
		for _, h := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} {
			if _, err := strconv.Atoi(r.Header.Get(h)); err != nil {
				t.Errorf("%s %s → %d: header %s = %q, want an integer", r.Method, r.Path, r.Status, h, r.Header.Get(h))
			}
		}
	}

	limited := startServer(t, func(c *app.Config) { c.RateLimit = 3 })
	lws := limited.bootstrap(t, "Tiny")
	var statuses []int
	var last *response
	for range 4 {
		last = limited.do(t, "GET", "/v1/tokens", lws.APIKey, nil)
		statuses = append(statuses, last.Status)
	}
	if !slices.Equal(statuses, []int{200, 200, 200, 429}) {
		t.Fatalf("statuses with a limit of 3/min = %v, want [200 200 200 429]", statuses)
	}
	requireError(t, last, http.StatusTooManyRequests, "rate_limited", "")
	if ra, err := strconv.Atoi(last.Header.Get("Retry-After")); err != nil || ra < 1 {
		t.Errorf("429 Retry-After = %q, want a positive number of seconds", last.Header.Get("Retry-After"))
	}
	if last.Header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("429 X-RateLimit-Remaining = %q, want 0", last.Header.Get("X-RateLimit-Remaining"))
	}
}
