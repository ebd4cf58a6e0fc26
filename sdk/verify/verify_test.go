package verify

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

var algs = []string{"ES256", "EdDSA", "RS256"}

func TestVerifyValid(t *testing.T) {
	t.Parallel()
	for _, alg := range algs {
		t.Run(alg, func(t *testing.T) {
			t.Parallel()
			k := newTestKey(t, alg)
			f := newFakeIssuer(t, k)
			v := f.verifier(WithAudience("https://other.example.com", "https://api.example.com"))
			now := f.clock.Now()
			tok := f.token(k, nil)
			for range 2 {
				c, err := v.Verify(t.Context(), tok)
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if c.Issuer != f.issuer || c.Subject != "tok_abc" || c.TokenID != "tok_abc" ||
					c.WorkspaceID != "ws_test" || !strings.HasPrefix(c.JTI, "jti_") || c.KeyID != k.kid {
					t.Errorf("claims = %+v", c)
				}
				if !slices.Equal(c.Audience, []string{"https://api.example.com"}) ||
					!slices.Equal(c.Scopes, []string{"tokens:read", "orders:read"}) {
					t.Errorf("aud/scopes = %v %v", c.Audience, c.Scopes)
				}
				if !c.IssuedAt.Equal(now) || !c.NotBefore.Equal(now) || c.ExpiresAt == nil || !c.ExpiresAt.Equal(now.Add(time.Hour)) {
					t.Errorf("times = %v %v %v", c.IssuedAt, c.NotBefore, c.ExpiresAt)
				}
				if !c.HasScope("orders:read") || c.HasScope("orders:write") ||
					!c.HasAllScopes("tokens:read", "orders:read") || c.HasAllScopes("tokens:read", "audit:read") {
					t.Error("scope helpers disagree with the scopes")
				}
			}
		})
	}
}

func TestVerifyNeverExpiringAndSingleAudience(t *testing.T) {
	t.Parallel()
	k := newTestKey(t, "ES256")
	f := newFakeIssuer(t, k)
	v := f.verifier(WithAudience("https://api.example.com"))
	tok := f.token(k, func(_, c map[string]any) {
		delete(c, "exp")
		c["aud"] = "https://api.example.com"
	})
	f.clock.Advance(50 * 365 * 24 * time.Hour)
	c, err := v.Verify(t.Context(), tok)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if c.ExpiresAt != nil || !slices.Equal(c.Audience, []string{"https://api.example.com"}) {
		t.Errorf("claims = %+v", c)
	}
}

func TestVerifyExpiryAndLeeway(t *testing.T) {
	t.Parallel()
	k := newTestKey(t, "EdDSA")
	f := newFakeIssuer(t, k)
	strict := f.verifier()
	lenient := f.verifier(WithLeeway(30 * time.Second))
	tok := f.token(k, nil)
	future := f.token(k, func(_, c map[string]any) { c["nbf"] = c["nbf"].(int64) + 20 })

	if _, err := strict.Verify(t.Context(), future); !errors.Is(err, ErrNotYetValid) {
		t.Errorf("nbf in 20 s, no leeway: %v, want ErrNotYetValid", err)
	}
	if _, err := lenient.Verify(t.Context(), future); err != nil {
		t.Errorf("nbf in 20 s, 30 s leeway: %v", err)
	}
	f.clock.Advance(time.Hour - time.Nanosecond)
	if _, err := strict.Verify(t.Context(), tok); err != nil {
		t.Errorf("1 ns before exp: %v", err)
	}
	f.clock.Advance(time.Nanosecond)
	if _, err := strict.Verify(t.Context(), tok); !errors.Is(err, ErrExpired) {
		t.Errorf("at exp: %v, want ErrExpired", err)
	}
	if _, err := lenient.Verify(t.Context(), tok); err != nil {
		t.Errorf("at exp, 30 s leeway: %v", err)
	}
	f.clock.Advance(30 * time.Second)
	if _, err := lenient.Verify(t.Context(), tok); !errors.Is(err, ErrExpired) {
		t.Errorf("30 s after exp, 30 s leeway: %v, want ErrExpired", err)
	}
}

// hs256 forges a token signed with HMAC-SHA256 under secret.
func hs256(header, claims map[string]any, secret []byte) string {
	hb, _ := json.Marshal(header)
	cb, _ := json.Marshal(claims)
	input := b64u(hb) + "." + b64u(cb)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(input))
	return input + "." + b64u(m.Sum(nil))
}

func TestVerifyAttacks(t *testing.T) {
	t.Parallel()
	es, ed, rs := newTestKey(t, "ES256"), newTestKey(t, "EdDSA"), newTestKey(t, "RS256")
	f := newFakeIssuer(t, es, ed, rs)
	other := newFakeIssuer(t, newTestKey(t, "ES256"))
	v := f.verifier(WithAudience("https://api.example.com"))

	pubDER, _ := x509.MarshalPKIXPublicKey(es.priv.Public())
	valid := f.token(es, nil)
	parts := strings.Split(valid, ".")
	tamperedClaims := f.claims()
	tamperedClaims["scope"] = "tokens:read tokens:write"
	tcb, _ := json.Marshal(tamperedClaims)
	sig := []byte(parts[2])
	sig[10] = map[bool]byte{true: 'B', false: 'A'}[sig[10] == 'A']

	cases := []struct {
		name  string
		token string
		want  error
	}{
		{"alg none", func() string {
			hb, _ := json.Marshal(map[string]any{"alg": "none", "kid": es.kid, "typ": "at+jwt"})
			cb, _ := json.Marshal(f.claims())
			return b64u(hb) + "." + b64u(cb) + "."
		}(), ErrAlgorithm},
		{"HS256 with the public key as secret", hs256(map[string]any{"alg": "HS256", "kid": es.kid, "typ": "at+jwt"}, f.claims(), pubDER), ErrAlgorithm},
		{"alg differs from the key's", f.token(rs, func(h, _ map[string]any) { h["kid"] = es.kid }), ErrAlgorithm},
		{"kid of another issuer's key", other.token(other.keys[0], func(_, c map[string]any) { c["iss"] = f.issuer }), ErrUnknownKey},
		{"token from another issuer", f.token(ed, func(_, c map[string]any) { c["iss"] = other.issuer }), ErrWrongIssuer},
		{"typ JWT", f.token(es, func(h, _ map[string]any) { h["typ"] = "JWT" }), ErrWrongType},
		{"typ missing", f.token(es, func(h, _ map[string]any) { delete(h, "typ") }), ErrWrongType},
		{"tampered payload", parts[0] + "." + b64u(tcb) + "." + parts[2], ErrBadSignature},
		{"tampered signature", parts[0] + "." + parts[1] + "." + string(sig), ErrBadSignature},
		{"signature of another key with the same alg", other.token(other.keys[0], func(h, c map[string]any) {
			h["kid"], c["iss"] = es.kid, f.issuer
		}), ErrBadSignature},
		{"exp passed", f.token(rs, func(_, c map[string]any) { c["exp"] = c["iat"].(int64) - 1 }), ErrExpired},
		{"nbf in the future", f.token(ed, func(_, c map[string]any) { c["nbf"] = c["iat"].(int64) + 60 }), ErrNotYetValid},
		{"iat in the future", f.token(ed, func(_, c map[string]any) { c["iat"] = c["iat"].(int64) + 60 }), ErrNotYetValid},
		{"wrong audience", f.token(es, func(_, c map[string]any) { c["aud"] = []string{"https://evil.example.com"} }), ErrWrongAudience},
		{"no audience", f.token(es, func(_, c map[string]any) { delete(c, "aud") }), ErrWrongAudience},
		{"crit header", f.token(es, func(h, _ map[string]any) { h["crit"] = []string{"exp"} }), ErrMalformed},
		{"no jti", f.token(es, func(_, c map[string]any) { delete(c, "jti") }), ErrMalformed},
		{"client_id differs from sub", f.token(es, func(_, c map[string]any) { c["client_id"] = "tok_other" }), ErrMalformed},
		{"exp not a number", f.token(es, func(_, c map[string]any) { c["exp"] = "soon" }), ErrMalformed},
		{"two segments", parts[0] + "." + parts[1], ErrMalformed},
		{"four segments", valid + ".x", ErrMalformed},
		{"garbage", "not a token", ErrMalformed},
		{"padded base64", parts[0] + "=." + parts[1] + "." + parts[2], ErrMalformed},
		{"empty", "", ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for range 2 {
				c, err := v.Verify(t.Context(), tc.token)
				if !errors.Is(err, tc.want) || c != nil {
					t.Fatalf("Verify = %v, %v; want %v", c, err, tc.want)
				}
			}
		})
	}
	if _, err := v.Verify(t.Context(), valid); err != nil {
		t.Errorf("the untampered token: %v", err)
	}
}
