package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"github.com/tooken/tooken/core"
)

// jwtParts decodes a compact JWT's header and claims (without verifying anything).
func jwtParts(t *testing.T, value string) (header, claims map[string]any, sig string) {
	t.Helper()
	parts := strings.Split(value, ".")
	if len(parts) != 3 {
		t.Fatalf("%q is not a compact JWT", value)
	}
	for i, dst := range []*map[string]any{&header, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			t.Fatal(err)
		}
	}
	return header, claims, parts[2]
}

func b64JSON(t *testing.T, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(raw)
}

// compact assembles header.claims.sig with the signature computed by sign over the signing input.
func compact(t *testing.T, header, claims map[string]any, sign func(input string) string) string {
	t.Helper()
	input := b64JSON(t, header) + "." + b64JSON(t, claims)
	return input + "." + sign(input)
}

func hs256(secret []byte) func(string) string {
	return func(input string) string {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(input))
		return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
}

// es256 signs claims with an attacker's own P-256 key, with the given kid and typ at+jwt.
func es256(t *testing.T, kid string, claims map[string]any) string {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	opts := (&jose.SignerOptions{}).WithType("at+jwt").WithHeader("kid", kid)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: priv}, opts)
	if err != nil {
		t.Fatal(err)
	}
	value, err := josejwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return value
}

func with(m map[string]any, kv ...any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// TestGarbageCredentialsAre401InvalidOrMissingAPIKey sends malformed Authorization headers and
// API keys that are mistyped (bad checksum) or unknown: each is 401 "Invalid or missing API key" with
// the invalid_token challenge, and a create request carrying one writes nothing.
func TestGarbageCredentialsAre401InvalidOrMissingAPIKey(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ws := s.bootstrap(t, "Acme")
	before := s.snapshot(t, ws)

	key := ws.APIKey
	last := key[len(key)-1]
	flipped := byte('A')
	if last == 'A' {
		flipped = 'B'
	}
	badChecksum := key[:len(key)-1] + string(flipped)
	typo := key[:len(core.APIKeyPrefix)] + string(key[len(core.APIKeyPrefix)]^1) + key[len(core.APIKeyPrefix)+1:]
	unknown := core.NewAPIKeySecret() // well-formed, valid checksum, never issued
	if !core.ValidAPIKeyFormat(unknown) || core.ValidAPIKeyFormat(badChecksum) || core.ValidAPIKeyFormat(typo) {
		t.Fatal("test keys are not what they claim to be")
	}

	cases := map[string]string{
		"no header":                 "",
		"scheme only":               "Bearer",
		"scheme and a space":        "Bearer ",
		"one character":             "Bearer x",
		"basic scheme":              "Basic abc",
		"basic scheme with the key": "Basic " + key,
		"token scheme with the key": "Token " + key,
		"API key, bad checksum":     "Bearer " + badChecksum,
		"API key with a typo":       "Bearer " + typo,
		"unknown API key":           "Bearer " + unknown,
		"API key, truncated":        "Bearer " + key[:len(key)-1],
		"API key, one char extra":   "Bearer " + key + "A",
		"API key, wrong prefix":     "Bearer tok_test_" + key[len(core.APIKeyPrefix):],
		"two credentials":           "Bearer " + key + " " + key,
		"8 KiB of junk":             "Bearer " + strings.Repeat("x", 9000),
	}
	for name, authz := range cases {
		t.Run(name, func(t *testing.T) {
			h := http.Header{}
			if authz != "" {
				h.Set("Authorization", authz)
			}
			requireError(t, s.doHeader(t, "GET", "/v1/tokens", h, nil), http.StatusUnauthorized, "unauthorized", msgInvalidAPIKey)
			r := s.doHeader(t, "POST", "/v1/tokens", h, map[string]any{"name": "x-" + name, "scopes": []string{"tokens:read"}})
			requireError(t, r, http.StatusUnauthorized, "unauthorized", msgInvalidAPIKey)
		})
	}
	// A value shaped like a JWT is judged as one: it is an invalid token, not a missing API key.
	h := http.Header{"Authorization": {"Bearer a.b.c"}}
	requireError(t, s.doHeader(t, "GET", "/v1/tokens", h, nil), http.StatusUnauthorized, "unauthorized", "Invalid token")
	s.requireUnchanged(t, ws, before)
}

// TestForgedJWTsAre401AndWriteNothing presents JWTs an attacker can make without the workspace's
// private key: alg none, HS256 keyed with the published public key (algorithm confusion), a genuine
// token with its scope raised, and values signed by the attacker's own ES256 key under the
// workspace's kid. All are 401 and a create request carrying one writes nothing.
func TestForgedJWTsAre401AndWriteNothing(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ws := s.bootstrap(t, "Acme")
	reader := s.createToken(t, ws.APIKey, map[string]any{"name": "reader", "scopes": []string{"tokens:read"}})
	header, claims, sig := jwtParts(t, reader.Token)
	kid, _ := header["kid"].(string)
	_, set := s.fetchJWKS(t, ws.ID)
	jwk := set.Key(kid)
	if len(jwk) != 1 {
		t.Fatalf("kid %q is not in the JWKS", kid)
	}
	pub := jwk[0].Key.(*ecdsa.PublicKey)
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	ecdhPub, err := pub.ECDH()
	if err != nil {
		t.Fatal(err)
	}
	jwkJSON, err := json.Marshal(jwk[0])
	if err != nil {
		t.Fatal(err)
	}
	hmacSecrets := map[string][]byte{
		"PEM":                pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}),
		"DER":                der,
		"uncompressed point": ecdhPub.Bytes(),
		"JWK JSON":           jwkJSON,
	}
	escalated := with(claims, "scope", "tokens:read tokens:write tokens:revoke")
	none := func(string) string { return "" }

	forged := map[string]string{
		"alg none":                   compact(t, with(header, "alg", "none"), escalated, none),
		"alg None":                   compact(t, with(header, "alg", "None"), claims, none),
		"alg none, signature kept":   compact(t, with(header, "alg", "none"), claims, func(string) string { return sig }),
		"scope raised, sig kept":     compact(t, header, escalated, func(string) string { return sig }),
		"attacker ES256, same kid":   es256(t, kid, escalated),
		"attacker ES256, no kid":     es256(t, "", escalated),
		"attacker ES256, other kid":  es256(t, "kid_attacker", escalated),
		"typ removed, sig kept":      compact(t, map[string]any{"alg": "ES256", "kid": kid}, claims, func(string) string { return sig }),
		"signature truncated":        reader.Token[:len(reader.Token)-4],
		"signature of another value": compact(t, header, with(claims, "jti", "jti_forged"), func(string) string { return sig }),
	}
	for name, secret := range hmacSecrets {
		forged["HS256 keyed with the public key as "+name] = compact(t, with(header, "alg", "HS256"), escalated, hs256(secret))
	}

	before := s.snapshot(t, ws)
	for name, value := range forged {
		t.Run(name, func(t *testing.T) {
			requireError(t, s.do(t, "GET", "/v1/tokens/"+reader.ID, value, nil), http.StatusUnauthorized, "unauthorized", "")
			r := s.do(t, "POST", "/v1/tokens", value, map[string]any{"name": "forged " + name, "scopes": []string{"tokens:read"}})
			requireError(t, r, http.StatusUnauthorized, "unauthorized", "")
			requireError(t, s.do(t, "DELETE", "/v1/tokens/"+reader.ID, value, nil), http.StatusUnauthorized, "unauthorized", "")
			var v struct {
				Valid bool   `json:"valid"`
				Code  string `json:"code"`
			}
			s.do(t, "POST", "/v1/tokens/verify", "", map[string]any{"token": value}).want(t, http.StatusOK).decode(t, &v)
			if v.Valid || v.Code != "INVALID" {
				t.Errorf("verify = %+v, want {false INVALID}", v)
			}
		})
	}
	s.requireUnchanged(t, ws, before)
	if got := s.getToken(t, ws.APIKey, reader.ID); got.Status != "active" {
		t.Errorf("the genuine token is %q after the forgeries, want active", got.Status)
	}
	s.do(t, "GET", "/v1/tokens/"+reader.ID, reader.Token, nil).want(t, http.StatusOK)
}
