package e2e

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"
)

// TestReadOnlyTokenReadsButCannotWriteOrRevokeAndDiesWhenRevoked walks the README quickstart over
// HTTP: a token holding only tokens:read lists and reads, is refused create and revoke with the
// missing scope named, is revoked once (a second revoke is a no-op) and is then refused at once; the
// audit log tells the story.
func TestReadOnlyTokenReadsButCannotWriteOrRevokeAndDiesWhenRevoked(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ws := s.bootstrap(t, "Acme")

	created := s.createToken(t, ws.APIKey, map[string]any{
		"name": "billing-service", "scopes": []string{"tokens:read"}, "expires_at": "2099-01-01T00:00:00Z",
	})
	if created.Status != "active" || !slices.Equal(created.Scopes, []string{"tokens:read"}) ||
		created.CreatedBy != ws.Email || created.ExpiresAt == nil || *created.ExpiresAt != "2099-01-01T00:00:00Z" ||
		created.CreatedAt != rfc3339(t0) || created.RevokedAt != nil {
		t.Fatalf("created token = %+v", created)
	}
	tok := created.Token

	// It can list and get (200), and GET never returns the value.
	var list tokenList
	s.do(t, "GET", "/v1/tokens", tok, nil).want(t, http.StatusOK).decode(t, &list)
	if list.Meta.Total != 1 || len(list.Data) != 1 || list.Data[0].ID != created.ID {
		t.Fatalf("list with the token = %+v", list)
	}
	got := s.do(t, "GET", "/v1/tokens/"+created.ID, tok, nil).want(t, http.StatusOK)
	var raw map[string]json.RawMessage
	got.decode(t, &raw)
	if _, ok := raw["token"]; ok {
		t.Errorf("GET returned the token value: %s", got.Body)
	}

	// It may not create (403 naming tokens:write) or revoke (403 naming tokens:revoke); nothing changes.
	before := s.snapshot(t, ws)
	r := s.do(t, "POST", "/v1/tokens", tok, map[string]any{"name": "sneaky", "scopes": []string{"tokens:read"}})
	requireInsufficientScope(t, r, "tokens:write")
	r = s.do(t, "DELETE", "/v1/tokens/"+created.ID, tok, nil)
	requireInsufficientScope(t, r, "tokens:revoke")
	s.requireUnchanged(t, ws, before)
	if st := s.getToken(t, ws.APIKey, created.ID).Status; st != "active" {
		t.Fatalf("after a refused revoke the token is %q, want active", st)
	}

	// Revoke with the API key: 204, and 204 again with no second audit event.
	s.Clock.Advance(90 * time.Second)
	s.do(t, "DELETE", "/v1/tokens/"+created.ID, ws.APIKey, nil).want(t, http.StatusNoContent)
	s.do(t, "DELETE", "/v1/tokens/"+created.ID, ws.APIKey, nil).want(t, http.StatusNoContent)
	if n := s.audit(t, ws, "action=token.revoked").Meta.Total; n != 1 {
		t.Errorf("%d token.revoked events after revoking twice, want 1", n)
	}

	// The token stops working at once, on every route.
	for _, path := range []string{"/v1/tokens", "/v1/tokens/" + created.ID} {
		requireError(t, s.do(t, "GET", path, tok, nil), http.StatusUnauthorized, "unauthorized", "")
	}
	after := s.getToken(t, ws.APIKey, created.ID)
	if after.Status != "revoked" || after.RevokedAt == nil || *after.RevokedAt != rfc3339(t0.Add(90*time.Second)) {
		t.Errorf("revoked token = %+v, want status revoked, revoked_at %s", after, rfc3339(t0.Add(90*time.Second)))
	}

	// The audit log lists both events, newest first, with the API key as the actor.
	events := s.audit(t, ws, "target_id="+created.ID)
	var actions []string
	for _, e := range events.Data {
		actions = append(actions, e.Action)
		if e.Actor.Type != "api_key" || e.Target.ID != created.ID || e.Target.Name != "billing-service" {
			t.Errorf("audit event %+v: want actor api_key and target %s", e, created.ID)
		}
	}
	if !slices.Equal(actions, []string{"token.revoked", "token.created"}) {
		t.Errorf("audit actions for the token = %v, want [token.revoked token.created]", actions)
	}
}

// TestRevokingAnUnknownTokenIs404AndWritesNothing checks revoke's not-found answer.
func TestRevokingAnUnknownTokenIs404AndWritesNothing(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ws := s.bootstrap(t, "Acme")
	before := s.snapshot(t, ws)
	const id = "tok_doesnotexist0000000000000"
	requireError(t, s.do(t, "DELETE", "/v1/tokens/"+id, ws.APIKey, nil), http.StatusNotFound, "not_found",
		"Token "+id+" not found")
	requireError(t, s.do(t, "GET", "/v1/tokens/"+id, ws.APIKey, nil), http.StatusNotFound, "not_found",
		"Token "+id+" not found")
	s.requireUnchanged(t, ws, before)
}

// TestTokenMetadataAndAudienceRoundTrip checks that metadata comes back as given and that a custom
// audience is kept on the token.
func TestTokenMetadataAndAudienceRoundTrip(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ws := s.bootstrap(t, "Acme")
	md := map[string]any{"team": "billing", "n": 1.5, "nested": map[string]any{"list": []any{"a", 2.0, nil, true}}}
	tok := s.createToken(t, ws.APIKey, map[string]any{"name": "web", "scopes": []string{"tokens:read"},
		"audience": []string{"orders", "payments"}, "metadata": md})
	var got struct {
		Metadata map[string]any `json:"metadata"`
		Audience []string       `json:"audience"`
	}
	s.do(t, "GET", "/v1/tokens/"+tok.ID, ws.APIKey, nil).want(t, http.StatusOK).decode(t, &got)
	want, _ := json.Marshal(md)
	have, _ := json.Marshal(got.Metadata)
	if string(want) != string(have) || !slices.Equal(got.Audience, []string{"orders", "payments"}) {
		t.Errorf("metadata %s audience %v, want %s and [orders payments]", have, got.Audience, want)
	}
}
