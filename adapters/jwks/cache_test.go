package jwks

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tooken/tooken/ports"
)

func TestHotPathDoesNotReadTheStore(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	value, _, err := f.signer.Sign(ctx, sampleClaims())
	if err != nil {
		t.Fatal(err)
	}
	reads := f.store.readCount()
	for range 50 {
		if _, _, err := f.signer.Sign(ctx, sampleClaims()); err != nil {
			t.Fatal(err)
		}
		if _, err := f.signer.Verify(ctx, value); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.signer.JWKS(ctx, wsA); err != nil {
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
	if _, _, err := f.signer.Sign(ctx, sampleClaims()); err != nil {
		t.Fatal(err)
	}

	reads := f.store.readCount()
	value := forge(t, jwt.SigningMethodES256, f.privateKey(t, f.keyA), map[string]any{"kid": "sig_nope", "typ": TokenType}, mapClaims(wsA))
	expectInvalid(t, f.signer, "unknown kid", value)
	if got := f.store.readCount() - reads; got != 1 {
		t.Errorf("unknown kid read the store %d times, want 1", got)
	}

	// A key stored after the workspace was cached (by another replica, say) is found by the reload.
	added := f.newKey(t, wsA, ports.AlgEdDSA)
	value = forge(t, jwt.SigningMethodEdDSA, f.privateKey(t, added), header(added), mapClaims(wsA))
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
	old := expectSigner(t, f, sampleClaims(), f.keyA)
	f.clock.Set(t0.Add(time.Minute))
	newer := f.newKey(t, wsA, ports.AlgES256)
	f.store.retire(t, f.keyA, f.clock.Now())

	expectSigner(t, f, sampleClaims(), f.keyA) // the cache does not know yet
	reads := f.store.readCount()
	f.signer.Forget(wsA)
	f.signer.Forget("ws_never_loaded")
	expectSigner(t, f, sampleClaims(), newer)
	if got := f.store.readCount() - reads; got != 1 {
		t.Errorf("store read %d times after Forget, want 1", got)
	}
	expectInvalid(t, f.signer, "value of the retired key", old)
}

func TestForgetOneOrAll(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	cB := sampleClaims()
	cB.WorkspaceID, cB.Issuer = wsB, ""
	useBoth := func() {
		t.Helper()
		expectSigner(t, f, sampleClaims(), f.keyA)
		expectSigner(t, f, cB, f.keyB)
		if _, _, err := f.signer.JWKS(ctx, wsB); err != nil {
			t.Fatal(err)
		}
	}
	useBoth()

	for _, tc := range []struct {
		forget string
		reads  int
	}{
		{wsA, 1},
		{wsB, 1},
		{"ws_other", 0},
		{"", 2},
	} {
		reads := f.store.readCount()
		f.signer.Forget(tc.forget)
		useBoth()
		useBoth()
		if got := f.store.readCount() - reads; got != tc.reads {
			t.Errorf("after Forget(%q): %d reads, want %d", tc.forget, got, tc.reads)
		}
	}
}

// TestForgetDuringLoad checks that keys read before a Forget are not cached by a load that
// finishes after it.
func TestForgetDuringLoad(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	f.store.setHook(func() { once.Do(func() { close(entered); <-release }) })

	done := make(chan error)
	go func() {
		_, _, err := f.signer.Sign(ctx, sampleClaims())
		done <- err
	}()
	<-entered // the load read the keys and is about to return them
	f.clock.Set(t0.Add(time.Minute))
	newer := f.newKey(t, wsA, ports.AlgEdDSA)
	f.store.setHook(nil)
	f.signer.Forget(wsA)
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	reads := f.store.readCount()
	expectSigner(t, f, sampleClaims(), newer)
	if got := f.store.readCount() - reads; got != 1 {
		t.Errorf("store read %d times after a Forget that raced with a load, want 1", got)
	}
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
				v, _, err := f.signer.Sign(ctx, c)
				if err == nil {
					_, err = f.signer.Verify(ctx, v)
				}
				if err == nil {
					_, _, err = f.signer.JWKS(ctx, wsB)
				}
				if err != nil {
					errs <- err
					return
				}
				switch i % 8 {
				case 0:
					f.signer.Forget(wsA)
				case 4:
					f.signer.Forget("")
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
