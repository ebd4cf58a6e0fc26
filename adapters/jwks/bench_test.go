package jwks

import (
	"context"
	"testing"
)

func BenchmarkSign(b *testing.B) {
	f := newFixture(b)
	ctx, c := context.Background(), sampleClaims()
	if _, err := f.signer.Sign(ctx, c); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.signer.Sign(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	value, err := f.signer.Sign(ctx, sampleClaims())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.signer.Verify(ctx, value); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyParallel(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	value, err := f.signer.Sign(ctx, sampleClaims())
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
}
