package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestCreateTokenRejectsBadInputWithTheDocumentedErrorAndWritesNothing sends malformed and
// rule-breaking create requests: each gets its documented status and error body, and afterwards the
// workspace holds exactly the tokens and audit events it held before.
func TestCreateTokenRejectsBadInputWithTheDocumentedErrorAndWritesNothing(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ws := s.bootstrap(t, "Acme")
	s.createToken(t, ws.APIKey, map[string]any{"name": "Billing-Service", "scopes": []string{"tokens:read"}})
	revoked := s.createToken(t, ws.APIKey, map[string]any{"name": "old-worker", "scopes": []string{"tokens:read"}})
	s.do(t, "DELETE", "/v1/tokens/"+revoked.ID, ws.APIKey, nil).want(t, http.StatusNoContent)
	before := s.snapshot(t, ws)

	long := strings.Repeat("n", 101)
	cases := []struct {
		name   string
		body   string
		status int
		code   string
		msg    string
	}{
		{"malformed JSON", `{"name": "x", "scopes": [`, 400, "bad_request", ""},
		{"not JSON at all", `name=x&scopes=tokens:read`, 400, "bad_request", ""},
		{"empty body", ``, 400, "bad_request", ""},
		{"JSON array instead of an object", `[{"name": "x"}]`, 400, "bad_request", ""},
		{"name of the wrong type", `{"name": 5, "scopes": ["tokens:read"]}`, 400, "bad_request", ""},
		{"scopes of the wrong type", `{"name": "x", "scopes": "tokens:read"}`, 400, "bad_request", ""},
		{"expires_at of the wrong type", `{"name": "x", "scopes": ["tokens:read"], "expires_at": 1893456000}`, 400, "bad_request", ""},
		{"missing name", `{"scopes": ["tokens:read"]}`, 400, "bad_request", "name"},
		{"blank name", `{"name": "   ", "scopes": ["tokens:read"]}`, 400, "bad_request", "name"},
		{"101-character name", `{"name": "` + long + `", "scopes": ["tokens:read"]}`, 400, "bad_request", "100"},
		{"101-character multibyte name", `{"name": "` + strings.Repeat("é", 101) + `", "scopes": ["tokens:read"]}`, 400, "bad_request", "100"},
		{"duplicate name differing in case", `{"name": "billing-SERVICE", "scopes": ["tokens:read"]}`, 409, "conflict", ""},
		{"duplicate of a revoked token's name", `{"name": "OLD-WORKER", "scopes": ["tokens:read"]}`, 409, "conflict", ""},
		{"missing scopes", `{"name": "x"}`, 400, "bad_request", "scope"},
		{"empty scopes", `{"name": "x", "scopes": []}`, 400, "bad_request", "scope"},
		{"unknown scope", `{"name": "x", "scopes": ["tokens:read", "tokens:admin"]}`, 400, "bad_request", "tokens:admin"},
		{"custom-looking scope", `{"name": "x", "scopes": ["orders:read"]}`, 400, "bad_request", "orders:read"},
		{"expires_at in the past", `{"name": "x", "scopes": ["tokens:read"], "expires_at": "` + rfc3339(t0.Add(-time.Second)) + `"}`, 422, "unprocessable_entity", "expires_at"},
		{"expires_at exactly now", `{"name": "x", "scopes": ["tokens:read"], "expires_at": "` + rfc3339(t0) + `"}`, 422, "unprocessable_entity", "expires_at"},
		{"unparseable expires_at", `{"name": "x", "scopes": ["tokens:read"], "expires_at": "next tuesday"}`, 422, "unprocessable_entity", "expires_at"},
		{"date-only expires_at", `{"name": "x", "scopes": ["tokens:read"], "expires_at": "2099-01-01"}`, 422, "unprocessable_entity", "expires_at"},
		{"metadata that is not an object", `{"name": "x", "scopes": ["tokens:read"], "metadata": [1, 2]}`, 400, "bad_request", ""},
		{"metadata over 4 KiB", `{"name": "x", "scopes": ["tokens:read"], "metadata": {"k": "` + strings.Repeat("m", 5000) + `"}}`, 400, "bad_request", "metadata"},
		{"empty audience entry", `{"name": "x", "scopes": ["tokens:read"], "audience": [""]}`, 400, "bad_request", "audience"},
		{"body over 1 MiB", `{"name": "x", "scopes": ["tokens:read"], "metadata": {"k": "` + strings.Repeat("a", 1<<20) + `"}}`, 413, "payload_too_large", "exceeds"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := s.do(t, "POST", "/v1/tokens", ws.APIKey, c.body)
			requireError(t, r, c.status, c.code, c.msg)
		})
	}
	s.requireUnchanged(t, ws, before)

	// The bounds themselves are accepted: a 100-character name, expires_at one second from now.
	s.createToken(t, ws.APIKey, map[string]any{"name": strings.Repeat("n", 100), "scopes": []string{"tokens:read"},
		"expires_at": rfc3339(t0.Add(time.Second))})
}

// TestListQueriesRejectOutOfRangeParameters checks paging and filter validation on the list routes.
func TestListQueriesRejectOutOfRangeParameters(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ws := s.bootstrap(t, "Acme")
	s.createToken(t, ws.APIKey, map[string]any{"name": "web", "scopes": []string{"tokens:read"}})
	before := s.snapshot(t, ws)

	for _, q := range []string{
		"/v1/tokens?per_page=0", "/v1/tokens?per_page=101", "/v1/tokens?per_page=-1", "/v1/tokens?per_page=ten",
		"/v1/tokens?page=0", "/v1/tokens?page=x", "/v1/tokens?status=bogus", "/v1/tokens?status=ACTIVE",
		"/v1/tokens?name=" + strings.Repeat("n", 101),
		"/v1/audit-logs?per_page=0", "/v1/audit-logs?per_page=101", "/v1/audit-logs?since=yesterday",
		"/v1/audit-logs?until=2030-13-01T00:00:00Z",
	} {
		requireError(t, s.do(t, "GET", q, ws.APIKey, nil), http.StatusBadRequest, "bad_request", "")
	}
	s.requireUnchanged(t, ws, before)

	// The bounds are accepted.
	for _, q := range []string{"/v1/tokens?per_page=1", "/v1/tokens?per_page=100&page=1", "/v1/tokens?status=revoked",
		"/v1/audit-logs?per_page=100&since=" + rfc3339(t0)} {
		s.do(t, "GET", q, ws.APIKey, nil).want(t, http.StatusOK)
	}
}

// TestUnknownRoutesAnswerWithTheErrorBody checks that even the router's own failures use the spec's
// error body.
func TestUnknownRoutesAnswerWithTheErrorBody(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ws := s.bootstrap(t, "Acme")
	requireError(t, s.do(t, "GET", "/v1/nope", ws.APIKey, nil), http.StatusNotFound, "not_found", "")
	requireError(t, s.do(t, "GET", "/nope", "", nil), http.StatusNotFound, "not_found", "")
}
