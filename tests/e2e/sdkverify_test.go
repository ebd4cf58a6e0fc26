package e2e

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/tooken/tooken/cmd/tooken/app"
	"github.com/tooken/tooken/sdk/verify"
)

// The tests of this file run the SDK's offline verifier (sdk/verify) against the real server on
// PostgreSQL over loopback HTTP. Server and verifier share one test clock (verify.WithClock), so
// grace periods, key activation and feed staleness are reached by advancing it; propagation bounds
// are real time, checked by polling Verify until a deadline.

// TestSDKVerifierReturnsTheClaimsOfAValidToken verifies a token carrying a built-in scope and a custom
// scope registered with PUT /v1/workspace/scopes: every claim, HasScope and HasAllScopes.
func TestSDKVerifierReturnsTheClaimsOfAValidToken(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ws := s.bootstrap(t, "Acme")
	s.do(t, "PUT", "/v1/workspace/scopes", ws.APIKey, map[string]any{"custom": []map[string]string{
		{"name": "orders:read", "description": "Read orders"}, {"name": "orders:write", "description": "Change orders"}}}).
		want(t, http.StatusOK)
	exp := t0.Add(24 * time.Hour)
	tok := s.createToken(t, ws.APIKey, map[string]any{"name": "orders", "scopes": []string{"tokens:read", "orders:read"},
		"expires_at": rfc3339(exp)})
	v := newVerifier(t, s, ws, nil, verify.WithAudience(ws.ID))

	c := v.accepts(t, "valid token", tok.Token)
	if c.Issuer != s.URL+"/w/"+ws.ID || c.Subject != tok.ID || c.TokenID != tok.ID || c.WorkspaceID != ws.ID ||
		c.JTI == "" || c.KeyID != s.activeKID(t, ws) || !slices.Equal(c.Audience, []string{ws.ID}) {
		t.Errorf("claims = %+v; want iss %s/w/%s, sub = client_id = %s, wid %s, a jti, the active kid, aud [%s]",
			c, s.URL, ws.ID, tok.ID, ws.ID, ws.ID)
	}
	if !slices.Equal(c.Scopes, []string{"tokens:read", "orders:read"}) || !c.HasScope("orders:read") ||
		!c.HasScope("tokens:read") || c.HasScope("orders:write") || !c.HasAllScopes("tokens:read", "orders:read") ||
		c.HasAllScopes("orders:read", "orders:write") {
		t.Errorf("scopes = %v: HasScope/HasAllScopes disagree with tokens:read + orders:read", c.Scopes)
	}
	if c.ExpiresAt == nil || !c.ExpiresAt.Equal(exp) || !c.IssuedAt.Equal(t0) {
		t.Errorf("exp = %v, iat = %v; want %v and %v", c.ExpiresAt, c.IssuedAt, exp, t0)
	}

	s.Clock.Set(exp)
	v.refuses(t, "the token at its exp", tok.Token, verify.ErrExpired)
}

// TestSDKVerifierRefusesARevokedTokenWithinOneSecond revokes a token the verifier has already
// accepted (so it is in its verified-value cache): the revocation stream makes Verify refuse it with
// ErrRevoked within the bound, while another token of the workspace keeps verifying.
func TestSDKVerifierRefusesARevokedTokenWithinOneSecond(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ws := s.bootstrap(t, "Acme")
	tok := s.createToken(t, ws.APIKey, map[string]any{"name": "revoked", "scopes": []string{"tokens:read"}})
	other := s.createToken(t, ws.APIKey, map[string]any{"name": "other", "scopes": []string{"tokens:read"}})
	v := newVerifier(t, s, ws, nil)
	v.accepts(t, "before the revocation", tok.Token)
	v.accepts(t, "the other token", other.Token)

	start := time.Now()
	s.revoke(t, ws.APIKey, tok.ID)
	v.refusesWithin(t, "revoked token", tok.Token, verify.ErrRevoked, start)
	v.accepts(t, "the other token after the revocation", other.Token)
}

// TestSDKVerifierHonoursTheRotationGracePeriod rotates a token with grace_period=60: the previous
// value keeps verifying until the grace period ends (the feed entry is known to the verifier, dated
// in the future), then is refused with ErrRevoked; the new value verifies throughout.
func TestSDKVerifierHonoursTheRotationGracePeriod(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ws := s.bootstrap(t, "Acme")
	tok := s.createToken(t, ws.APIKey, map[string]any{"name": "web", "scopes": []string{"tokens:read"}})
	marker := s.createToken(t, ws.APIKey, map[string]any{"name": "marker", "scopes": []string{"tokens:read"}})
	v := newVerifier(t, s, ws, nil)
	v.accepts(t, "before the rotation", tok.Token)

	next := s.rotate(t, ws.APIKey, tok.ID, map[string]any{"grace_period": 60})
	// The feed is ordered: once the verifier refuses the marker revoked after the rotation, it has
	// received whatever the rotation put in the feed.
	start := time.Now()
	s.revoke(t, ws.APIKey, marker.ID)
	v.refusesWithin(t, "marker revoked after the rotation", marker.Token, verify.ErrRevoked, start)

	v.accepts(t, "previous value at the start of the grace period", tok.Token)
	v.accepts(t, "new value", next.Token)
	s.Clock.Advance(59 * time.Second)
	v.accepts(t, "previous value 59 s into the grace period", tok.Token)
	s.Clock.Advance(2 * time.Second)
	v.refusesWithin(t, "previous value 61 s after a rotation with grace_period 60", tok.Token, verify.ErrRevoked,
		time.Now())
	v.accepts(t, "new value after the grace period", next.Token)
	fresh := newVerifier(t, s, ws, nil) // one that learns everything from the paged feed
	fresh.refuses(t, "previous value, verifier started after the grace period", tok.Token, verify.ErrRevoked)
	fresh.accepts(t, "new value, verifier started after the grace period", next.Token)
}

// TestSDKVerifierFollowsASigningKeyRotationWithoutRestart rotates the signing key while a verifier
// runs: the pending key is announced (the stream's jwks event makes the verifier refetch the JWKS)
// before it signs; values signed by the old key before and during the announce window and by the new
// key once it is active all verify with the same verifier, also after the old JWKS copy expired.
func TestSDKVerifierFollowsASigningKeyRotationWithoutRestart(t *testing.T) {
	t.Parallel()
	const maxAge = 5 * time.Minute
	s := startServer(t, func(c *app.Config) { c.JWKSMaxAge = maxAge })
	ws := s.bootstrap(t, "Acme")
	oldKID := s.activeKID(t, ws)
	before := s.createToken(t, ws.APIKey, map[string]any{"name": "before", "scopes": []string{"tokens:read"}})
	v := newVerifier(t, s, ws, nil)
	if c := v.accepts(t, "value signed before the rotation", before.Token); c.KeyID != oldKID {
		t.Fatalf("kid = %s, want the active key %s", c.KeyID, oldKID)
	}

	v.awaitStream(t) // the jwks event below must find the stream open
	jwksFetches := v.net.count("jwks.json")
	var pending signingKeyJSON
	deadline := time.Now().Add(propagationBound)
	s.do(t, "POST", "/v1/signing-keys/rotate", ws.APIKey, nil).want(t, http.StatusCreated).decode(t, &pending)
	if pending.State != "pending" || pending.KID == oldKID || pending.ActivatesAt != rfc3339(t0.Add(maxAge)) {
		t.Fatalf("rotated key = %+v; want a new pending key activating at %s", pending, rfc3339(t0.Add(maxAge)))
	}
	for v.net.count("jwks.json") == jwksFetches {
		if time.Now().After(deadline) {
			t.Fatalf("the verifier did not refetch the JWKS within %v of the rotation (no jwks event?)", propagationBound)
		}
		time.Sleep(time.Millisecond)
	}

	during := s.createToken(t, ws.APIKey, map[string]any{"name": "during", "scopes": []string{"tokens:read"}})
	if c := v.accepts(t, "value signed during the announce window", during.Token); c.KeyID != oldKID {
		t.Errorf("value issued while the new key is pending: kid %s, want the old key %s", c.KeyID, oldKID)
	}

	s.Clock.Advance(maxAge) // activates_at: the new key signs; the verifier's JWKS copy is now stale
	after := s.createToken(t, ws.APIKey, map[string]any{"name": "after", "scopes": []string{"tokens:read"}})
	if c := v.accepts(t, "value signed by the new key", after.Token); c.KeyID != pending.KID {
		t.Errorf("value issued after activates_at: kid %s, want the new key %s", c.KeyID, pending.KID)
	}
	v.accepts(t, "value signed by the old key before the rotation, after activation", before.Token)
	v.accepts(t, "value signed by the old key during the announce window, after activation", during.Token)
	if keys := s.signingKeys(t, ws); len(keys["active"]) != 1 || keys["active"][0].KID != pending.KID ||
		len(keys["retiring"]) != 1 || keys["retiring"][0].KID != oldKID {
		t.Errorf("signing keys = %+v; want %s active and %s retiring", keys, pending.KID, oldKID)
	}

	// Two JWKS lifetimes later the verifier's copy is stale again: Verify refreshes it in the
	// background, and the refreshed copy must still hold the retiring key.
	s.Clock.Advance(2 * maxAge)
	all := []tokenJSON{before, during, after}
	fetches := v.net.count("jwks.json")
	deadline = time.Now().Add(propagationBound)
	for v.net.count("jwks.json") == fetches {
		for _, tok := range all {
			v.accepts(t, tok.Name+": while the stale JWKS refreshes", tok.Token)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the verifier did not refresh its stale JWKS within %v", propagationBound)
		}
		time.Sleep(time.Millisecond)
	}
	fresh := newVerifier(t, s, ws, nil)
	for _, tok := range all {
		v.accepts(t, tok.Name+": after the JWKS refresh", tok.Token)
		fresh.accepts(t, tok.Name+": verifier started after the activation", tok.Token)
	}
}

// TestSDKVerifierRefusesValuesOfAnEmergencyRevokedKey revokes the active signing key: the value it
// signed, already in the verifier's cache, is refused with ErrUnknownKey within the bound (the jwks
// event forces a refetch without the key), and a value signed by the replacement key verifies.
func TestSDKVerifierRefusesValuesOfAnEmergencyRevokedKey(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ws := s.bootstrap(t, "Acme")
	kid := s.activeKID(t, ws)
	tok := s.createToken(t, ws.APIKey, map[string]any{"name": "web", "scopes": []string{"tokens:read"}})
	v := newVerifier(t, s, ws, nil)
	v.accepts(t, "before the key revocation", tok.Token)

	var revoked signingKeyJSON
	start := time.Now()
	s.do(t, "POST", "/v1/signing-keys/"+kid+"/revoke", ws.APIKey, nil).want(t, http.StatusOK).decode(t, &revoked)
	if revoked.KID != kid || revoked.State != "revoked" {
		t.Fatalf("revoked key = %+v; want %s revoked", revoked, kid)
	}
	v.refusesWithin(t, "value signed by the revoked key", tok.Token, verify.ErrUnknownKey, start)
	if s.works(t, tok.Token, tok.ID) {
		t.Error("the server still accepts the value signed by the revoked key")
	}

	replacement := s.activeKID(t, ws)
	next := s.rotate(t, ws.APIKey, tok.ID, nil)
	if c := v.accepts(t, "value signed by the replacement key", next.Token); c.KeyID != replacement || c.KeyID == kid {
		t.Errorf("new value: kid %s, want the replacement key %s", c.KeyID, replacement)
	}
}

// TestSDKVerifierKeepsWorkingWhileTheIssuerIsDownThenFailsClosed stops the server: known keys keep
// verifying values never seen before, also once the cached JWKS has expired; with WithMaxStaleness(d),
// Verify fails closed with ErrStaleFeed once the feed has been unreachable for longer than d.
func TestSDKVerifierKeepsWorkingWhileTheIssuerIsDownThenFailsClosed(t *testing.T) {
	t.Parallel()
	const maxStaleness = time.Minute
	s, stop := startStoppable(t)
	ws := s.bootstrap(t, "Acme")
	seen := s.createToken(t, ws.APIKey, map[string]any{"name": "seen", "scopes": []string{"tokens:read"}})
	unseen := s.createToken(t, ws.APIKey, map[string]any{"name": "unseen", "scopes": []string{"tokens:read"}})
	late := s.createToken(t, ws.APIKey, map[string]any{"name": "late", "scopes": []string{"tokens:read"}})
	revoked := s.createToken(t, ws.APIKey, map[string]any{"name": "revoked", "scopes": []string{"tokens:read"}})
	s.revoke(t, ws.APIKey, revoked.ID)
	strict := newVerifier(t, s, ws, nil, verify.WithMaxStaleness(maxStaleness))
	lenient := newVerifier(t, s, ws, nil)
	for _, v := range []*sdkVerifier{strict, lenient} {
		v.accepts(t, "before the issuer goes down", seen.Token)
		v.refuses(t, "revoked before the issuer goes down", revoked.Token, verify.ErrRevoked)
	}

	stop()
	for name, v := range map[string]*sdkVerifier{"strict": strict, "lenient": lenient} {
		v.accepts(t, name+": value seen before, issuer down", seen.Token)
		v.accepts(t, name+": value never seen before, issuer down", unseen.Token)
		v.refuses(t, name+": revoked value, issuer down", revoked.Token, verify.ErrRevoked)
	}
	s.Clock.Advance(maxStaleness)
	strict.accepts(t, "strict: feed unreachable for exactly MaxStaleness", seen.Token)
	s.Clock.Advance(time.Second)
	strict.refuses(t, "strict: feed unreachable for longer than MaxStaleness", seen.Token, verify.ErrStaleFeed)
	strict.refuses(t, "strict: another value, feed unreachable for longer than MaxStaleness", unseen.Token,
		verify.ErrStaleFeed)
	strict.refuses(t, "strict: revoked value stays revoked", revoked.Token, verify.ErrRevoked)

	// Far past the JWKS max-age: Verify tries to refresh the JWKS, fails, and keeps the known keys.
	s.Clock.Advance(time.Hour)
	fetches := lenient.net.count("jwks.json")
	deadline := time.Now().Add(propagationBound)
	for lenient.net.count("jwks.json") == fetches {
		lenient.accepts(t, "lenient: value seen before, JWKS expired, issuer down", seen.Token)
		if time.Now().After(deadline) {
			t.Fatalf("the verifier did not try to refresh its expired JWKS within %v", propagationBound)
		}
		time.Sleep(time.Millisecond)
	}
	lenient.accepts(t, "lenient: value seen before, JWKS refresh failed", seen.Token)
	lenient.accepts(t, "lenient: value never seen before, JWKS refresh failed", late.Token)
	lenient.refuses(t, "lenient: revoked value, JWKS refresh failed", revoked.Token, verify.ErrRevoked)
}

// TestSDKVerifierOnReplicaBRefusesATokenRevokedOnReplicaA runs two replicas on one PostgreSQL
// database behind one public URL; the verifier's requests all land on replica B. A token revoked
// through replica A is refused by the verifier within the bound.
func TestSDKVerifierOnReplicaBRefusesATokenRevokedOnReplicaA(t *testing.T) {
	t.Parallel()
	a := startServer(t)
	b := a.replica(t)
	ws := a.bootstrap(t, "Acme")
	tok := a.createToken(t, ws.APIKey, map[string]any{"name": "revoked", "scopes": []string{"tokens:read"}})
	other := a.createToken(t, ws.APIKey, map[string]any{"name": "other", "scopes": []string{"tokens:read"}})
	v := newVerifier(t, a, ws, b)
	v.accepts(t, "before the revocation", tok.Token)
	v.accepts(t, "the other token", other.Token)

	start := time.Now()
	a.revoke(t, ws.APIKey, tok.ID)
	v.refusesWithin(t, "token revoked on replica A, verifier on replica B", tok.Token, verify.ErrRevoked, start)
	v.accepts(t, "the other token after the revocation", other.Token)
}
