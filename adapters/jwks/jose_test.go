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

// TestJWKSVerifiesWithGoJose checks the published JWKS and the signed values against an independent
// JOSE implementation.
func TestJWKSVerifiesWithGoJose(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	second := f.newKey(t, wsA)
	f.store.setState(wsA, f.keyA.KID, "retired")
	f.signer.Forget(wsA)

	value, err := f.signer.Sign(ctx, sampleClaims())
	if err != nil {
		t.Fatal(err)
	}
	doc, err := f.signer.JWKS(ctx, wsA)
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
	if !k.Valid() || !k.IsPublic() || k.Algorithm != "ES256" || k.Use != "sig" || k.KeyID != second.KID {
		t.Fatalf("JWK = %+v", k)
	}

	tok, err := josejwt.ParseSigned(value, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	h := tok.Headers[0]
	if h.KeyID != second.KID || h.Algorithm != "ES256" || h.ExtraHeaders["typ"] != TokenType {
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

	var other jose.JSONWebKeySet
	docB, _ := f.signer.JWKS(ctx, wsB)
	_ = json.Unmarshal(docB, &other)
	if err := tok.Claims(other.Keys[0].Key, &std); err == nil {
		t.Error("go-jose verified the value with another workspace's key")
	}
}
