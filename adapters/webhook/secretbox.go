package webhook

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/tooken/tooken/ports"
)

// sealedPrefix marks a sealed secret (format version 1: base64 of nonce ‖ AES-256-GCM ciphertext).
const sealedPrefix = "enc:v1:"

// SecretBox implements ports.SecretBox with AES-256-GCM under a key derived from the master key
// (SHA-256 of a purpose label and the master key, so the signing-key encryption key is not reused),
// each secret bound to its record's id as additional data.
type SecretBox struct{ aead cipher.AEAD }

var _ ports.SecretBox = (*SecretBox)(nil)

// NewSecretBox returns a SecretBox for masterKey (32 bytes).
func NewSecretBox(masterKey []byte) (*SecretBox, error) {
	k := sha256.Sum256(append([]byte("tooken webhook secrets v1\x00"), masterKey...))
	block, err := aes.NewCipher(k[:])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &SecretBox{aead: aead}, nil
}

// Seal encrypts plain ("" stays "": no secret).
func (b *SecretBox) Seal(id, plain string) (string, error) {
	if plain == "" {
		return "", nil
	}
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plain)+b.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return sealedPrefix + base64.RawStdEncoding.EncodeToString(b.aead.Seal(nonce, nonce, []byte(plain), []byte(id))), nil
}

// Open decrypts a sealed secret; "" stays "".
func (b *SecretBox) Open(id, sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	raw, ok := strings.CutPrefix(sealed, sealedPrefix)
	if !ok {
		return "", ports.Internal(fmt.Errorf("webhook %s: the secret is not sealed", id))
	}
	data, err := base64.RawStdEncoding.DecodeString(raw)
	ns := b.aead.NonceSize()
	if err != nil || len(data) < ns+b.aead.Overhead() {
		return "", ports.Internal(fmt.Errorf("webhook %s: malformed sealed secret", id))
	}
	plain, err := b.aead.Open(nil, data[:ns], data[ns:], []byte(id))
	if err != nil {
		return "", ports.Internal(fmt.Errorf("webhook %s: cannot open the secret (wrong master key?): %w", id, err))
	}
	return string(plain), nil
}
