package verify

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testClock is an injected clock that moves only when told to.
type testClock struct{ ns atomic.Int64 }

func newTestClock() *testClock {
	c := &testClock{}
	c.ns.Store(time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *testClock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *testClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// testKey is a signing key of the fake issuer.
type testKey struct {
	kid, alg string
	priv     crypto.Signer
}

var (
	rsaOnce sync.Once
	rsaPool []*rsa.PrivateKey
	keySeq  atomic.Int64
)

// newTestKey generates a key for alg (RSA keys come from a small pool: generating them is slow).
func newTestKey(tb testing.TB, alg string) *testKey {
	tb.Helper()
	n := keySeq.Add(1)
	k := &testKey{kid: fmt.Sprintf("key_%s_%d", alg, n), alg: alg}
	switch alg {
	case "ES256":
		k.priv, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "EdDSA":
		_, k.priv, _ = ed25519.GenerateKey(rand.Reader)
	case "RS256":
		rsaOnce.Do(func() {
			for range 4 {
				p, err := rsa.GenerateKey(rand.Reader, 2048)
				if err != nil {
					panic(err)
				}
				rsaPool = append(rsaPool, p)
			}
		})
		k.priv = rsaPool[n%int64(len(rsaPool))]
	default:
		tb.Fatalf("no such alg %s", alg)
	}
	return k
}

func b64u(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// jwk is the public JWK of k as the issuer publishes it.
func (k *testKey) jwk() map[string]any {
	m := map[string]any{"kid": k.kid, "alg": k.alg, "use": "sig"}
	switch p := k.priv.Public().(type) {
	case *ecdsa.PublicKey:
		raw, _ := p.Bytes()
		m["kty"], m["crv"], m["x"], m["y"] = "EC", "P-256", b64u(raw[1:33]), b64u(raw[33:])
	case ed25519.PublicKey:
		m["kty"], m["crv"], m["x"] = "OKP", "Ed25519", b64u(p)
	case *rsa.PublicKey:
		m["kty"], m["n"], m["e"] = "RSA", b64u(p.N.Bytes()), b64u(big.NewInt(int64(p.E)).Bytes())
	}
	return m
}

// signRaw signs input as alg would in a JWS.
func (k *testKey) signRaw(input []byte) []byte {
	h := sha256.Sum256(input)
	switch p := k.priv.(type) {
	case *ecdsa.PrivateKey:
		r, s, err := ecdsa.Sign(rand.Reader, p, h[:])
		if err != nil {
			panic(err)
		}
		return append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
	case ed25519.PrivateKey:
		return ed25519.Sign(p, input)
	case *rsa.PrivateKey:
		sig, err := rsa.SignPKCS1v15(rand.Reader, p, crypto.SHA256, h[:])
		if err != nil {
			panic(err)
		}
		return sig
	}
	panic("unknown key type")
}

// compact encodes header and claims and signs them with k.
func (k *testKey) compact(header, claims map[string]any) string {
	hb, _ := json.Marshal(header)
	cb, _ := json.Marshal(claims)
	input := b64u(hb) + "." + b64u(cb)
	return input + "." + b64u(k.signRaw([]byte(input)))
}
