package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// apiKeyJSON is the API's key object (secret included when issued).
type apiKeyJSON struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	Role      string `json:"role"`
	Last4     string `json:"last4"`
	CreatedBy string `json:"created_by"`
	Key       string `json:"key"`
}

// TestAPIKeyRegenerationAndDeletionKillTheOldSecretAtOnce creates a team admin key, regenerates it
// (same id, new secret; the old one is 401 at once) and deletes it (401 at once).
func TestAPIKeyRegenerationAndDeletionKillTheOldSecretAtOnce(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ws := s.bootstrap(t, "Acme")
	var k apiKeyJSON
	s.do(t, "POST", "/v1/api-keys", ws.APIKey, map[string]any{"name": "ci", "kind": "team", "role": "admin"}).
		want(t, http.StatusCreated).decode(t, &k)
	if !strings.HasPrefix(k.Key, "tok_live_") || k.Last4 != k.Key[len(k.Key)-4:] || k.Role != "admin" || k.CreatedBy != ws.Email {
		t.Fatalf("created key = %+v", k)
	}
	s.do(t, "GET", "/v1/tokens", k.Key, nil).want(t, http.StatusOK)

	var regen apiKeyJSON
	s.do(t, "POST", "/v1/api-keys/"+k.ID+"/regenerate", ws.APIKey, nil).want(t, http.StatusOK).decode(t, &regen)
	if regen.ID != k.ID || regen.Key == k.Key || regen.Name != k.Name || regen.Role != "admin" {
		t.Fatalf("regenerated key = %+v (was %+v)", regen, k)
	}
	requireError(t, s.do(t, "GET", "/v1/tokens", k.Key, nil), http.StatusUnauthorized, "unauthorized", msgInvalidAPIKey)
	s.do(t, "GET", "/v1/tokens", regen.Key, nil).want(t, http.StatusOK)

	s.do(t, "DELETE", "/v1/api-keys/"+k.ID, ws.APIKey, nil).want(t, http.StatusNoContent)
	requireError(t, s.do(t, "GET", "/v1/tokens", regen.Key, nil), http.StatusUnauthorized, "unauthorized", msgInvalidAPIKey)
	requireError(t, s.do(t, "DELETE", "/v1/api-keys/"+k.ID, ws.APIKey, nil), http.StatusNotFound, "not_found", k.ID)

	var actions []string
	for _, e := range s.audit(t, ws, "target_id="+k.ID).Data {
		actions = append(actions, e.Action)
	}
	if strings.Join(actions, ",") != "api_key.deleted,api_key.regenerated,api_key.created" {
		t.Errorf("audit of the key = %v", actions)
	}
	for _, e := range s.audit(t, ws, "").Data {
		if strings.Contains(e.Target.Name+e.Actor.ID+e.Target.ID, k.Key) || strings.Contains(e.Target.Name+e.Actor.ID, regen.Key) {
			t.Errorf("an audit event contains an API key secret: %+v", e)
		}
	}
}

// TestOnlyOwnersManageAPIKeysAndAdminsMintTokens checks roles: an admin team key mints tokens
// (accountable to the member who created the key) but may not manage API keys; a token may never
// manage API keys, whatever its scopes.
func TestOnlyOwnersManageAPIKeysAndAdminsMintTokens(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ws := s.bootstrap(t, "Acme")
	var admin apiKeyJSON
	s.do(t, "POST", "/v1/api-keys", ws.APIKey, map[string]any{"name": "ci", "kind": "team"}).
		want(t, http.StatusCreated).decode(t, &admin)
	if admin.Role != "admin" {
		t.Errorf("a team key without a role has role %q, want admin", admin.Role)
	}
	tok := s.createToken(t, admin.Key, map[string]any{"name": "by-admin", "scopes": []string{"tokens:read", "tokens:write", "tokens:revoke", "tokens:rotate"}})
	if tok.CreatedBy != ws.Email {
		t.Errorf("created_by = %q, want the email of the member who created the key (%s)", tok.CreatedBy, ws.Email)
	}
	before := s.snapshot(t, ws)
	for name, cred := range map[string]string{"admin key": admin.Key, "token": tok.Token} {
		for _, r := range []*response{
			s.do(t, "GET", "/v1/api-keys", cred, nil),
			s.do(t, "POST", "/v1/api-keys", cred, map[string]any{"name": "sneaky", "kind": "team", "role": "owner"}),
			s.do(t, "POST", "/v1/api-keys/"+admin.ID+"/regenerate", cred, nil),
			s.do(t, "DELETE", "/v1/api-keys/"+admin.ID, cred, nil),
		} {
			if r.Status != http.StatusForbidden {
				t.Errorf("%s: %v; want 403", name, r)
			} else {
				requireError(t, r, http.StatusForbidden, "forbidden", "")
			}
		}
	}
	s.requireUnchanged(t, ws, before)
	s.do(t, "GET", "/v1/tokens", admin.Key, nil).want(t, http.StatusOK)
}
