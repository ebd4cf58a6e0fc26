package e2e

import (
	"net/http"
	"testing"
	"time"
)

// TestAnotherWorkspacesCredentialsSeeNothingOfThisWorkspace uses workspace B's valid token and API key
// against workspace A's token: every read and change is 404 (never 403), lists never show it, and
// nothing is written in either workspace.
func TestAnotherWorkspacesCredentialsSeeNothingOfThisWorkspace(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	a := s.bootstrap(t, "Acme")
	b := s.bootstrap(t, "Globex")
	target := s.createToken(t, a.APIKey, map[string]any{"name": "shared-name", "scopes": []string{"tokens:read"}})
	bTok := s.createToken(t, b.APIKey, map[string]any{"name": "shared-name", // names are unique per workspace only
		"scopes": []string{"tokens:read", "tokens:revoke", "tokens:rotate", "audit:read"}})
	beforeA, beforeB := s.snapshot(t, a), s.snapshot(t, b)

	notFound := "Token " + target.ID + " not found"
	for name, cred := range map[string]string{"B's token": bTok.Token, "B's API key": b.APIKey} {
		t.Run(name, func(t *testing.T) {
			requireError(t, s.do(t, "GET", "/v1/tokens/"+target.ID, cred, nil), http.StatusNotFound, "not_found", notFound)
			requireError(t, s.do(t, "DELETE", "/v1/tokens/"+target.ID, cred, nil), http.StatusNotFound, "not_found", notFound)
			requireError(t, s.do(t, "POST", "/v1/tokens/"+target.ID+"/rotate", cred, nil), http.StatusNotFound, "not_found", notFound)
			var l tokenList
			s.do(t, "GET", "/v1/tokens?name=shared", cred, nil).want(t, http.StatusOK).decode(t, &l)
			for _, tok := range l.Data {
				if tok.ID == target.ID {
					t.Error("workspace A's token appears in workspace B's list")
				}
			}
			var ev auditList
			s.do(t, "GET", "/v1/audit-logs?target_id="+target.ID, cred, nil).want(t, http.StatusOK).decode(t, &ev)
			if ev.Meta.Total != 0 {
				t.Errorf("workspace B's audit log shows %d events about workspace A's token", ev.Meta.Total)
			}
		})
	}
	s.requireUnchanged(t, a, beforeA)
	s.requireUnchanged(t, b, beforeB)
	if got := s.getToken(t, a.APIKey, target.ID); got.Status != "active" || got.RotatedAt != nil {
		t.Errorf("workspace A's token after B's attempts = %+v", got)
	}
	s.do(t, "GET", "/v1/tokens/"+target.ID, target.Token, nil).want(t, http.StatusOK)
}

// TestATokenReSignedToClaimAnotherWorkspaceIs401 rewrites workspace B's genuine token to claim
// workspace A (wid and iss), keeping B's signature or re-signing it with an attacker key under A's or
// B's kid: every variant is 401 and nothing is written in A.
func TestATokenReSignedToClaimAnotherWorkspaceIs401(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	a := s.bootstrap(t, "Acme")
	b := s.bootstrap(t, "Globex")
	target := s.createToken(t, a.APIKey, map[string]any{"name": "target", "scopes": []string{"tokens:read"}})
	aHeader, _, _ := jwtParts(t, target.Token)
	bTok := s.createToken(t, b.APIKey, map[string]any{"name": "b-admin",
		"scopes": []string{"tokens:read", "tokens:write", "tokens:revoke"}})
	bHeader, bClaims, bSig := jwtParts(t, bTok.Token)
	aKID, bKID := aHeader["kid"].(string), bHeader["kid"].(string)

	claimsA := with(bClaims, "wid", a.ID, "iss", s.URL+"/w/"+a.ID, "aud", []string{a.ID})
	keep := func(string) string { return bSig }
	forged := map[string]string{
		"B's signature, wid changed":         compact(t, bHeader, with(bClaims, "wid", a.ID), keep),
		"B's signature, wid iss aud changed": compact(t, bHeader, claimsA, keep),
		"B's signature, A's kid":             compact(t, with(bHeader, "kid", aKID), claimsA, keep),
		"attacker key under A's kid":         es256(t, aKID, claimsA),
		"attacker key under B's kid":         es256(t, bKID, claimsA),
		"attacker key, sub = A's token":      es256(t, aKID, with(claimsA, "sub", target.ID, "client_id", target.ID)),
		"B's signature, sub = A's token":     compact(t, bHeader, with(bClaims, "sub", target.ID, "client_id", target.ID), keep),
		"B's signature, sub and wid of A's":  compact(t, bHeader, with(claimsA, "sub", target.ID, "client_id", target.ID), keep),
	}
	beforeA := s.snapshot(t, a)
	for name, value := range forged {
		t.Run(name, func(t *testing.T) {
			requireError(t, s.do(t, "GET", "/v1/tokens/"+target.ID, value, nil), http.StatusUnauthorized, "unauthorized", "")
			requireError(t, s.do(t, "DELETE", "/v1/tokens/"+target.ID, value, nil), http.StatusUnauthorized, "unauthorized", "")
			r := s.do(t, "POST", "/v1/tokens", value, map[string]any{"name": "planted", "scopes": []string{"tokens:read"}})
			requireError(t, r, http.StatusUnauthorized, "unauthorized", "")
		})
	}
	s.requireUnchanged(t, a, beforeA)
	if got := s.getToken(t, a.APIKey, target.ID); got.Status != "active" {
		t.Errorf("workspace A's token is %q after the forgeries, want active", got.Status)
	}
}

// TestATokenCannotMintBeyondItsOwnGrant gives a token tokens:write with a one-hour expiry and checks
// that it may mint only subsets of its scopes, expiring no later than itself, within its audience:
// anything else is 403 naming what exceeded the grant, with nothing written.
func TestATokenCannotMintBeyondItsOwnGrant(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ws := s.bootstrap(t, "Acme")
	own := t0.Add(time.Hour)
	minter := s.createToken(t, ws.APIKey, map[string]any{"name": "minter",
		"scopes": []string{"tokens:read", "tokens:write"}, "expires_at": rfc3339(own)})
	before := s.snapshot(t, ws)

	cases := []struct {
		name string
		req  map[string]any
		msg  string
	}{
		{"a scope it lacks", map[string]any{"scopes": []string{"tokens:revoke"}, "expires_at": rfc3339(own)}, "tokens:revoke"},
		{"its scopes plus one", map[string]any{"scopes": []string{"tokens:read", "tokens:write", "tokens:rotate"}, "expires_at": rfc3339(own)}, "tokens:rotate"},
		{"no expiry", map[string]any{"scopes": []string{"tokens:read"}}, "expires_at"},
		{"null expiry", map[string]any{"scopes": []string{"tokens:read"}, "expires_at": nil}, "expires_at"},
		{"a later expiry", map[string]any{"scopes": []string{"tokens:read"}, "expires_at": rfc3339(own.Add(time.Second))}, "expires_at"},
		{"another audience", map[string]any{"scopes": []string{"tokens:read"}, "expires_at": rfc3339(own), "audience": []string{"payments"}}, "audience"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.req["name"] = "child-" + string(rune('a'+i))
			r := s.do(t, "POST", "/v1/tokens", minter.Token, c.req)
			requireError(t, r, http.StatusForbidden, "forbidden", c.msg)
		})
	}
	s.requireUnchanged(t, ws, before)

	// Within the grant it may mint, and the child is accountable to the same member.
	child := s.createToken(t, minter.Token, map[string]any{"name": "child", "scopes": []string{"tokens:read"},
		"expires_at": rfc3339(own)})
	if child.CreatedBy != ws.Email {
		t.Errorf("child created_by = %q, want %q", child.CreatedBy, ws.Email)
	}
	ev := s.audit(t, ws, "action=token.created&target_id="+child.ID)
	if ev.Meta.Total != 1 || ev.Data[0].Actor.Type != "token" || ev.Data[0].Actor.ID != minter.ID {
		t.Errorf("audit of the child's creation = %+v, want one event with the minting token as actor", ev)
	}
}
