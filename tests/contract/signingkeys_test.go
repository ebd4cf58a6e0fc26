package contract

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/tooken/tooken/sdk"
)

// signingKeys lists a workspace's signing keys with its owner key.
func signingKeys(t *testing.T, ws workspace) []sdk.SigningKey {
	t.Helper()
	res, err := ws.Owner.ListSigningKeysWithResponse(t.Context())
	want(t, res, err, http.StatusOK)
	return res.JSON200.Data
}

// activeKey returns the workspace's one active signing key.
func activeKey(t *testing.T, ws workspace) sdk.SigningKey {
	t.Helper()
	var active []sdk.SigningKey
	for _, k := range signingKeys(t, ws) {
		if k.State == "active" {
			active = append(active, k)
		}
	}
	if len(active) != 1 {
		t.Fatalf("active signing keys = %+v, want exactly one", active)
	}
	return active[0]
}

// states maps each kid to its state.
func states(keys []sdk.SigningKey) map[string]string {
	out := map[string]string{}
	for _, k := range keys {
		out[k.Kid] = string(k.State)
	}
	return out
}

func TestANewWorkspaceHasOneActiveSigningKeyThatSignsItsTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	keys := signingKeys(t, ws)
	if len(keys) != 1 {
		t.Fatalf("signing keys = %+v, want one", keys)
	}
	k := keys[0]
	if k.State != "active" || k.Algorithm != "ES256" || k.RetiredAt != nil || k.RevokedAt != nil || k.ActivatesAt.After(e.Clock.Now()) {
		t.Errorf("key = %+v, want an active ES256 key", k)
	}
	tok := mint(t, ws.Owner, "signed", "tokens:read")
	if kid := jwtKid(t, tok.Token); kid != k.Kid {
		t.Errorf("the token is signed by %s, want the active key %s", kid, k.Kid)
	}
	if kids := jwksKids(t, e, ws.ID); !slices.Equal(kids, []string{k.Kid}) {
		t.Errorf("JWKS kids = %v, want [%s]", kids, k.Kid)
	}
}

func TestRotateSigningKeyPublishesAPendingKeyAtOnceAndConflictsWhileOneIsPending(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	ctx := t.Context()
	old := activeKey(t, ws)

	res, err := ws.Owner.RotateSigningKeyWithResponse(ctx)
	want(t, res, err, http.StatusCreated)
	fresh := res.JSON201
	if fresh.State != "pending" || fresh.Kid == old.Kid || !fresh.ActivatesAt.After(fresh.CreatedAt) || fresh.Algorithm != "ES256" {
		t.Errorf("rotated key = %+v, want a new pending ES256 key that activates later", fresh)
	}
	// Published at once, so that every verifier knows it before it signs anything.
	if kids := jwksKids(t, e, ws.ID); !slices.Contains(kids, fresh.Kid) || !slices.Contains(kids, old.Kid) {
		t.Errorf("JWKS kids = %v, want both %s (pending) and %s (active)", kids, fresh.Kid, old.Kid)
	}
	keys := signingKeys(t, ws)
	if len(keys) != 2 || keys[0].Kid != fresh.Kid || keys[1].Kid != old.Kid || keys[1].State != "active" {
		t.Errorf("signing keys = %+v, want the pending key first, then the active one", keys)
	}
	if kid := jwtKid(t, mint(t, ws.Owner, "before", "tokens:read").Token); kid != old.Kid {
		t.Errorf("a token minted while the new key is pending is signed by %s, want %s", kid, old.Kid)
	}

	again, err := ws.Owner.RotateSigningKeyWithResponse(ctx)
	want(t, again, err, http.StatusConflict)

	// Once it activates it signs, the old key retires while values it signed live, and rotating is
	// possible again.
	e.Clock.Advance(fresh.ActivatesAt.Sub(fresh.CreatedAt) + time.Second)
	if st := states(signingKeys(t, ws)); st[fresh.Kid] != "active" || st[old.Kid] != "retiring" {
		t.Errorf("states after activation = %v, want %s active and %s retiring", st, fresh.Kid, old.Kid)
	}
	if kid := jwtKid(t, mint(t, ws.Owner, "after", "tokens:read").Token); kid != fresh.Kid {
		t.Errorf("a token minted after activation is signed by %s, want %s", kid, fresh.Kid)
	}
	third, err := ws.Owner.RotateSigningKeyWithResponse(ctx)
	want(t, third, err, http.StatusCreated)
}

func TestRotateSigningKeyUsesTheWorkspaceSigningAlgorithm(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	ctx := t.Context()
	upd, err := ws.Owner.UpdateWorkspaceWithResponse(ctx, sdk.UpdateWorkspaceRequest{SigningAlgorithm: ptr(sdk.SigningAlgorithm("EdDSA"))})
	want(t, upd, err, http.StatusOK)
	if upd.JSON200.SigningAlgorithm != "EdDSA" || activeKey(t, ws).Algorithm != "ES256" {
		t.Errorf("workspace algorithm = %s, active key %s; want EdDSA, with the ES256 key still active", upd.JSON200.SigningAlgorithm, activeKey(t, ws).Algorithm)
	}
	res, err := ws.Owner.RotateSigningKeyWithResponse(ctx)
	want(t, res, err, http.StatusCreated)
	if res.JSON201.Algorithm != "EdDSA" {
		t.Errorf("rotated key algorithm = %s, want EdDSA", res.JSON201.Algorithm)
	}
	jwks, err := e.client(t, "").GetJWKSWithResponse(ctx, ws.ID)
	want(t, jwks, err, http.StatusOK)
	for _, k := range jwks.JSON200.Keys {
		if k.Kid == res.JSON201.Kid && (k.Kty != "OKP" || k.Alg != "EdDSA" || k.Crv == nil || *k.Crv != "Ed25519" || k.X == nil) {
			t.Errorf("published EdDSA key = %+v, want an OKP Ed25519 key", k)
		}
	}
	e.Clock.Advance(res.JSON201.ActivatesAt.Sub(res.JSON201.CreatedAt) + time.Second)
	tok := mint(t, ws.Owner, "ed", "tokens:read")
	var head struct{ Alg string }
	jwtPart(t, tok.Token, 0, &head)
	if head.Alg != "EdDSA" || jwtKid(t, tok.Token) != res.JSON201.Kid {
		t.Errorf("token header alg = %s, kid = %s; want EdDSA, %s", head.Alg, jwtKid(t, tok.Token), res.JSON201.Kid)
	}
	wantVerdict(t, verify(t, e, tok.Token), "VALID", tok.Id)
}

func TestRevokingTheActiveSigningKeyReplacesItAndKillsTheValuesItSigned(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	ctx := t.Context()
	old := activeKey(t, ws)
	signed := mint(t, ws.Owner, "signed", "tokens:read")

	res, err := ws.Owner.RevokeSigningKeyWithResponse(ctx, old.Kid)
	want(t, res, err, http.StatusOK)
	if res.JSON200.Kid != old.Kid || res.JSON200.State != "revoked" || res.JSON200.RevokedAt == nil {
		t.Errorf("revoked key = %+v", res.JSON200)
	}
	replacement := activeKey(t, ws)
	if replacement.Kid == old.Kid || states(signingKeys(t, ws))[old.Kid] != "revoked" {
		t.Errorf("after revocation: keys %v, want a new active key and %s revoked", states(signingKeys(t, ws)), old.Kid)
	}
	if kids := jwksKids(t, e, ws.ID); slices.Contains(kids, old.Kid) || !slices.Contains(kids, replacement.Kid) {
		t.Errorf("JWKS kids = %v, want %s gone and %s published", kids, old.Kid, replacement.Kid)
	}
	// Values the revoked key signed stop working, as credentials and for verifiers.
	used, err := e.client(t, signed.Token).ListTokensWithResponse(ctx, nil)
	want(t, used, err, http.StatusUnauthorized)
	if v := verify(t, e, signed.Token); v.Valid {
		t.Errorf("a value signed by the revoked key verifies: %+v", v)
	}
	// The replacement signs at once; rotating the token gives its holder a working value.
	rot, err := ws.Owner.RotateTokenWithResponse(ctx, signed.Id, sdk.RotateTokenRequest{})
	want(t, rot, err, http.StatusOK)
	if kid := jwtKid(t, rot.JSON200.Token); kid != replacement.Kid {
		t.Errorf("the rotated value is signed by %s, want %s", kid, replacement.Kid)
	}
	wantVerdict(t, verify(t, e, rot.JSON200.Token), "VALID", signed.Id)

	// Idempotent.
	again, err := ws.Owner.RevokeSigningKeyWithResponse(ctx, old.Kid)
	want(t, again, err, http.StatusOK)
	if again.JSON200.State != "revoked" || len(signingKeys(t, ws)) != 2 {
		t.Errorf("revoking again: %+v, keys %v; want no change", again.JSON200, states(signingKeys(t, ws)))
	}
}

func TestRevokingAPendingSigningKeyUnpublishesItAndKeepsTheActiveOne(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	ctx := t.Context()
	active := activeKey(t, ws)
	rot, err := ws.Owner.RotateSigningKeyWithResponse(ctx)
	want(t, rot, err, http.StatusCreated)
	res, err := ws.Owner.RevokeSigningKeyWithResponse(ctx, rot.JSON201.Kid)
	want(t, res, err, http.StatusOK)
	if kids := jwksKids(t, e, ws.ID); !slices.Equal(kids, []string{active.Kid}) {
		t.Errorf("JWKS kids = %v, want only the active %s", kids, active.Kid)
	}
	if activeKey(t, ws).Kid != active.Kid {
		t.Errorf("revoking the pending key changed the active one")
	}
	// No key is pending any more.
	again, err := ws.Owner.RotateSigningKeyWithResponse(ctx)
	want(t, again, err, http.StatusCreated)
}

func TestRevokeUnknownSigningKeyOrOneOfAnotherWorkspaceIsNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	acme, globex := e.bootstrap(t, "Acme"), e.bootstrap(t, "Globex")
	theirs := activeKey(t, globex)
	for _, kid := range []string{theirs.Kid, "kid_doesnotexist", "nope"} {
		res, err := acme.Owner.RevokeSigningKeyWithResponse(t.Context(), kid)
		want(t, res, err, http.StatusNotFound)
	}
	if activeKey(t, globex).Kid != theirs.Kid {
		t.Errorf("another workspace revoked the key")
	}
}
