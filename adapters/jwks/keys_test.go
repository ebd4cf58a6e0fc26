package jwks

import (
	"bytes"
	"context"
	"crypto/x509"
	"testing"

	"github.com/tooken/tooken/ports"
)

func TestPrivateKeyIsEncrypted(t *testing.T) {
	f := newFixture(t)
	priv := f.privateKey(t, f.keyA)
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	sealed := f.keyA.PrivateKeyEncrypted
	if bytes.Contains(sealed, der) || bytes.Contains(sealed, der[len(der)-32:]) {
		t.Error("ciphertext contains the plaintext key")
	}
	if len(sealed) != 12+len(der)+16 {
		t.Errorf("ciphertext is %d bytes, want nonce+%d+tag", len(sealed), len(der))
	}
	again, err := encryptPrivateKey(f.signer.aead, wsA, f.keyA.KID, priv)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(again, sealed) || bytes.Equal(again[:12], sealed[:12]) {
		t.Error("two encryptions of one key are identical: the nonce is not random")
	}
}

func TestWrongMasterKeyCannotSign(t *testing.T) {
	f := newFixture(t)
	wrong := bytes.Repeat([]byte{8}, MasterKeySize)
	other, err := New(f.store, wrong, testURL, f.clock)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Sign(context.Background(), sampleClaims()); ports.ErrorCode(err) != ports.EINTERNAL {
		t.Errorf("Sign with the wrong master key: err = %v, want internal", err)
	}
	if _, err := decryptPrivateKey(other.aead, wsA, f.keyA.KID, f.keyA.PrivateKeyEncrypted, nil); err == nil {
		t.Error("decrypted with the wrong master key")
	}

	// Verification needs only public keys, so it keeps working.
	value, err := f.signer.Sign(context.Background(), sampleClaims())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Verify(context.Background(), value); err != nil {
		t.Errorf("Verify with another master key: %v", err)
	}
}

func TestSwappedCiphertextsFail(t *testing.T) {
	f := newFixture(t)
	second := f.newKey(t, wsA)
	aead := f.signer.aead

	for name, tc := range map[string]struct {
		workspaceID, kid string
		sealed           []byte
	}{
		"A1's ciphertext under A2": {wsA, second.KID, f.keyA.PrivateKeyEncrypted},
		"A2's ciphertext under A1": {wsA, f.keyA.KID, second.PrivateKeyEncrypted},
		"B's ciphertext under A":   {wsA, f.keyA.KID, f.keyB.PrivateKeyEncrypted},
		"A's ciphertext, B's wid":  {wsB, f.keyA.KID, f.keyA.PrivateKeyEncrypted},
		"truncated":                {wsA, f.keyA.KID, f.keyA.PrivateKeyEncrypted[:20]},
		"empty":                    {wsA, f.keyA.KID, nil},
		"flipped bit":              {wsA, f.keyA.KID, flip(f.keyA.PrivateKeyEncrypted)},
	} {
		if _, err := decryptPrivateKey(aead, tc.workspaceID, tc.kid, tc.sealed, nil); err == nil {
			t.Errorf("%s: decrypted", name)
		}
	}

	swapped := *f.keyA
	swapped.PrivateKeyEncrypted = second.PrivateKeyEncrypted
	store := newFakeStore()
	store.add(&swapped)
	s, err := New(store, testMasterKey, testURL, f.clock)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sign(context.Background(), sampleClaims()); ports.ErrorCode(err) != ports.EINTERNAL {
		t.Errorf("Sign with a swapped ciphertext: err = %v, want internal", err)
	}
}

func flip(b []byte) []byte {
	c := bytes.Clone(b)
	c[len(c)/2] ^= 0x40
	return c
}

func TestParsePublicJWKRejects(t *testing.T) {
	f := newFixture(t)
	good := string(f.keyA.PublicJWK)
	for name, raw := range map[string]string{
		"not json":     "{",
		"private":      good[:len(good)-1] + `,"d":"AAAA"}`,
		"RSA":          `{"kty":"RSA","n":"AQAB","e":"AQAB","kid":"` + f.keyA.KID + `"}`,
		"P-384":        `{"kty":"EC","crv":"P-384","x":"AA","y":"AA","kid":"` + f.keyA.KID + `"}`,
		"short x":      `{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA","kid":"` + f.keyA.KID + `"}`,
		"HS256":        good[:len(good)-1] + `,"alg":"HS256"}`,
		"not on curve": `{"kty":"EC","crv":"P-256","x":"` + zero43 + `","y":"` + zero43 + `","kid":"` + f.keyA.KID + `"}`,
	} {
		if _, _, err := parsePublicJWK([]byte(raw), f.keyA.KID); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
	if _, _, err := parsePublicJWK(f.keyA.PublicJWK, f.keyB.KID); err == nil {
		t.Error("parsed a JWK under another kid")
	}
}

const zero43 = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
