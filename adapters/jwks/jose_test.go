package jwks

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"github.com/tooken/tooken/ports"
)

// TestJWKSVerifiesWithGoJose checks the published JWKS and the signed values of every algorithm
// against an independent JOSE implementation.
func TestJWKSVerifiesWithGoJose(t *testing.T) {
	forEachAlg(t, func(t *testing.T, alg string) {
		f := newFixture(t)
		ctx := context.Background()
		f.clock.Set(t0.Add(time.Minute))
		second := f.newKey(t, wsA, alg)
		f.store.retire(t, f.keyA, f.clock.Now())
		f.signer.Forget(wsA)

		value, _, err := f.signer.Sign(ctx, sampleClaims())
		if err != nil {
			t.Fatal(err)
		}
		doc, _, err := f.signer.JWKS(ctx, wsA)
		if err != nil {
			t.Fatal(err)
		}
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(doc, &set); err != nil {
			t.Fatalf("go-jose cannot parse the JWKS: %v", err)
		}
		if len(set.Keys) != 1 {
			t.Fatalf("JWKS has %d keys, want 1", len(set.Keys))
		}
		k := set.Keys[0]
		if !k.Valid() || !k.IsPublic() || k.Algorithm != alg || k.Use != "sig" || k.KeyID != second.KID {
			t.Fatalf("JWK = %+v", k)
		}

		tok, err := josejwt.ParseSigned(value, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
		if err != nil {
			t.Fatal(err)
		}
		h := tok.Headers[0]
		if h.KeyID != second.KID || h.Algorithm != alg || h.ExtraHeaders["typ"] != TokenType {
			t.Errorf("header = %+v", h)
		}
		keys := set.Key(h.KeyID)
		if len(keys) != 1 {
			t.Fatalf("kid %s not in the JWKS", h.KeyID)
		}
		var std josejwt.Claims
		var extra struct {
			ClientID string `json:"client_id"`
			Scope    string `json:"scope"`
			WID      string `json:"wid"`
		}
		if err := tok.Claims(keys[0].Key, &std, &extra); err != nil {
			t.Fatalf("go-jose does not verify the signature: %v", err)
		}
		in := sampleClaims()
		err = std.ValidateWithLeeway(josejwt.Expected{
			Issuer:      ports.IssuerURL(testURL, wsA),
			Subject:     in.Subject,
			ID:          in.JTI,
			AnyAudience: josejwt.Audience(in.Audience),
			Time:        t0.Add(time.Minute),
		}, 0)
		if err != nil {
			t.Errorf("go-jose claim validation: %v", err)
		}
		if extra.ClientID != in.Subject || extra.Scope != "read:users write:orders" || extra.WID != wsA {
			t.Errorf("extra claims = %+v", extra)
		}

		// go-jose, given a value we signed, refuses it with another key.
		var other jose.JSONWebKeySet
		docB, _, _ := f.signer.JWKS(ctx, wsB)
		_ = json.Unmarshal(docB, &other)
		if err := tok.Claims(other.Keys[0].Key, &std); err == nil {
			t.Error("go-jose verified the value with another workspace's key")
		}
	})
}

// TestGoJoseValuesVerify checks the other direction: a value go-jose signs with our key, as any
// third-party issuer would, verifies with Verify.
func TestGoJoseValuesVerify(t *testing.T) {
	forEachAlg(t, func(t *testing.T, alg string) {
		f := newFixtureAlg(t, alg)
		opts := (&jose.SignerOptions{}).WithType(TokenType).WithHeader(jose.HeaderKey("kid"), f.keyA.KID)
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: f.privateKey(t, f.keyA)}, opts)
		if err != nil {
			t.Fatal(err)
		}
		value, err := josejwt.Signed(signer).Claims(map[string]any(mapClaims(wsA))).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		expectVerifies(t, f, "go-jose value", value, f.keyA)
	})
}
