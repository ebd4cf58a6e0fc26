package jwks

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tooken/tooken/ports"
)

func TestNewRejectsBadConfig(t *testing.T) {
	store, clock := newFakeStore(), &fakeClock{now: t0}
	cases := map[string]func() (*Signer, error){
		"short master key": func() (*Signer, error) { return New(store, testMasterKey[:16], testURL, clock) },
		"nil master key":   func() (*Signer, error) { return New(store, nil, testURL, clock) },
		"nil store":        func() (*Signer, error) { return New(nil, testMasterKey, testURL, clock) },
		"nil clock":        func() (*Signer, error) { return New(store, testMasterKey, testURL, nil) },
		"no public URL":    func() (*Signer, error) { return New(store, testMasterKey, "", clock) },
	}
	for name, fn := range cases {
		if s, err := fn(); err == nil || s != nil {
			t.Errorf("%s: New = %v, %v; want an error", name, s, err)
		}
	}
}

var kidPattern = regexp.MustCompile(`^sig_[a-z2-7]{24}$`)

func TestNewSigningKey(t *testing.T) {
	fields := map[string][]string{
		ports.AlgES256: {"alg", "crv", "kid", "kty", "use", "x", "y"},
		ports.AlgEdDSA: {"alg", "crv", "kid", "kty", "use", "x"},
		ports.AlgRS256: {"alg", "e", "kid", "kty", "n", "use"},
	}
	forEachAlg(t, func(t *testing.T, alg string) {
		f := newFixtureAlg(t, alg)
		k := f.keyA
		if !kidPattern.MatchString(k.KID) || k.KID == f.keyB.KID {
			t.Errorf("kid = %q (other %q)", k.KID, f.keyB.KID)
		}
		if k.WorkspaceID != wsA || k.Algorithm != alg || k.RetiredAt != nil || k.RevokedAt != nil {
			t.Errorf("key = %+v", k)
		}
		if !k.CreatedAt.Equal(t0) || !k.ActivatesAt.Equal(t0) {
			t.Errorf("times = %v, %v; want both now", k.CreatedAt, k.ActivatesAt)
		}
		var jwk map[string]string
		if err := json.Unmarshal(k.PublicJWK, &jwk); err != nil {
			t.Fatal(err)
		}
		if got := slices.Sorted(maps.Keys(jwk)); !slices.Equal(got, fields[alg]) {
			t.Errorf("JWK fields = %v, want %v", got, fields[alg])
		}
		if jwk["alg"] != alg || jwk["use"] != "sig" || jwk["kid"] != k.KID {
			t.Errorf("JWK = %v", jwk)
		}
		switch alg {
		case ports.AlgES256:
			if jwk["kty"] != "EC" || jwk["crv"] != "P-256" || len(jwk["x"]) != 43 || len(jwk["y"]) != 43 {
				t.Errorf("JWK = %v, want an EC P-256 key with 32-byte coordinates", jwk)
			}
		case ports.AlgEdDSA:
			if jwk["kty"] != "OKP" || jwk["crv"] != "Ed25519" || len(jwk["x"]) != 43 {
				t.Errorf("JWK = %v, want an OKP Ed25519 key", jwk)
			}
		case ports.AlgRS256:
			if jwk["kty"] != "RSA" || jwk["e"] != "AQAB" || len(jwk["n"]) != 342 {
				t.Errorf("JWK = %v, want a 2048-bit RSA key with e=65537", jwk)
			}
			if bits := f.privateKey(t, k).(*rsa.PrivateKey).N.BitLen(); bits != 2048 {
				t.Errorf("RSA key of %d bits", bits)
			}
		}
		canonical, pub, err := parsePublicJWK(algorithms[alg], k.PublicJWK, k.KID)
		if err != nil {
			t.Fatalf("the JWK does not parse back: %v", err)
		}
		if b, _ := json.Marshal(canonical); !bytes.Equal(b, k.PublicJWK) {
			t.Errorf("canonical JWK %s differs from the stored %s", b, k.PublicJWK)
		}
		if !f.privateKey(t, k).Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(pub) {
			t.Error("the private half does not match the JWK")
		}
	})
}

func TestNewSigningKeyRefusesUnknownAlgorithms(t *testing.T) {
	f := newFixture(t)
	for _, alg := range []string{"", "HS256", "none", "es256", "ES384", "RS512", "PS256", "Ed25519", "EdDSA ", "<script>"} {
		k, err := f.signer.NewSigningKey(context.Background(), wsA, alg)
		if k != nil || ports.ErrorCode(err) != ports.EINVALID {
			t.Errorf("NewSigningKey(%q) = %v, %v; want invalid", alg, k, err)
			continue
		}
		msg := ports.ErrorMessage(err)
		if !strings.Contains(msg, "ES256, EdDSA, RS256") || (len(alg) > 2 && strings.Contains(msg, alg)) {
			t.Errorf("NewSigningKey(%q) message = %q; want the supported algorithms, not the input", alg, msg)
		}
	}
}

func TestSignVerifyRoundTrip(t *testing.T) {
	forEachAlg(t, func(t *testing.T, alg string) {
		f := newFixtureAlg(t, alg)
		in := sampleClaims()
		value, kid, err := f.signer.Sign(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		if kid != f.keyA.KID {
			t.Errorf("Sign kid = %q, want %q", kid, f.keyA.KID)
		}
		want := map[string]any{"alg": alg, "kid": f.keyA.KID, "typ": "at+jwt"}
		if got := segment(t, value, 0); !reflect.DeepEqual(got, want) {
			t.Errorf("header = %v, want %v", got, want)
		}
		got, err := f.signer.Verify(context.Background(), value)
		if err != nil {
			t.Fatal(err)
		}
		wantClaims := in
		wantClaims.KeyID = f.keyA.KID
		if !reflect.DeepEqual(got, &wantClaims) {
			t.Errorf("Verify =\n%+v\nwant\n%+v", got, &wantClaims)
		}

		body := segment(t, value, 1)
		for claim, v := range map[string]any{
			"iss": ports.IssuerURL(testURL, wsA), "sub": in.Subject, "client_id": in.Subject, "jti": "jti_1",
			"scope": "read:users write:orders", "wid": wsA,
			"iat": float64(t0.Unix()), "nbf": float64(t0.Unix()), "exp": float64(t0.Add(time.Hour).Unix()),
			"aud": []any{"https://api.example.com"},
		} {
			if !reflect.DeepEqual(body[claim], v) {
				t.Errorf("claim %s = %#v, want %#v", claim, body[claim], v)
			}
		}
		if len(body) != 10 {
			t.Errorf("claims = %v, want exactly 10", body)
		}
	})
}

func TestSignWithoutExpiryAndDefaults(t *testing.T) {
	f := newFixture(t)
	in := sampleClaims()
	in.ExpiresAt, in.Issuer, in.IssuedAt, in.NotBefore = nil, "", time.Time{}, time.Time{}
	in.Audience = []string{"a", "b"}
	value, _, err := f.signer.Sign(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := segment(t, value, 1)["exp"]; ok {
		t.Error("exp claim present for a never-expiring token")
	}
	f.clock.Set(t0.AddDate(50, 0, 0))
	got, err := f.signer.Verify(context.Background(), value)
	if err != nil {
		t.Fatal(err)
	}
	if got.ExpiresAt != nil || got.Issuer != ports.IssuerURL(testURL, wsA) ||
		!got.IssuedAt.Equal(t0) || !got.NotBefore.Equal(t0) || !slices.Equal(got.Audience, in.Audience) {
		t.Errorf("Verify = %+v", got)
	}
}

func TestSignUsesNewestActiveKey(t *testing.T) {
	f := newFixture(t)
	f.clock.Set(t0.Add(time.Minute))
	newer := f.newKey(t, wsA, ports.AlgEdDSA)
	f.signer.Forget(wsA)
	value, kid, err := f.signer.Sign(context.Background(), sampleClaims())
	if err != nil {
		t.Fatal(err)
	}
	if h := segment(t, value, 0); kid != newer.KID || h["kid"] != newer.KID || h["alg"] != "EdDSA" {
		t.Errorf("signed with %v (kid %s), want the newest key %s", h, kid, newer.KID)
	}
	f.clock.Set(t0)
	got, err := f.signer.Verify(context.Background(), value)
	if err != nil || got.KeyID != newer.KID {
		t.Errorf("Verify = %+v, %v", got, err)
	}
}

func TestSignErrors(t *testing.T) {
	f := newFixture(t)
	for name, mutate := range map[string]func(*ports.Claims){
		"no workspace":    func(c *ports.Claims) { c.WorkspaceID = "" },
		"no subject":      func(c *ports.Claims) { c.Subject = "" },
		"no jti":          func(c *ports.Claims) { c.JTI = "" },
		"foreign issuer":  func(c *ports.Claims) { c.Issuer = "https://evil.example.com/w/" + wsA },
		"no signing keys": func(c *ports.Claims) { c.WorkspaceID, c.Issuer = "ws_nokeys", "" },
	} {
		c := sampleClaims()
		mutate(&c)
		if v, _, err := f.signer.Sign(context.Background(), c); err == nil || ports.ErrorCode(err) != ports.EINTERNAL {
			t.Errorf("%s: Sign = %q, %v; want an internal error", name, v, err)
		}
	}
}

func TestExpiry(t *testing.T) {
	f := newFixture(t)
	value, _, err := f.signer.Sign(context.Background(), sampleClaims())
	if err != nil {
		t.Fatal(err)
	}
	exp := t0.Add(time.Hour)
	for _, tc := range []struct {
		at   time.Time
		want error
	}{
		{exp.Add(-time.Second), nil},
		{exp.Add(-time.Nanosecond), nil},
		{exp, ports.ErrTokenExpired},
		{exp.Add(time.Second), ports.ErrTokenExpired},
		{exp.AddDate(1, 0, 0), ports.ErrTokenExpired},
		{t0.Add(-time.Second), ports.ErrInvalidToken}, // before nbf
	} {
		f.clock.Set(tc.at)
		_, err := f.signer.Verify(context.Background(), value)
		if err != tc.want {
			t.Errorf("at exp%+v: Verify err = %v, want %v", tc.at.Sub(exp), err, tc.want)
		}
		if tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("errors.Is(%v, %v) = false", err, tc.want)
		}
	}
}

func TestExpiredButOtherwiseInvalid(t *testing.T) {
	f := newFixture(t)
	priv := f.privateKey(t, f.keyA)
	f.clock.Set(t0.Add(2 * time.Hour))
	for name, mutate := range map[string]func(jwt.MapClaims){
		"wrong issuer":  func(c jwt.MapClaims) { c["iss"] = "https://evil.example.com" },
		"missing jti":   func(c jwt.MapClaims) { delete(c, "jti") },
		"foreign wid":   func(c jwt.MapClaims) { c["wid"] = wsB },
		"nbf in future": func(c jwt.MapClaims) { c["nbf"] = t0.Add(3 * time.Hour).Unix() },
	} {
		c := mapClaims(wsA)
		mutate(c)
		value := forge(t, jwt.SigningMethodES256, priv, header(f.keyA), c)
		if _, err := f.signer.Verify(context.Background(), value); err != ports.ErrInvalidToken {
			t.Errorf("%s: Verify err = %v, want ErrInvalidToken", name, err)
		}
	}
	value := forge(t, jwt.SigningMethodES256, priv, header(f.keyA), mapClaims(wsA))
	if _, err := f.signer.Verify(context.Background(), value); err != ports.ErrTokenExpired {
		t.Errorf("control: Verify err = %v, want ErrTokenExpired", err)
	}
}

// TestSignedTokensAreWhatGolangJWTWouldSign pins Sign's own assembly of the token (the key's header
// segment encoded once) to golang-jwt's: the same header and claims give the same signing string, and
// the signature verifies with the library's method.
func TestSignedTokensAreWhatGolangJWTWouldSign(t *testing.T) {
	forEachAlg(t, func(t *testing.T, alg string) {
		f := newFixtureAlg(t, alg)
		value, kid, err := f.signer.Sign(context.Background(), sampleClaims())
		if err != nil {
			t.Fatal(err)
		}
		cut := strings.LastIndexByte(value, '.')
		payload, err := jwt.NewParser().DecodeSegment(strings.Split(value, ".")[1])
		if err != nil {
			t.Fatal(err)
		}
		var claims accessClaims
		if err := json.Unmarshal(payload, &claims); err != nil {
			t.Fatal(err)
		}
		tok := &jwt.Token{Header: map[string]any{"alg": alg, "kid": kid, "typ": TokenType}, Claims: &claims, Method: method(alg)}
		want, err := tok.SigningString()
		if err != nil {
			t.Fatal(err)
		}
		if value[:cut] != want {
			t.Errorf("signing string\n got %s\nwant %s", value[:cut], want)
		}
		sig, err := jwt.NewParser().DecodeSegment(value[cut+1:])
		if err != nil {
			t.Fatal(err)
		}
		if err := method(alg).Verify(want, sig, f.privateKey(t, f.keyA).Public()); err != nil {
			t.Errorf("signature: %v", err)
		}
	})
}
