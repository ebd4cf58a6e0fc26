package verify

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"math/big"
	"slices"
	"strings"
	"testing"
)

// benchTokens is how many distinct values BenchmarkVerifyDistinct cycles through; with a cache of
// benchCacheSize entries (FIFO per shard) every value has been evicted before it comes round again,
// so each iteration pays for a full verification plus a cache insertion.
const (
	benchTokens    = 2048
	benchCacheSize = 1024
)

func benchSetup(b *testing.B, alg string, n int) (*Verifier, *testKey, []string) {
	k := newTestKey(b, alg)
	f := newFakeIssuer(b, k)
	v := f.verifier(WithCacheSize(benchCacheSize), WithPollInterval(1<<40))
	toks := make([]string, n)
	var perShard [cacheShards]int
	for i := range toks {
		toks[i] = f.token(k, nil)
		perShard[sha256.Sum256([]byte(toks[i]))[0]%cacheShards]++
	}
	if n > 1 && slices.Min(perShard[:]) <= benchCacheSize/cacheShards {
		b.Fatal("some values would still be cached when they come round again")
	}
	return v, k, toks
}

func BenchmarkVerifyDistinct(b *testing.B) {
	for _, alg := range algs {
		b.Run(alg, func(b *testing.B) {
			v, _, toks := benchSetup(b, alg, benchTokens)
			ctx := b.Context()
			i := 0
			for b.Loop() {
				if _, err := v.Verify(ctx, toks[i%len(toks)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func BenchmarkVerifyRepeated(b *testing.B) {
	for _, alg := range algs {
		b.Run(alg, func(b *testing.B) {
			v, _, toks := benchSetup(b, alg, 1)
			ctx := b.Context()
			for b.Loop() {
				if _, err := v.Verify(ctx, toks[0]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRawSignature is the floor: SHA-256 of the signing input and the signature check alone,
// over the same distinct values as BenchmarkVerifyDistinct (ECDSA signatures pre-converted to ASN.1).
func BenchmarkRawSignature(b *testing.B) {
	for _, alg := range algs {
		b.Run(alg, func(b *testing.B) {
			k := newTestKey(b, alg)
			f := newFakeIssuer(b, k)
			type raw struct{ input, sig []byte }
			vals := make([]raw, benchTokens)
			for i := range vals {
				tok := f.token(k, nil)
				dot := strings.LastIndexByte(tok, '.')
				sig, _ := base64.RawURLEncoding.DecodeString(tok[dot+1:])
				if alg == "ES256" {
					sig = asn1Sig(sig)
				}
				vals[i] = raw{[]byte(tok[:dot]), sig}
			}
			pub := k.priv.Public()
			i := 0
			for b.Loop() {
				r := vals[i%len(vals)]
				i++
				var ok bool
				switch alg {
				case "ES256":
					h := sha256.Sum256(r.input)
					ok = ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), h[:], r.sig)
				case "EdDSA":
					ok = ed25519.Verify(pub.(ed25519.PublicKey), r.input, r.sig)
				case "RS256":
					h := sha256.Sum256(r.input)
					ok = rsa.VerifyPKCS1v15(pub.(*rsa.PublicKey), crypto.SHA256, h[:], r.sig) == nil
				}
				if !ok {
					b.Fatal("signature does not verify")
				}
			}
		})
	}
}

func asn1Sig(rs []byte) []byte {
	der, err := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(rs[:32]), new(big.Int).SetBytes(rs[32:])})
	if err != nil {
		panic(err)
	}
	return der
}
