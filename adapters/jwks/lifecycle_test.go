package jwks

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tooken/tooken/ports"
)

// published returns the kids of the workspace's JWKS, in order, and its algorithms.
func published(t *testing.T, f *fixture, workspaceID string) (kids, algs []string) {
	t.Helper()
	doc, algs, err := f.signer.JWKS(context.Background(), workspaceID)
	if err != nil {
		t.Fatal(err)
	}
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(doc, &set); err != nil {
		t.Fatal(err)
	}
	kids = []string{}
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	return kids, algs
}

func expectPublished(t *testing.T, f *fixture, workspaceID string, keys []*ports.SigningKey, algs []string) {
	t.Helper()
	want := []string{}
	for _, k := range keys {
		want = append(want, k.KID)
	}
	gotKids, gotAlgs := published(t, f, workspaceID)
	if !slices.Equal(gotKids, want) || !slices.Equal(gotAlgs, algs) {
		t.Errorf("JWKS = %v %v, want %v %v", gotKids, gotAlgs, want, algs)
	}
}

func expectSigner(t *testing.T, f *fixture, c ports.Claims, want *ports.SigningKey) string {
	t.Helper()
	value, kid, err := f.signer.Sign(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if h := segment(t, value, 0); kid != want.KID || h["kid"] != want.KID || h["alg"] != want.Algorithm {
		t.Errorf("signed by %s with header %v, want %s (%s)", kid, h, want.KID, want.Algorithm)
	}
	return value
}

func expectVerifies(t *testing.T, f *fixture, name, value string, by *ports.SigningKey) {
	t.Helper()
	c, err := f.signer.Verify(context.Background(), value)
	if err != nil || c.KeyID != by.KID {
		t.Errorf("%s: Verify = %+v, %v; want claims signed by %s", name, c, err, by.KID)
	}
}

// longClaims are sampleClaims that expire in 30 days.
func longClaims() ports.Claims {
	c := sampleClaims()
	exp := t0.AddDate(0, 0, 30)
	c.ExpiresAt = &exp
	return c
}

func TestJWKSDocument(t *testing.T) {
	f := newFixture(t)
	f.clock.Set(t0.Add(time.Minute))
	ed := f.newKey(t, wsA, ports.AlgEdDSA)
	f.clock.Set(t0.Add(2 * time.Minute))
	rs := f.pendingKey(t, wsA, ports.AlgRS256, 24*time.Hour)
	f.clock.Set(t0.Add(3 * time.Minute))
	f.store.retire(t, f.newKey(t, wsA, ports.AlgES256), f.clock.Now())
	f.clock.Set(t0.Add(4 * time.Minute))
	f.store.revoke(t, f.newKey(t, wsA, ports.AlgEdDSA), f.clock.Now())

	doc, algs, err := f.signer.JWKS(context.Background(), wsA)
	if err != nil {
		t.Fatal(err)
	}
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(doc, &set); err != nil {
		t.Fatal(err)
	}
	want := []*ports.SigningKey{rs, ed, f.keyA} // newest first; the retired and revoked keys are not there
	if len(set.Keys) != len(want) {
		t.Fatalf("JWKS = %s, want %d keys", doc, len(want))
	}
	for i, k := range want {
		var stored map[string]string
		_ = json.Unmarshal(k.PublicJWK, &stored)
		if !reflect.DeepEqual(set.Keys[i], stored) {
			t.Errorf("key %d: published %v, stored %v", i, set.Keys[i], stored)
		}
	}
	if !slices.Equal(algs, []string{"ES256", "EdDSA", "RS256"}) {
		t.Errorf("algorithms = %v", algs)
	}

	doc[0], algs[0] = 'X', "HS256"
	if again, algs, _ := f.signer.JWKS(context.Background(), wsA); again[0] != '{' || algs[0] != "ES256" {
		t.Error("JWKS returned its cached slices")
	}
	for _, ws := range []string{"ws_nokeys", "", "../etc"} {
		if _, _, err := f.signer.JWKS(context.Background(), ws); ports.ErrorCode(err) != ports.ENOTFOUND {
			t.Errorf("JWKS(%q) err = %v, want not_found", ws, err)
		}
	}

	f.store.revoke(t, f.keyB, t0)
	doc, algs, err = f.signer.JWKS(context.Background(), wsB)
	if err != nil || string(doc) != `{"keys":[]}` || algs == nil || len(algs) != 0 {
		t.Errorf("JWKS of a workspace without published keys = %s, %#v, %v", doc, algs, err)
	}
}

func TestKeyLifecycle(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	oldValue := expectSigner(t, f, longClaims(), f.keyA)

	// A scheduled rotation: the new key is announced a day before it signs.
	f.clock.Set(t0.Add(time.Hour))
	next := f.pendingKey(t, wsA, ports.AlgRS256, 24*time.Hour)
	f.signer.Forget(wsA)
	expectPublished(t, f, wsA, []*ports.SigningKey{next, f.keyA}, []string{"ES256", "RS256"})
	expectSigner(t, f, longClaims(), f.keyA)

	// A pending key verifies already: a replica whose clock runs ahead may have signed with it.
	c := mapClaims(wsA)
	c["exp"] = t0.AddDate(0, 0, 30).Unix()
	early := forge(t, jwt.SigningMethodRS256, f.privateKey(t, next), header(next), c)
	expectVerifies(t, f, "value of the pending key", early, next)

	reads := f.store.readCount()
	f.clock.Set(next.ActivatesAt.Add(-time.Nanosecond))
	expectSigner(t, f, longClaims(), f.keyA)

	// Its time comes: it signs, with no reload, and the old key, retiring, still verifies.
	f.clock.Set(next.ActivatesAt)
	newValue := expectSigner(t, f, longClaims(), next)
	expectVerifies(t, f, "value of the retiring key", oldValue, f.keyA)
	expectVerifies(t, f, "value of the active key", newValue, next)
	expectPublished(t, f, wsA, []*ports.SigningKey{next, f.keyA}, []string{"ES256", "RS256"})
	if got := f.store.readCount(); got != reads {
		t.Errorf("the activation read the store %d times", got-reads)
	}

	// Once no value it signed is live, it is retired: unpublished, and its values are refused.
	f.clock.Set(next.ActivatesAt.Add(time.Hour))
	f.store.retire(t, f.keyA, f.clock.Now())
	f.signer.Forget(wsA)
	expectInvalid(t, f.signer, "value of the retired key", oldValue)
	expectPublished(t, f, wsA, []*ports.SigningKey{next}, []string{"RS256"})
	expectVerifies(t, f, "value of the active key", newValue, next)
	if _, err := f.signer.Verify(ctx, early); err != nil {
		t.Errorf("early value: %v", err)
	}
}

func TestRevokedKeys(t *testing.T) {
	f := newFixture(t)
	value := expectSigner(t, f, longClaims(), f.keyA)

	// Emergency revocation of the active key: a replacement that signs at once comes first.
	f.clock.Set(t0.Add(time.Minute))
	replacement := f.newKey(t, wsA, ports.AlgEdDSA)
	pending := f.pendingKey(t, wsA, ports.AlgRS256, time.Hour)
	f.signer.Forget(wsA)
	early := forge(t, jwt.SigningMethodRS256, f.privateKey(t, pending), header(pending), mapClaims(wsA))
	expectVerifies(t, f, "value of the pending key", early, pending)

	f.store.revoke(t, f.keyA, f.clock.Now())
	f.store.revoke(t, pending, f.clock.Now())
	f.signer.Forget(wsA)
	expectInvalid(t, f.signer, "value of the revoked active key", value)
	expectInvalid(t, f.signer, "value of the revoked pending key", early)
	expectPublished(t, f, wsA, []*ports.SigningKey{replacement}, []string{"EdDSA"})

	// A revoked pending key never starts signing.
	f.clock.Set(pending.ActivatesAt.Add(time.Minute))
	expectSigner(t, f, longClaims(), replacement)
}

func TestSignWithoutActiveKey(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const wsC = "ws_cccccccccccccccccccccccc"
	pending := f.pendingKey(t, wsC, ports.AlgEdDSA, time.Hour)
	c := sampleClaims()
	c.WorkspaceID, c.Issuer = wsC, ""

	reads := f.store.readCount()
	if _, _, err := f.signer.Sign(ctx, c); ports.ErrorCode(err) != ports.EINTERNAL {
		t.Errorf("Sign with only a pending key: err = %v, want internal", err)
	}
	if _, _, err := f.signer.Sign(ctx, c); ports.ErrorCode(err) != ports.EINTERNAL {
		t.Errorf("Sign with only a pending key: err = %v, want internal", err)
	}
	if got := f.store.readCount() - reads; got != 2 {
		t.Errorf("store read %d times, want 2 (the load, then one reload)", got)
	}

	reads = f.store.readCount()
	f.clock.Set(pending.ActivatesAt)
	expectSigner(t, f, c, pending)
	if got := f.store.readCount(); got != reads {
		t.Errorf("store read %d times once the key activated", got-reads)
	}

	// Every key revoked: nothing signs. A key stored meanwhile (by another replica, before its
	// change reached this one) is found by the one reload.
	f.store.revoke(t, pending, f.clock.Now())
	f.signer.Forget(wsC)
	if _, _, err := f.signer.Sign(ctx, c); ports.ErrorCode(err) != ports.EINTERNAL {
		t.Errorf("Sign with only a revoked key: err = %v, want internal", err)
	}
	added := f.newKey(t, wsC, ports.AlgES256)
	expectSigner(t, f, c, added)
}

func TestUnusableStoredKeys(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()

	// A broken key that is retired harms nothing.
	f.clock.Set(t0.Add(time.Minute))
	broken := f.newKey(t, wsA, ports.AlgES256)
	f.store.retire(t, broken, f.clock.Now())
	f.store.setRaw(wsA, broken.KID, func(k *ports.SigningKey) { k.PublicJWK = []byte("{") })
	f.signer.Forget(wsA)
	expectPublished(t, f, wsA, []*ports.SigningKey{f.keyA}, []string{"ES256"})
	expectSigner(t, f, longClaims(), f.keyA)

	// A published one is an internal error wherever it is needed, never a silent skip.
	for name, change := range map[string]func(*ports.SigningKey){
		"malformed JWK":       func(k *ports.SigningKey) { k.PublicJWK = []byte(`{"kty":"EC"}`) },
		"unknown algorithm":   func(k *ports.SigningKey) { k.Algorithm = "HS256" },
		"algorithm mismatch":  func(k *ports.SigningKey) { k.Algorithm = ports.AlgRS256 },
		"another workspace's": func(k *ports.SigningKey) { k.WorkspaceID = wsB },
	} {
		f := newFixture(t)
		value := expectSigner(t, f, longClaims(), f.keyA)
		f.store.setRaw(wsA, f.keyA.KID, change)
		f.signer.Forget(wsA)
		if _, _, err := f.signer.JWKS(ctx, wsA); ports.ErrorCode(err) != ports.EINTERNAL {
			t.Errorf("%s: JWKS err = %v, want internal", name, err)
		}
		if _, _, err := f.signer.Sign(ctx, sampleClaims()); ports.ErrorCode(err) != ports.EINTERNAL {
			t.Errorf("%s: Sign err = %v, want internal", name, err)
		}
		if _, err := f.signer.Verify(ctx, value); ports.ErrorCode(err) != ports.EINTERNAL {
			t.Errorf("%s: Verify err = %v, want internal", name, err)
		}
	}
}
