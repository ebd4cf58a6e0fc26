package e2e

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/tooken/tooken/cmd/tooken/app"
)

// verdict is the answer of POST /v1/tokens/verify.
type verdict struct {
	Valid bool            `json:"valid"`
	Code  string          `json:"code"`
	Token json.RawMessage `json:"token"`
}

func (s *server) verify(t *testing.T, body any) verdict {
	t.Helper()
	var v verdict
	s.do(t, "POST", "/v1/tokens/verify", "", body).want(t, http.StatusOK).decode(t, &v)
	return v
}

// TestVerifyEndpointGivesEachVerdictWithoutACredential checks POST /v1/tokens/verify, which needs no
// credential: VALID (with the token, never its value), INSUFFICIENT_SCOPE, REVOKED for a rotated-out
// and for a revoked value, INVALID for junk, 400 for a missing token; a valid check sets last_used_at.
func TestVerifyEndpointGivesEachVerdictWithoutACredential(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(c *app.Config) { c.UsageFlush = 10 * time.Millisecond })
	ws := s.bootstrap(t, "Acme")
	tok := s.createToken(t, ws.APIKey, map[string]any{"name": "web", "scopes": []string{"tokens:read", "audit:read"}})

	s.Clock.Advance(time.Minute)
	v := s.verify(t, map[string]any{"token": tok.Token})
	var got map[string]any
	if err := json.Unmarshal(v.Token, &got); err != nil || !v.Valid || v.Code != "VALID" || got["id"] != tok.ID {
		t.Fatalf("verify = %+v, want VALID with token %s", v, tok.ID)
	}
	if _, leaked := got["token"]; leaked {
		t.Error("verify returned the token value")
	}
	requireLastUsed(t, s, ws, tok.ID, t0.Add(time.Minute))

	if v := s.verify(t, map[string]any{"token": tok.Token, "scopes": []string{"tokens:read", "audit:read"}}); v.Code != "VALID" {
		t.Errorf("verify with held scopes = %+v, want VALID", v)
	}
	if v := s.verify(t, map[string]any{"token": tok.Token, "scopes": []string{"tokens:write"}}); v.Valid || v.Code != "INSUFFICIENT_SCOPE" {
		t.Errorf("verify requiring tokens:write = %+v, want INSUFFICIENT_SCOPE", v)
	}

	next := s.rotate(t, ws.APIKey, tok.ID, nil)
	if v := s.verify(t, map[string]any{"token": tok.Token}); v.Valid || v.Code != "REVOKED" {
		t.Errorf("verify of a rotated-out value = %+v, want REVOKED", v)
	}
	s.do(t, "DELETE", "/v1/tokens/"+tok.ID, ws.APIKey, nil).want(t, http.StatusNoContent)
	if v := s.verify(t, map[string]any{"token": next.Token}); v.Valid || v.Code != "REVOKED" {
		t.Errorf("verify of a revoked token = %+v, want REVOKED", v)
	}
	for _, junk := range []string{"x", "a.b.c", tok.Token + "x"} {
		if v := s.verify(t, map[string]any{"token": junk}); v.Valid || v.Code != "INVALID" || len(v.Token) > 0 && string(v.Token) != "null" {
			t.Errorf("verify of %q = %+v, want INVALID without a token", junk, v)
		}
	}
	for _, body := range []string{`{}`, `{"token": ""}`, `{"token": 5}`, `{"token":`} {
		requireError(t, s.do(t, "POST", "/v1/tokens/verify", "", body), http.StatusBadRequest, "bad_request", "")
	}
}

// requireLastUsed waits (bounded) for the usage flusher to record last_used_at = want on token id;
// the flush is a background write, so this polls rather than asserting on timing.
func requireLastUsed(t *testing.T, s *server, ws workspace, id string, want time.Time) {
	t.Helper()
	var got *string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got = s.getToken(t, ws.APIKey, id).LastUsedAt; got != nil && *got == rfc3339(want) {
			return
		}
	}
	t.Errorf("last_used_at = %v, want %s", deref(got), rfc3339(want))
}

func deref(p *string) string {
	if p == nil {
		return "null"
	}
	return *p
}

// TestAuthenticatedUseSetsLastUsedAt checks that a token's successful API call records last_used_at
// at the (test clock's) time of use.
func TestAuthenticatedUseSetsLastUsedAt(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(c *app.Config) { c.UsageFlush = 10 * time.Millisecond })
	ws := s.bootstrap(t, "Acme")
	tok := s.createToken(t, ws.APIKey, map[string]any{"name": "web", "scopes": []string{"tokens:read"}})
	if tok.LastUsedAt != nil {
		t.Fatalf("a new token has last_used_at %s", *tok.LastUsedAt)
	}
	s.Clock.Advance(3 * time.Minute)
	s.do(t, "GET", "/v1/tokens", tok.Token, nil).want(t, http.StatusOK)
	requireLastUsed(t, s, ws, tok.ID, t0.Add(3*time.Minute))
}
