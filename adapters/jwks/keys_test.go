package jwks

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/tooken/tooken/ports"
)

func TestPrivateKeyIsEncrypted(t *testing.T) {
	forEachAlg(t, func(t *testing.T, alg string) {
		f := newFixtureAlg(t, alg)
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
	})
}

// TestPrivateKeyOfAnotherAlgorithmIsRefused: a ciphertext that decrypts to a key of another type
// than its row's algorithm (or of the wrong size) is not used.
func TestPrivateKeyOfAnotherAlgorithmIsRefused(t *testing.T) {
	f := newFixture(t)
	aead := f.signer.aead
	for _, alg := range ports.SigningAlgorithms {
		k := f.newKey(t, wsA, alg)
		for _, other := range ports.SigningAlgorithms {
			_, err := decryptPrivateKey(aead, wsA, k.KID, k.PrivateKeyEncrypted, algorithms[other], nil)
			if (err == nil) != (alg == other) {
				t.Errorf("%s key decrypted as %s: err = %v", alg, other, err)
			}
		}
	}
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	sealed, err := encryptPrivateKey(aead, wsA, "sig_small", small)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := decryptPrivateKey(aead, wsA, "sig_small", sealed, algorithms[ports.AlgRS256], nil); err == nil {
		t.Error("a 1024-bit RSA key was accepted")
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	sealed, _ = encryptPrivateKey(aead, wsA, "sig_p384", p384)
	if _, err := decryptPrivateKey(aead, wsA, "sig_p384", sealed, algorithms[ports.AlgES256], nil); err == nil {
		t.Error("a P-384 key was accepted for ES256")
	}
}

func TestWrongMasterKeyCannotSign(t *testing.T) {
	f := newFixture(t)
	wrong := bytes.Repeat([]byte{8}, MasterKeySize)
	other, err := New(f.store, wrong, testURL, f.clock)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := other.Sign(context.Background(), sampleClaims()); ports.ErrorCode(err) != ports.EINTERNAL {
		t.Errorf("Sign with the wrong master key: err = %v, want internal", err)
	}
	if _, err := decryptPrivateKey(other.aead, wsA, f.keyA.KID, f.keyA.PrivateKeyEncrypted, algorithms[ports.AlgES256], nil); err == nil {
		t.Error("decrypted with the wrong master key")
	}

	// Verification needs only public keys, so it keeps working.
	value, _, err := f.signer.Sign(context.Background(), sampleClaims())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Verify(context.Background(), value); err != nil {
		t.Errorf("Verify with another master key: %v", err)
	}
}

func TestSwappedCiphertextsFail(t *testing.T) {
	f := newFixture(t)
	second := f.newKey(t, wsA, ports.AlgES256)
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
		if _, err := decryptPrivateKey(aead, tc.workspaceID, tc.kid, tc.sealed, algorithms[ports.AlgES256], nil); err == nil {
			t.Errorf("%s: decrypted", name)
		}
	}

	swapped := *f.keyA
	swapped.PrivateKeyEncrypted = second.PrivateKeyEncrypted
	store := newFakeStore()
	store.add(t, &swapped)
	s, err := New(store, testMasterKey, testURL, f.clock)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Sign(context.Background(), sampleClaims()); ports.ErrorCode(err) != ports.EINTERNAL {
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
	ed := f.newKey(t, wsA, ports.AlgEdDSA)
	rs := f.newKey(t, wsA, ports.AlgRS256)
	es := f.keyA
	withKid := func(kid, body string) string { return `{"kid":"` + kid + `",` + body + `}` }
	edX := jwkField(t, ed, "x")
	rsN, rsE := jwkField(t, rs, "n"), jwkField(t, rs, "e")
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	smallN := base64.RawURLEncoding.EncodeToString(small.N.Bytes())

	cases := map[string]struct {
		k   *ports.SigningKey
		raw string
	}{
		"not json":        {es, "{"},
		"EC private":      {es, addField(es, `"d":"AAAA"`)},
		"EC as RSA":       {es, withKid(es.KID, `"kty":"RSA","n":"AQAB","e":"AQAB"`)},
		"EC P-384":        {es, withKid(es.KID, `"kty":"EC","crv":"P-384","x":"AA","y":"AA"`)},
		"EC short x":      {es, withKid(es.KID, `"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"`)},
		"EC HS256 alg":    {es, addField(es, `"alg":"HS256"`)},
		"EC not on curve": {es, withKid(es.KID, `"kty":"EC","crv":"P-256","x":"`+zero43+`","y":"`+zero43+`"`)},
		"EC enc use":      {es, addField(es, `"use":"enc"`)},
		"OKP private":     {ed, addField(ed, `"d":"`+zero43+`"`)},
		"OKP X25519":      {ed, withKid(ed.KID, `"kty":"OKP","crv":"X25519","x":"`+edX+`"`)},
		"OKP short x":     {ed, withKid(ed.KID, `"kty":"OKP","crv":"Ed25519","x":"AAAA"`)},
		"OKP padded x":    {ed, withKid(ed.KID, `"kty":"OKP","crv":"Ed25519","x":"`+edX+`="`)},
		"OKP as EC":       {ed, withKid(ed.KID, `"kty":"EC","crv":"Ed25519","x":"`+edX+`"`)},
		"OKP ES256 alg":   {ed, addField(ed, `"alg":"ES256"`)},
		"RSA private":     {rs, addField(rs, `"d":"AQAB"`)},
		"RSA prime":       {rs, addField(rs, `"p":"AQAB"`)},
		"RSA 1024 bits":   {rs, withKid(rs.KID, `"kty":"RSA","n":"`+smallN+`","e":"AQAB"`)},
		"RSA leading 0":   {rs, withKid(rs.KID, `"kty":"RSA","n":"AA`+rsN+`","e":"`+rsE+`"`)},
		"RSA even e":      {rs, withKid(rs.KID, `"kty":"RSA","n":"`+rsN+`","e":"AQAA"`)},
		"RSA e=1":         {rs, withKid(rs.KID, `"kty":"RSA","n":"`+rsN+`","e":"AQ"`)},
		"RSA huge e":      {rs, withKid(rs.KID, `"kty":"RSA","n":"`+rsN+`","e":"AQAAAAE"`)},
		"RSA PS256 alg":   {rs, addField(rs, `"alg":"PS256"`)},
		"RSA symmetric":   {rs, withKid(rs.KID, `"kty":"oct","k":"`+rsN+`"`)},
	}
	for name, tc := range cases {
		if _, _, err := parsePublicJWK(algorithms[tc.k.Algorithm], []byte(tc.raw), tc.k.KID); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
	for _, k := range []*ports.SigningKey{es, ed, rs} {
		if _, _, err := parsePublicJWK(algorithms[k.Algorithm], k.PublicJWK, f.keyB.KID); err == nil {
			t.Errorf("%s: parsed a JWK under another kid", k.Algorithm)
		}
		for _, other := range ports.SigningAlgorithms {
			if _, _, err := parsePublicJWK(algorithms[other], k.PublicJWK, k.KID); (err == nil) != (other == k.Algorithm) {
				t.Errorf("%s JWK parsed as %s: err = %v", k.Algorithm, other, err)
			}
		}
	}
}

const zero43 = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

// addField returns k's stored JWK with one more member.
func addField(k *ports.SigningKey, field string) string {
	s := string(k.PublicJWK)
	return s[:len(s)-1] + "," + field + "}"
}

func jwkField(t *testing.T, k *ports.SigningKey, name string) string {
	t.Helper()
	var m map[string]string
	if err := json.Unmarshal(k.PublicJWK, &m); err != nil {
		t.Fatal(err)
	}
	return m[name]
}
