package jwks

import (
	"context"
	"testing"

	"github.com/tooken/tooken/ports"
)

// forEachAlgBench runs fn as a sub-benchmark for every supported algorithm.
func forEachAlgBench(b *testing.B, fn func(b *testing.B, f *fixture)) {
	for _, alg := range ports.SigningAlgorithms {
		b.Run(alg, func(b *testing.B) { fn(b, newFixtureAlg(b, alg)) })
	}
}

func BenchmarkSign(b *testing.B) {
	forEachAlgBench(b, func(b *testing.B, f *fixture) {
		ctx, c := context.Background(), sampleClaims()
		if _, _, err := f.signer.Sign(ctx, c); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := f.signer.Sign(ctx, c); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	forEachAlgBench(b, func(b *testing.B, f *fixture) {
		ctx := context.Background()
		value, _, err := f.signer.Sign(ctx, sampleClaims())
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := f.signer.Verify(ctx, value); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkVerifyParallel(b *testing.B) {
	forEachAlgBench(b, func(b *testing.B, f *fixture) {
		ctx := context.Background()
		value, _, err := f.signer.Sign(ctx, sampleClaims())
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := f.signer.Verify(ctx, value); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkJWKS measures serving the document of a cached workspace (its states derived at now).
func BenchmarkJWKS(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := f.signer.JWKS(ctx, wsA); err != nil {
			b.Fatal(err)
		}
	}
}
