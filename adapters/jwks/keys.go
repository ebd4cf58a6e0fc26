package jwks

import (
	"crypto"
	"crypto/cipher"
	"crypto/rand"
	"crypto/x509"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
)

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

// additionalData binds a ciphertext to its key and workspace, so it cannot be moved to another key.
func additionalData(workspaceID, kid string) []byte {
	return []byte("tooken/signing-key/v1\x00" + workspaceID + "\x00" + kid)
}

// encryptPrivateKey returns nonce ‖ AES-256-GCM(PKCS#8 DER of priv).
func encryptPrivateKey(aead cipher.AEAD, workspaceID, kid string, priv crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	defer clear(der)
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(der)+aead.Overhead())
	_, _ = rand.Read(nonce)
	return aead.Seal(nonce, nonce, der, additionalData(workspaceID, kid)), nil
}

// decryptPrivateKey reverses encryptPrivateKey and checks that the private key is of algorithm a
// and, when pub is not nil, matches it.
func decryptPrivateKey(aead cipher.AEAD, workspaceID, kid string, sealed []byte, a *algorithm, pub crypto.PublicKey) (crypto.Signer, error) {
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
	priv, ok := k.(crypto.Signer)
	if !ok || !a.privateOK(k) {
		return nil, fmt.Errorf("private key is not an %s key", a.name)
	}
	if pub != nil {
		if eq, ok := priv.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(pub) {
			return nil, errors.New("private key does not match the public key")
		}
	}
	return priv, nil
}

// scopeString joins scopes with single spaces, as the scope claim requires.
func scopeString(scopes []string) string { return strings.Join(scopes, " ") }
