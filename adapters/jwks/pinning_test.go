package jwks

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tooken/tooken/ports"
)

// TestVerifyRejectsHMACWithPublicKey is the classic algorithm-confusion attack: an HMAC value keyed
// with the (public) verification key, in every encoding a careless verifier might feed HMAC.
func TestVerifyRejectsHMACWithPublicKey(t *testing.T) {
	forEachAlg(t, func(t *testing.T, alg string) {
		f := newFixtureAlg(t, alg)
		pub := f.privateKey(t, f.keyA).Public()
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		secrets := map[string][]byte{
			"JWK":      f.keyA.PublicJWK,
			"PKIX DER": der,
			"PEM":      pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}),
		}
		switch k := pub.(type) {
		case *ecdsa.PublicKey:
			secrets["raw point"], _ = k.Bytes()
		case ed25519.PublicKey:
			secrets["raw key"] = k
		case *rsa.PublicKey:
			pkcs1 := x509.MarshalPKCS1PublicKey(k)
			secrets["PKCS#1 DER"] = pkcs1
			secrets["PKCS#1 PEM"] = pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: pkcs1})
			secrets["modulus"] = k.N.Bytes()
		}
		for name, secret := range secrets {
			for _, m := range []jwt.SigningMethod{jwt.SigningMethodHS256, jwt.SigningMethodHS384, jwt.SigningMethodHS512} {
				value := forge(t, m, secret, header(f.keyA), mapClaims(wsA))
				expectInvalid(t, f.signer, m.Alg()+" keyed with the "+name, value)
			}
		}
	})
}

// TestVerifyPinsTheAlgorithmPerKey checks that a key verifies only values of its own algorithm, even
// when the workspace publishes keys of every algorithm and the value is genuinely signed by one.
func TestVerifyPinsTheAlgorithmPerKey(t *testing.T) {
	f := newFixture(t)
	f.clock.Set(t0.Add(time.Minute))
	ed := f.newKey(t, wsA, ports.AlgEdDSA)
	f.clock.Set(t0.Add(2 * time.Minute))
	rs := f.newKey(t, wsA, ports.AlgRS256)
	keys := []*ports.SigningKey{f.keyA, ed, rs}
	privs := map[string]any{}
	for _, k := range keys {
		privs[k.Algorithm] = f.privateKey(t, k)
		control := forge(t, method(k.Algorithm), privs[k.Algorithm], header(k), mapClaims(wsA))
		expectVerifies(t, f, k.Algorithm+" control", control, k)
	}

	// Another published key of the workspace signs, under this key's kid.
	for _, k := range keys {
		for _, other := range keys {
			if other != k {
				value := forge(t, method(other.Algorithm), privs[other.Algorithm], header(k), mapClaims(wsA))
				expectInvalid(t, f.signer, k.Algorithm+" kid, "+other.Algorithm+" value", value)
			}
		}
	}

	// The RS256 key's kid with an ES256, HS256 or none header.
	attacker, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for name, value := range map[string]string{
		"ES256 by an attacker's key": forge(t, jwt.SigningMethodES256, attacker, header(rs), mapClaims(wsA)),
		"HS256 keyed with its JWK":   forge(t, jwt.SigningMethodHS256, []byte(rs.PublicJWK), header(rs), mapClaims(wsA)),
		"none": forge(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType,
			header(rs), mapClaims(wsA)),
	} {
		expectInvalid(t, f.signer, "RS256 kid, "+name, value)
	}

	// The same RSA key material under another RSA algorithm is still not RS256.
	rsaPriv := privs[ports.AlgRS256]
	for _, m := range []jwt.SigningMethod{jwt.SigningMethodRS384, jwt.SigningMethodRS512,
		jwt.SigningMethodPS256, jwt.SigningMethodPS384, jwt.SigningMethodPS512} {
		expectInvalid(t, f.signer, "RSA key as "+m.Alg(), forge(t, m, rsaPriv, header(rs), mapClaims(wsA)))
	}
	// Nor is the P-256 key under ES384/ES512 labels (golang-jwt would refuse the curve anyway).
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	expectInvalid(t, f.signer, "ES384 under the ES256 kid", forge(t, jwt.SigningMethodES384, p384, header(f.keyA), mapClaims(wsA)))
}
