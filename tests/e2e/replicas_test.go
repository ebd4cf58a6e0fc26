package e2e

import (
	"net/http"
	"testing"
	"time"
)

// TestRevocationRotationAndKeyDeletionTakeEffectAtOnceOnEveryReplica runs two replicas on one
// PostgreSQL database. Each has already accepted the credentials (so any cache is warm) when the other
// replica revokes the token, rotates another, or deletes an API key: the replica that made the change
// refuses the old credential at once, the other within the propagation bound of 1 s (spec 1.5, 4.4:
// PostgreSQL LISTEN/NOTIFY drives its caches).
func TestRevocationRotationAndKeyDeletionTakeEffectAtOnceOnEveryReplica(t *testing.T) {
	t.Parallel()
	a := startServer(t)
	b := a.replica(t)
	ws := a.bootstrap(t, "Acme")
	revoked := a.createToken(t, ws.APIKey, map[string]any{"name": "revoked", "scopes": []string{"tokens:read"}})
	rotated := a.createToken(t, ws.APIKey, map[string]any{"name": "rotated", "scopes": []string{"tokens:read"}})
	var key struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	a.do(t, "POST", "/v1/api-keys", ws.APIKey, map[string]any{"name": "ci", "kind": "team", "role": "admin"}).
		want(t, http.StatusCreated).decode(t, &key)

	for _, s := range []*server{a, b} { // warm both replicas
		s.do(t, "GET", "/v1/tokens", revoked.Token, nil).want(t, http.StatusOK)
		s.do(t, "GET", "/v1/tokens", rotated.Token, nil).want(t, http.StatusOK)
		s.do(t, "GET", "/v1/tokens", key.Key, nil).want(t, http.StatusOK)
	}

	b.do(t, "DELETE", "/v1/tokens/"+revoked.ID, ws.APIKey, nil).want(t, http.StatusNoContent)
	b.rotate(t, ws.APIKey, rotated.ID, nil)
	b.do(t, "DELETE", "/v1/api-keys/"+key.ID, ws.APIKey, nil).want(t, http.StatusNoContent)

	for name, cred := range map[string]string{"revoked token": revoked.Token, "rotated-out value": rotated.Token, "deleted API key": key.Key} {
		if r := b.do(t, "GET", "/v1/tokens", cred, nil); r.Status != http.StatusUnauthorized {
			t.Errorf("%s on the replica that changed it: GET /v1/tokens → %d; want 401 at once", name, r.Status)
		}
		deadline := time.Now().Add(time.Second)
		for {
			r := a.do(t, "GET", "/v1/tokens", cred, nil)
			if r.Status == http.StatusUnauthorized {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("%s on the other replica: GET /v1/tokens → %d after 1 s; want 401", name, r.Status)
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}
