package e2e

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

// rotate rotates id with credential (200 required) and returns the token with its new value.
func (s *server) rotate(t *testing.T, credential, id string, body any) tokenJSON {
	t.Helper()
	var tok tokenJSON
	s.do(t, "POST", "/v1/tokens/"+id+"/rotate", credential, body).want(t, http.StatusOK).decode(t, &tok)
	return tok
}

// works reports whether value authenticates (200 on GET /v1/tokens/{id}); any other answer must be a
// proper 401.
func (s *server) works(t *testing.T, value, id string) bool {
	t.Helper()
	r := s.do(t, "GET", "/v1/tokens/"+id, value, nil)
	if r.Status == http.StatusOK {
		return true
	}
	requireError(t, r, http.StatusUnauthorized, "unauthorized", "")
	return false
}

// TestRotationWithoutGraceKillsTheOldValueAtOnce rotates with the API key and no body: same id, name
// and scopes, a new value that works, and the old value refused at once.
func TestRotationWithoutGraceKillsTheOldValueAtOnce(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ws := s.bootstrap(t, "Acme")
	orig := s.createToken(t, ws.APIKey, map[string]any{"name": "deployer", "scopes": []string{"tokens:read", "tokens:write"}})
	s.Clock.Advance(time.Minute)

	next := s.rotate(t, ws.APIKey, orig.ID, nil)
	if next.ID != orig.ID || next.Name != orig.Name || !slices.Equal(next.Scopes, orig.Scopes) ||
		next.Token == "" || next.Token == orig.Token || next.RotatedAt == nil || *next.RotatedAt != rfc3339(t0.Add(time.Minute)) {
		t.Fatalf("rotated = %+v (original %+v)", next, orig)
	}
	if s.works(t, orig.Token, orig.ID) {
		t.Error("the old value still works after a rotation without grace period")
	}
	if !s.works(t, next.Token, orig.ID) {
		t.Error("the new value does not work")
	}
	if n := s.audit(t, ws, "action=token.rotated&target_id="+orig.ID).Meta.Total; n != 1 {
		t.Errorf("%d token.rotated events, want 1", n)
	}
}

// TestRotationWithGraceKeepsTheOldValueUntilTheGraceEnds rotates with grace_period=60: the previous
// value works during the grace period and is refused once the clock passes it; the newest value keeps
// working. An explicit grace_period of 0 behaves like no grace.
func TestRotationWithGraceKeepsTheOldValueUntilTheGraceEnds(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ws := s.bootstrap(t, "Acme")
	first := s.createToken(t, ws.APIKey, map[string]any{"name": "web", "scopes": []string{"tokens:read"}})

	second := s.rotate(t, ws.APIKey, first.ID, map[string]any{"grace_period": 0})
	if s.works(t, first.Token, first.ID) {
		t.Error("grace_period 0: the old value still works")
	}

	third := s.rotate(t, ws.APIKey, first.ID, map[string]any{"grace_period": 60})
	if !s.works(t, second.Token, first.ID) || !s.works(t, third.Token, first.ID) {
		t.Fatal("during the grace period both the previous and the newest value must work")
	}
	s.Clock.Advance(59 * time.Second)
	if !s.works(t, second.Token, first.ID) {
		t.Error("the previous value stopped working before its grace period ended")
	}
	s.Clock.Advance(2 * time.Second) // 61 s after the rotation
	if s.works(t, second.Token, first.ID) {
		t.Error("the previous value still works 61 s after a rotation with grace_period 60")
	}
	if !s.works(t, third.Token, first.ID) {
		t.Error("the newest value stopped working")
	}
	if s.works(t, first.Token, first.ID) {
		t.Error("the first value came back to life")
	}
}

// TestTokenMayRotateItselfButNotOthersWithoutTheRotateScope uses a token holding only tokens:read:
// it rotates itself (its old value dies), but rotating another token needs tokens:rotate.
func TestTokenMayRotateItselfButNotOthersWithoutTheRotateScope(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ws := s.bootstrap(t, "Acme")
	self := s.createToken(t, ws.APIKey, map[string]any{"name": "self", "scopes": []string{"tokens:read"}})
	other := s.createToken(t, ws.APIKey, map[string]any{"name": "other", "scopes": []string{"tokens:read"}})

	next := s.rotate(t, self.Token, self.ID, nil)
	if next.ID != self.ID || next.Token == self.Token {
		t.Fatalf("self-rotation = %+v", next)
	}
	if s.works(t, self.Token, self.ID) {
		t.Error("the value that rotated itself still works")
	}
	if !s.works(t, next.Token, self.ID) {
		t.Error("the self-rotated value does not work")
	}

	before := s.snapshot(t, ws)
	r := s.do(t, "POST", "/v1/tokens/"+other.ID+"/rotate", next.Token, nil)
	requireInsufficientScope(t, r, "tokens:rotate")
	s.requireUnchanged(t, ws, before)
	if !s.works(t, other.Token, other.ID) {
		t.Error("a refused rotation changed the other token's value")
	}
}

// TestRotatingARevokedOrExpiredTokenConflicts checks 409 for tokens that are no longer active, with
// nothing written.
func TestRotatingARevokedOrExpiredTokenConflicts(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ws := s.bootstrap(t, "Acme")
	revoked := s.createToken(t, ws.APIKey, map[string]any{"name": "revoked", "scopes": []string{"tokens:read"}})
	expiring := s.createToken(t, ws.APIKey, map[string]any{"name": "expiring", "scopes": []string{"tokens:read"},
		"expires_at": rfc3339(t0.Add(time.Hour))})
	s.do(t, "DELETE", "/v1/tokens/"+revoked.ID, ws.APIKey, nil).want(t, http.StatusNoContent)
	s.Clock.Set(t0.Add(time.Hour))

	before := s.snapshot(t, ws)
	for _, id := range []string{revoked.ID, expiring.ID} {
		for _, body := range []any{nil, map[string]any{"grace_period": 60}} {
			r := s.do(t, "POST", "/v1/tokens/"+id+"/rotate", ws.APIKey, body)
			requireError(t, r, http.StatusConflict, "conflict", id)
		}
	}
	s.requireUnchanged(t, ws, before)
	if s.works(t, revoked.Token, revoked.ID) {
		t.Error("a refused rotation revived the revoked token")
	}
}

// TestRotationRejectsAnOutOfRangeGracePeriod checks grace_period bounds (0–86 400) and types.
func TestRotationRejectsAnOutOfRangeGracePeriod(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ws := s.bootstrap(t, "Acme")
	tok := s.createToken(t, ws.APIKey, map[string]any{"name": "web", "scopes": []string{"tokens:read"}})
	before := s.snapshot(t, ws)
	for _, body := range []string{`{"grace_period": -1}`, `{"grace_period": 86401}`, `{"grace_period": "60"}`, `{"grace_period": 6`} {
		r := s.do(t, "POST", "/v1/tokens/"+tok.ID+"/rotate", ws.APIKey, body)
		requireError(t, r, http.StatusBadRequest, "bad_request", "")
	}
	s.requireUnchanged(t, ws, before)
	if !s.works(t, tok.Token, tok.ID) {
		t.Error("a refused rotation killed the value")
	}
}

// TestRevokingDuringAGracePeriodKillsBothValues revokes a token whose previous value is still in its
// grace period: neither value works afterwards.
func TestRevokingDuringAGracePeriodKillsBothValues(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ws := s.bootstrap(t, "Acme")
	old := s.createToken(t, ws.APIKey, map[string]any{"name": "web", "scopes": []string{"tokens:read"}})
	next := s.rotate(t, ws.APIKey, old.ID, map[string]any{"grace_period": 3600})
	if !s.works(t, old.Token, old.ID) {
		t.Fatal("the previous value does not work during its grace period")
	}
	s.do(t, "DELETE", "/v1/tokens/"+old.ID, ws.APIKey, nil).want(t, http.StatusNoContent)
	if s.works(t, old.Token, old.ID) || s.works(t, next.Token, old.ID) {
		t.Error("a value of a revoked token still works")
	}
}
