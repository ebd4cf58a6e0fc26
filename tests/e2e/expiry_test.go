package e2e

import (
	"net/http"
	"testing"
	"time"
)

// TestTokenExpiresAtTheExactInstant moves the test clock to one second before and then exactly to
// expires_at: the token works and reads "active" before, and is refused ("Token has expired") and
// reads "expired" at that instant — both for a value the server has seen (cached) and one it has not.
func TestTokenExpiresAtTheExactInstant(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ws := s.bootstrap(t, "Acme")
	exp := t0.Add(time.Hour)
	req := func(name string) map[string]any {
		return map[string]any{"name": name, "scopes": []string{"tokens:read"}, "expires_at": rfc3339(exp)}
	}
	used := s.createToken(t, ws.APIKey, req("used-before-expiry"))
	// The same instant written with an offset: stored and shown in UTC.
	unseenReq := req("never-used-before-expiry")
	unseenReq["expires_at"] = exp.In(time.FixedZone("", 2*3600)).Format(time.RFC3339)
	unseen := s.createToken(t, ws.APIKey, unseenReq)
	if unseen.ExpiresAt == nil || *unseen.ExpiresAt != rfc3339(exp) {
		t.Fatalf("expires_at given as %s is shown as %v, want %s", unseenReq["expires_at"], unseen.ExpiresAt, rfc3339(exp))
	}
	if used.ExpiresAt == nil || *used.ExpiresAt != rfc3339(exp) {
		t.Fatalf("expires_at = %v, want %s", used.ExpiresAt, rfc3339(exp))
	}
	s.do(t, "GET", "/v1/tokens/"+used.ID, used.Token, nil).want(t, http.StatusOK)

	s.Clock.Set(exp.Add(-time.Second))
	s.do(t, "GET", "/v1/tokens/"+used.ID, used.Token, nil).want(t, http.StatusOK)
	if st := s.getToken(t, ws.APIKey, used.ID).Status; st != "active" {
		t.Errorf("one second before expires_at the status is %q, want active", st)
	}
	requireStatusFilter(t, s, ws, "active", 2)

	s.Clock.Set(exp)
	for _, tok := range []tokenJSON{used, unseen} {
		r := s.do(t, "GET", "/v1/tokens/"+tok.ID, tok.Token, nil)
		requireError(t, r, http.StatusUnauthorized, "unauthorized", "Token has expired")
		if got := s.getToken(t, ws.APIKey, tok.ID).Status; got != "expired" {
			t.Errorf("%s at expires_at: status %q, want expired", tok.Name, got)
		}
	}
	requireStatusFilter(t, s, ws, "expired", 2)
	requireStatusFilter(t, s, ws, "active", 0)

	// The verify endpoint agrees, and expired tokens stay readable and listable.
	var v struct {
		Valid bool   `json:"valid"`
		Code  string `json:"code"`
	}
	s.do(t, "POST", "/v1/tokens/verify", "", map[string]any{"token": used.Token}).want(t, http.StatusOK).decode(t, &v)
	if v.Valid || v.Code != "EXPIRED" {
		t.Errorf("verify at expires_at = %+v, want {false EXPIRED}", v)
	}
	var all tokenList
	s.do(t, "GET", "/v1/tokens", ws.APIKey, nil).want(t, http.StatusOK).decode(t, &all)
	if all.Meta.Total != 2 {
		t.Errorf("list after expiry has %d tokens, want 2", all.Meta.Total)
	}
}

// TestTokenWithoutExpiryNeverExpires checks that a token created without expires_at keeps working
// years later.
func TestTokenWithoutExpiryNeverExpires(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ws := s.bootstrap(t, "Acme")
	tok := s.createToken(t, ws.APIKey, map[string]any{"name": "forever", "scopes": []string{"tokens:read"}})
	if tok.ExpiresAt != nil {
		t.Fatalf("expires_at = %v, want null", *tok.ExpiresAt)
	}
	s.Clock.Advance(10 * 365 * 24 * time.Hour)
	s.do(t, "GET", "/v1/tokens/"+tok.ID, tok.Token, nil).want(t, http.StatusOK)
	if st := s.getToken(t, ws.APIKey, tok.ID).Status; st != "active" {
		t.Errorf("status %q ten years later, want active", st)
	}
}

// requireStatusFilter checks how many tokens GET /v1/tokens?status= returns.
func requireStatusFilter(t *testing.T, s *server, ws workspace, status string, want int) {
	t.Helper()
	var l tokenList
	s.do(t, "GET", "/v1/tokens?status="+status, ws.APIKey, nil).want(t, http.StatusOK).decode(t, &l)
	if l.Meta.Total != want || len(l.Data) != want {
		t.Errorf("status=%s lists %d tokens (total %d), want %d", status, len(l.Data), l.Meta.Total, want)
	}
	for _, tok := range l.Data {
		if tok.Status != status {
			t.Errorf("status=%s lists %s with status %q", status, tok.ID, tok.Status)
		}
	}
}
