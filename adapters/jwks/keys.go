package jwks

import (
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// AlgES256 is the JWS algorithm of the keys this package generates.
const AlgES256 = "ES256"

// StateActive is the state of a key that signs and verifies.
const StateActive = "active"

const coordSize = 32 // bytes of a P-256 coordinate

// ecJWK is the public JSON Web Key of a P-256 key. D only exists to detect (and refuse) a stored JWK
// that carries a private half.
type ecJWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	D   string `json:"d,omitempty"`
}

var kidEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newKID returns a random key id: "sig_" and 24 lowercase base32 characters (120 bits).
func newKID() string {
	b := make([]byte, 15)
	_, _ = rand.Read(b)
	return "sig_" + kidEncoding.EncodeToString(b)
}

// validID reports whether s looks like an id or kid we could have issued: short and URL-safe. It keeps
// garbage out of store queries before anything is verified.
func validID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// publicJWK returns the public JWK of pub with the given kid.
func publicJWK(pub *ecdsa.PublicKey, kid string) (ecJWK, error) {
	b, err := pub.Bytes()
	if err != nil {
		return ecJWK{}, err
	}
	if len(b) != 1+2*coordSize || b[0] != 4 {
		return ecJWK{}, errors.New("unexpected public key encoding")
	}
	return ecJWK{
		Kty: "EC",
		Crv: "P-256",
		X:   base64.RawURLEncoding.EncodeToString(b[1 : 1+coordSize]),
		Y:   base64.RawURLEncoding.EncodeToString(b[1+coordSize:]),
		Kid: kid,
		Alg: AlgES256,
		Use: "sig",
	}, nil
}

// parsePublicJWK parses a stored public JWK, checking that it is a P-256 signing key for ES256 with
// the expected kid and no private half.
func parsePublicJWK(raw []byte, kid string) (ecJWK, *ecdsa.PublicKey, error) {
	var j ecJWK
	if err := json.Unmarshal(raw, &j); err != nil {
		return ecJWK{}, nil, fmt.Errorf("public JWK: %w", err)
	}
	switch {
	case j.D != "":
		return ecJWK{}, nil, errors.New("public JWK holds a private key")
	case j.Kty != "EC" || j.Crv != "P-256":
		return ecJWK{}, nil, errors.New("public JWK is not an EC P-256 key")
	case j.Kid != kid:
		return ecJWK{}, nil, errors.New("public JWK kid does not match the key")
	case j.Alg != "" && j.Alg != AlgES256, j.Use != "" && j.Use != "sig":
		return ecJWK{}, nil, errors.New("public JWK is not an ES256 signing key")
	}
	x, errX := base64.RawURLEncoding.Strict().DecodeString(j.X)
	y, errY := base64.RawURLEncoding.Strict().DecodeString(j.Y)
	if errX != nil || errY != nil || len(x) != coordSize || len(y) != coordSize {
		return ecJWK{}, nil, errors.New("public JWK has malformed coordinates")
	}
	point := make([]byte, 0, 1+2*coordSize)
	point = append(append(append(point, 4), x...), y...)
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point)
	if err != nil {
		return ecJWK{}, nil, fmt.Errorf("public JWK: %w", err)
	}
	j.Alg, j.Use = AlgES256, "sig"
	return j, pub, nil
}

// additionalData binds a ciphertext to its key and workspace, so it cannot be moved to another key.
func additionalData(workspaceID, kid string) []byte {
	return []byte("tooken/signing-key/v1\x00" + workspaceID + "\x00" + kid)
}

// encryptPrivateKey returns nonce ‖ AES-256-GCM(PKCS#8 DER of priv).
func encryptPrivateKey(aead cipher.AEAD, workspaceID, kid string, priv *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	defer clear(der)
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(der)+aead.Overhead())
	_, _ = rand.Read(nonce)
	return aead.Seal(nonce, nonce, der, additionalData(workspaceID, kid)), nil
}

// decryptPrivateKey reverses encryptPrivateKey and checks that the private key matches pub.
func decryptPrivateKey(aead cipher.AEAD, workspaceID, kid string, sealed []byte, pub *ecdsa.PublicKey) (*ecdsa.PrivateKey, error) {
	ns := aead.NonceSize()
	if len(sealed) < ns+aead.Overhead() {
		return nil, errors.New("encrypted private key is too short")
	}
	der, err := aead.Open(nil, sealed[:ns], sealed[ns:], additionalData(workspaceID, kid))
	if err != nil {
		return nil, errors.New("cannot decrypt private key (wrong master key or corrupted ciphertext)")
	}
	defer clear(der)
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	priv, ok := k.(*ecdsa.PrivateKey)
	if !ok || priv.Curve != elliptic.P256() {
		return nil, errors.New("private key is not an EC P-256 key")
	}
	if pub != nil && !priv.PublicKey.Equal(pub) {
		return nil, errors.New("private key does not match the public key")
	}
	return priv, nil
}

// scopeString joins scopes with single spaces, as the scope claim requires.
func scopeString(scopes []string) string { return strings.Join(scopes, " ") }
