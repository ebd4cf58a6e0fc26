package verify

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"
)

func TestUnknownKidFloodIsRateLimited(t *testing.T) {
	t.Parallel()
	k := newTestKey(t, "ES256")
	f := newFakeIssuer(t, k)
	v := f.verifier(WithJWKSRefreshLimit(10 * time.Second))
	if n := f.jwksFetches.Load(); n != 1 {
		t.Fatalf("JWKS fetched %d times by New, want 1", n)
	}
	flood := func(round int) {
		var wg sync.WaitGroup
		for i := range 200 {
			wg.Go(func() {
				tok := f.token(k, func(h, _ map[string]any) { h["kid"] = fmt.Sprintf("kid_%d_%d", round, i) })
				if _, err := v.Verify(t.Context(), tok); !errors.Is(err, ErrUnknownKey) {
					t.Errorf("unknown kid: %v, want ErrUnknownKey", err)
				}
			})
		}
		wg.Wait()
	}
	flood(1)
	flood(2)
	if n := f.jwksFetches.Load(); n != 2 {
		t.Fatalf("after 400 unknown kids in one window: %d JWKS fetches, want 2 (start + one refresh)", n)
	}
	f.clock.Advance(10 * time.Second)
	flood(3)
	if n := f.jwksFetches.Load(); n != 3 {
		t.Fatalf("after a flood in the next window: %d JWKS fetches, want 3", n)
	}
	if _, err := v.Verify(t.Context(), f.token(k, nil)); err != nil {
		t.Errorf("known kid during the flood: %v", err)
	}
}

func TestKeyAnnouncedAfterStartVerifiesWithoutRestart(t *testing.T) {
	t.Parallel()
	oldKey, newKey := newTestKey(t, "ES256"), newTestKey(t, "EdDSA")
	f := newFakeIssuer(t, oldKey)
	v := f.verifier()
	oldTok := f.token(oldKey, nil)
	if _, err := v.Verify(t.Context(), oldTok); err != nil {
		t.Fatal(err)
	}
	f.set(func(f *fakeIssuer) { f.keys = append(f.keys, newKey) })
	newTok := f.token(newKey, nil)
	for _, tok := range []string{newTok, oldTok, newTok} {
		if _, err := v.Verify(t.Context(), tok); err != nil {
			t.Fatalf("rotation window, both keys published: %v", err)
		}
	}
	if n := f.jwksFetches.Load(); n != 2 {
		t.Errorf("JWKS fetches = %d, want 2", n)
	}
}

func TestKeyRotationBothKeysVerify(t *testing.T) {
	t.Parallel()
	for _, alg := range algs {
		t.Run(alg, func(t *testing.T) {
			t.Parallel()
			oldKey, newKey := newTestKey(t, alg), newTestKey(t, alg)
			f := newFakeIssuer(t, oldKey, newKey)
			v := f.verifier()
			for _, k := range []*testKey{oldKey, newKey} {
				if c, err := v.Verify(t.Context(), f.token(k, nil)); err != nil || c.KeyID != k.kid {
					t.Errorf("key %s: %v %v", k.kid, c, err)
				}
			}
		})
	}
}

func TestJWKSEventRemovesKeyAtOnce(t *testing.T) {
	t.Parallel()
	keep, drop := newTestKey(t, "ES256"), newTestKey(t, "RS256")
	f := newFakeIssuer(t, keep, drop)
	v := f.verifier(WithPollInterval(time.Hour))
	kept, dropped := f.token(keep, nil), f.token(drop, nil)
	for range 2 {
		for _, tok := range []string{kept, dropped} {
			if _, err := v.Verify(t.Context(), tok); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := v.cache.len(); n != 2 {
		t.Fatalf("cache holds %d values, want 2", n)
	}
	eventually(t, "stream connected", v.streamUp.Load)
	f.set(func(f *fakeIssuer) { f.keys = []*testKey{keep} })
	f.jwksEvent()
	eventually(t, "the removed key to stop verifying", func() bool {
		_, err := v.Verify(t.Context(), dropped)
		return errors.Is(err, ErrUnknownKey)
	})
	if n := v.cache.len(); n != 1 {
		t.Errorf("cache holds %d values after the key removal, want 1", n)
	}
	if _, err := v.Verify(t.Context(), kept); err != nil {
		t.Errorf("the remaining key: %v", err)
	}
}

func TestJWKSRefreshedWhenStaleAndKeptWhenIssuerDown(t *testing.T) {
	t.Parallel()
	k := newTestKey(t, "EdDSA")
	f := newFakeIssuer(t, k)
	f.set(func(f *fakeIssuer) { f.maxAge = 60 })
	v := f.verifier(WithJWKSRefreshLimit(10 * time.Second))
	tok := f.token(k, nil)
	if _, err := v.Verify(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(61 * time.Second)
	eventually(t, "a background JWKS refresh", func() bool {
		_, err := v.Verify(t.Context(), tok)
		return err == nil && f.jwksFetches.Load() == 2 && v.keys.set.Load().expires.After(f.clock.Now())
	})

	f.set(func(f *fakeIssuer) { f.down = true })
	f.killStreams()
	f.clock.Advance(61 * time.Second)
	for range 100 {
		if _, err := v.Verify(t.Context(), tok); err != nil {
			t.Fatalf("issuer down, known key: %v", err)
		}
	}
	eventually(t, "a refresh attempt while down", func() bool {
		_, err := v.Verify(t.Context(), tok)
		return err == nil && f.jwksFetches.Load() == 3
	})
	if _, err := v.Verify(t.Context(), f.token(k, nil)); err != nil {
		t.Errorf("issuer down, new value signed by a known key: %v", err)
	}
	if n := f.jwksFetches.Load(); n != 3 {
		t.Errorf("JWKS fetches while down = %d, want 3 (retries are rate-limited)", n)
	}
	f.set(func(f *fakeIssuer) { f.down = false })
	f.clock.Advance(10 * time.Second)
	if _, err := v.Verify(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a refresh once the issuer is back", func() bool {
		_, err := v.Verify(t.Context(), tok)
		return err == nil && f.jwksFetches.Load() == 4
	})
}

func TestJWKSIgnoresKeysWithoutUsableAlg(t *testing.T) {
	t.Parallel()
	good, _ := json.Marshal(newTestKey(t, "ES256").jwk())
	body := `{"keys":[
		{"kty":"EC","crv":"P-256","kid":"noalg","x":"AA","y":"AA"},
		{"kty":"oct","kid":"hmac","alg":"HS256","k":"c2VjcmV0"},
		{"kty":"EC","crv":"P-256","kid":"none","alg":"none"},
		{"kty":"OKP","crv":"Ed25519","kid":"mismatch","alg":"ES256","x":"AA"},
		{"kty":"RSA","kid":"small","alg":"RS256","n":"AQAB","e":"AQAB"},
		{"kty":"EC","crv":"P-256","kid":"enc","alg":"ES256","use":"enc","x":"AA","y":"AA"},
		{"kty":"EC","crv":"P-256","kid":"offcurve","alg":"ES256",
		 "x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","y":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE"},
		` + string(good) + `
	]}`
	keys, err := parseKeySet([]byte(body), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 {
		t.Errorf("usable keys = %v, want only the good one", keys)
	}
	if _, err := parseKeySet([]byte(`{"nokeys":1}`), slog.New(slog.DiscardHandler)); err == nil {
		t.Error("a document without keys was accepted")
	}
}

func TestMaxAge(t *testing.T) {
	t.Parallel()
	def := 5 * time.Minute
	for in, want := range map[string]time.Duration{
		"":                        def,
		"public, max-age=60":      time.Minute,
		"max-age=0":               0,
		"no-store":                0,
		"public, max-age=9999999": 24 * time.Hour,
		"max-age=abc":             def,
	} {
		if got := maxAge(in, def); got != want {
			t.Errorf("maxAge(%q) = %v, want %v", in, got, want)
		}
	}
}
