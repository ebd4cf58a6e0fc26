package jwks

import (
	"context"
	"strconv"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

func TestHotPathDoesNotReadTheStore(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	value, err := f.signer.Sign(ctx, sampleClaims())
	if err != nil {
		t.Fatal(err)
	}
	reads := f.store.readCount()
	for range 50 {
		if _, err := f.signer.Sign(ctx, sampleClaims()); err != nil {
			t.Fatal(err)
		}
		if _, err := f.signer.Verify(ctx, value); err != nil {
			t.Fatal(err)
		}
		if _, err := f.signer.JWKS(ctx, wsA); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.store.readCount(); got != reads {
		t.Errorf("store read %d times on the hot path", got-reads)
	}
}

func TestUnknownKidReloadsOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.signer.Sign(ctx, sampleClaims()); err != nil {
		t.Fatal(err)
	}

	reads := f.store.readCount()
	value := forge(t, jwt.SigningMethodES256, f.privateKey(t, f.keyA), map[string]any{"kid": "sig_nope", "typ": TokenType}, mapClaims(wsA))
	expectInvalid(t, f.signer, "unknown kid", value)
	if got := f.store.readCount() - reads; got != 1 {
		t.Errorf("unknown kid read the store %d times, want 1", got)
	}

	// A key stored after the workspace was cached (by another replica, say) is found by the reload.
	added := f.newKey(t, wsA)
	value = forge(t, jwt.SigningMethodES256, f.privateKey(t, added), header(added), mapClaims(wsA))
	claims, err := f.signer.Verify(ctx, value)
	if err != nil || claims.KeyID != added.KID {
		t.Fatalf("Verify = %+v, %v", claims, err)
	}
	reads = f.store.readCount()
	if _, err := f.signer.Verify(ctx, value); err != nil {
		t.Fatal(err)
	}
	if got := f.store.readCount(); got != reads {
		t.Errorf("a known kid read the store again")
	}
}

func TestForget(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	old, err := f.signer.Sign(ctx, sampleClaims())
	if err != nil {
		t.Fatal(err)
	}
	newer := f.newKey(t, wsA)
	f.store.setState(wsA, f.keyA.KID, "retired")

	if v, _ := f.signer.Sign(ctx, sampleClaims()); segment(t, v, 0)["kid"] != f.keyA.KID {
		t.Fatal("the cache should still sign with the old key before Forget")
	}
	reads := f.store.readCount()
	f.signer.Forget(wsA)
	f.signer.Forget("ws_never_loaded")
	v, err := f.signer.Sign(ctx, sampleClaims())
	if err != nil {
		t.Fatal(err)
	}
	if segment(t, v, 0)["kid"] != newer.KID {
		t.Error("Sign did not pick up the new key after Forget")
	}
	if got := f.store.readCount() - reads; got != 1 {
		t.Errorf("store read %d times after Forget, want 1", got)
	}
	expectInvalid(t, f.signer, "value of the retired key", old)
}

func TestConcurrentUse(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := sampleClaims()
			c.JTI = "jti_" + strconv.Itoa(i)
			for range 20 {
				v, err := f.signer.Sign(ctx, c)
				if err == nil {
					_, err = f.signer.Verify(ctx, v)
				}
				if err == nil {
					_, err = f.signer.JWKS(ctx, wsB)
				}
				if err != nil {
					errs <- err
					return
				}
				if i%4 == 0 {
					f.signer.Forget(wsA)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
