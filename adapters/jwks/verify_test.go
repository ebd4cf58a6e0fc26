package jwks

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tooken/tooken/ports"
)

// expectInvalid asserts Verify fails with exactly ports.ErrInvalidToken and never echoes the value.
func expectInvalid(t *testing.T, s *Signer, name, value string) {
	t.Helper()
	got, err := s.Verify(context.Background(), value)
	if err != ports.ErrInvalidToken || got != nil {
		t.Errorf("%s: Verify = %+v, %v; want ErrInvalidToken", name, got, err)
	}
	if err != nil && len(value) > 3 && strings.Contains(err.Error(), value) {
		t.Errorf("%s: error echoes the value", name)
	}
}

func TestVerifyRejectsAlgNone(t *testing.T) {
	f := newFixture(t)
	value := forge(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, header(f.keyA), mapClaims(wsA))
	expectInvalid(t, f.signer, "alg none", value)
	expectInvalid(t, f.signer, "alg none, signature kept", value+"c2ln")
	for _, alg := range []string{"None", "NONE", "nOnE"} {
		h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"` + alg + `","kid":"` + f.keyA.KID + `","typ":"at+jwt"}`))
		b, _ := json.Marshal(mapClaims(wsA))
		expectInvalid(t, f.signer, "alg "+alg, h+"."+base64.RawURLEncoding.EncodeToString(b)+".")
	}
}

func TestVerifyRejectsTampering(t *testing.T) {
	f := newFixture(t)
	value, _, err := f.signer.Sign(context.Background(), sampleClaims())
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(value, ".")
	body := segment(t, value, 1)
	body["scope"] = "admin"
	b, _ := json.Marshal(body)
	expectInvalid(t, f.signer, "tampered payload", parts[0]+"."+base64.RawURLEncoding.EncodeToString(b)+"."+parts[2])

	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sig[len(sig)-1] ^= 1
	expectInvalid(t, f.signer, "tampered signature", parts[0]+"."+parts[1]+"."+base64.RawURLEncoding.EncodeToString(sig))
	expectInvalid(t, f.signer, "no signature", parts[0]+"."+parts[1]+".")
	expectInvalid(t, f.signer, "padded signature", value+"=")
	expectInvalid(t, f.signer, "trailing segment", value+".x")
}

func TestVerifyRejectsOtherWorkspacesKey(t *testing.T) {
	f := newFixture(t)
	privB := f.privateKey(t, f.keyB)
	expectInvalid(t, f.signer, "B's key claiming A's wid", forge(t, jwt.SigningMethodES256, privB, header(f.keyB), mapClaims(wsA)))

	c := mapClaims(wsB)
	c["iss"] = ports.IssuerURL(testURL, wsA)
	expectInvalid(t, f.signer, "B's key and wid with A's issuer", forge(t, jwt.SigningMethodES256, privB, header(f.keyB), c))

	h := header(f.keyA)
	expectInvalid(t, f.signer, "B's key under A's kid", forge(t, jwt.SigningMethodES256, privB, h, mapClaims(wsA)))
}

func TestVerifyRejectsBadHeadersAndClaims(t *testing.T) {
	f := newFixture(t)
	priv := f.privateKey(t, f.keyA)
	sign := func(h map[string]any, c jwt.MapClaims) string {
		return forge(t, jwt.SigningMethodES256, priv, h, c)
	}
	if _, err := f.signer.Verify(context.Background(), sign(header(f.keyA), mapClaims(wsA))); err != nil {
		t.Fatalf("control value does not verify: %v", err)
	}

	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	cases := map[string]string{
		"unknown kid":            forge(t, jwt.SigningMethodES256, other, map[string]any{"kid": "sig_unknown", "typ": TokenType}, mapClaims(wsA)),
		"no kid":                 sign(map[string]any{"typ": TokenType}, mapClaims(wsA)),
		"kid not a string":       sign(map[string]any{"kid": 42, "typ": TokenType}, mapClaims(wsA)),
		"ES384 label":            forge(t, jwt.SigningMethodES384, p384, header(f.keyA), mapClaims(wsA)),
		"unknown key, known kid": forge(t, jwt.SigningMethodES256, other, header(f.keyA), mapClaims(wsA)),
		"crit header":            sign(map[string]any{"kid": f.keyA.KID, "typ": TokenType, "crit": []string{"exp"}}, mapClaims(wsA)),
	}
	for _, typ := range []any{nil, "JWT", "AT+JWT", "application/at+jwt", "at+jwt ", 1} {
		h := header(f.keyA)
		h["typ"] = typ
		if typ == nil {
			delete(h, "typ")
		}
		cases["typ "+jsonString(typ)] = sign(h, mapClaims(wsA))
	}
	for name, mutate := range map[string]func(jwt.MapClaims){
		"wrong iss":          func(c jwt.MapClaims) { c["iss"] = "https://evil.example.com/w/" + wsA },
		"other ws iss":       func(c jwt.MapClaims) { c["iss"] = ports.IssuerURL(testURL, wsB) },
		"no iss":             func(c jwt.MapClaims) { delete(c, "iss") },
		"no sub":             func(c jwt.MapClaims) { delete(c, "sub") },
		"no jti":             func(c jwt.MapClaims) { delete(c, "jti") },
		"no wid":             func(c jwt.MapClaims) { delete(c, "wid") },
		"client_id mismatch": func(c jwt.MapClaims) { c["client_id"] = "tok_other" },
		"wid not a string":   func(c jwt.MapClaims) { c["wid"] = 7 },
		"exp not a number":   func(c jwt.MapClaims) { c["exp"] = "tomorrow" },
		"nbf in the future":  func(c jwt.MapClaims) { c["nbf"] = t0.Unix() + 1 },
	} {
		c := mapClaims(wsA)
		mutate(c)
		cases[name] = sign(header(f.keyA), c)
	}
	for name, value := range cases {
		expectInvalid(t, f.signer, name, value)
	}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestVerifyRejectsGarbage(t *testing.T) {
	f := newFixture(t)
	random := make([]byte, 96)
	_, _ = rand.Read(random)
	enc := base64.RawURLEncoding.EncodeToString
	hdr := enc([]byte(`{"alg":"ES256","kid":"` + f.keyA.KID + `","typ":"at+jwt"}`))
	for name, value := range map[string]string{
		"empty":             "",
		"a.b.c":             "a.b.c",
		"dots":              "..",
		"random base64":     enc(random),
		"random base64 x3":  enc(random[:32]) + "." + enc(random[32:64]) + "." + enc(random[64:]),
		"header only":       hdr,
		"payload not json":  hdr + "." + enc([]byte("not json")) + "." + enc(random),
		"payload array":     hdr + "." + enc([]byte(`[1,2]`)) + "." + enc(random),
		"huge":              strings.Repeat("a", maxTokenLen+1),
		"bearer prefix":     "Bearer " + hdr,
		"unknown workspace": forge(t, jwt.SigningMethodES256, f.privateKey(t, f.keyA), header(f.keyA), mapClaims("ws_zzzzzzzzzzzzzzzzzzzzzzzz")),
	} {
		expectInvalid(t, f.signer, name, value)
	}
}

func TestVerifyDoesNotQueryTheStoreWithGarbage(t *testing.T) {
	f := newFixture(t)
	priv := f.privateKey(t, f.keyA)
	reads := f.store.readCount()
	for _, wid := range []string{"../ws", "ws a", strings.Repeat("w", 65), ""} {
		c := mapClaims(wsA)
		c["wid"] = wid
		expectInvalid(t, f.signer, "wid "+wid, forge(t, jwt.SigningMethodES256, priv, header(f.keyA), c))
	}
	expectInvalid(t, f.signer, "kid with a quote", forge(t, jwt.SigningMethodES256, priv, map[string]any{"kid": "sig_'", "typ": TokenType}, mapClaims(wsA)))
	if got := f.store.readCount(); got != reads {
		t.Errorf("malformed ids reached the store %d times", got-reads)
	}
}

func TestVerifyRejectsUnpublishedKey(t *testing.T) {
	f := newFixture(t)
	value, _, err := f.signer.Sign(context.Background(), sampleClaims())
	if err != nil {
		t.Fatal(err)
	}
	f.store.revoke(t, f.keyA, t0)
	f.signer.Forget(wsA)
	expectInvalid(t, f.signer, "revoked key", value)

	f = newFixture(t)
	if value, _, err = f.signer.Sign(context.Background(), sampleClaims()); err != nil {
		t.Fatal(err)
	}
	f.store.retire(t, f.keyA, t0)
	f.signer.Forget(wsA)
	expectInvalid(t, f.signer, "retired key", value)
}

func TestVerifyPassesStoreErrorsThrough(t *testing.T) {
	f := newFixture(t)
	value, _, err := f.signer.Sign(context.Background(), sampleClaims())
	if err != nil {
		t.Fatal(err)
	}
	f.signer.Forget(wsA)
	unavailable := ports.Errorf(ports.EUNAVAILABLE, "database unavailable")
	f.store.setErr(unavailable)
	if _, err := f.signer.Verify(context.Background(), value); err != unavailable {
		t.Errorf("Verify err = %v, want the store's error", err)
	}
	f.store.setErr(context.DeadlineExceeded)
	_, err = f.signer.Verify(context.Background(), value)
	if ports.ErrorCode(err) != ports.EINTERNAL || !strings.Contains(err.Error(), "deadline") {
		t.Errorf("Verify err = %v, want internal wrapping the cause", err)
	}
	if _, _, err := f.signer.JWKS(context.Background(), wsA); ports.ErrorCode(err) != ports.EINTERNAL {
		t.Errorf("JWKS err = %v", err)
	}
	f.store.setErr(nil)
	if _, err := f.signer.Verify(context.Background(), value); err != nil {
		t.Errorf("after recovery: %v", err)
	}
}
