package jwks

import (
	"bytes"
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tooken/tooken/ports"
)

const (
	testURL = "https://tooken.example.com/"
	wsA     = "ws_aaaaaaaaaaaaaaaaaaaaaaaa"
	wsB     = "ws_bbbbbbbbbbbbbbbbbbbbbbbb"
)

var testMasterKey = bytes.Repeat([]byte{7}, MasterKeySize)

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// fakeStore is an in-memory SigningKeyStore that counts its reads. It keeps no workspaces and no
// tokens: AddSigningKey accepts any workspace and RetireSigningKey does not look for live values.
type fakeStore struct {
	mu    sync.Mutex
	keys  map[string][]ports.SigningKey // newest first
	calls int
	err   error
	hook  func() // if set, called by SigningKeys after it read the keys, before it returns them
}

var _ ports.SigningKeyStore = (*fakeStore)(nil)

func newFakeStore() *fakeStore { return &fakeStore{keys: map[string][]ports.SigningKey{}} }

func (f *fakeStore) SigningKeys(_ context.Context, workspaceID string) ([]ports.SigningKey, error) {
	f.mu.Lock()
	f.calls++
	keys, err, hook := append([]ports.SigningKey(nil), f.keys[workspaceID]...), f.err, f.hook
	f.mu.Unlock()
	if hook != nil {
		hook()
	}
	if err != nil {
		return nil, err
	}
	return keys, nil
}

func (f *fakeStore) AddSigningKey(_ context.Context, k *ports.SigningKey, _ *ports.AuditEvent) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if k.ActivatesAt.After(k.CreatedAt) {
		for _, o := range f.keys[k.WorkspaceID] {
			if o.RevokedAt == nil && o.ActivatesAt.After(k.CreatedAt) {
				return ports.Errorf(ports.ECONFLICT, "a key is already pending")
			}
		}
	}
	keys := append([]ports.SigningKey{*k}, f.keys[k.WorkspaceID]...)
	slices.SortStableFunc(keys, func(a, b ports.SigningKey) int { return b.CreatedAt.Compare(a.CreatedAt) })
	f.keys[k.WorkspaceID] = keys
	return nil
}

func (f *fakeStore) RevokeSigningKey(_ context.Context, workspaceID, kid string, at time.Time, _ *ports.AuditEvent) (*ports.SigningKey, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := f.find(workspaceID, kid)
	if k == nil {
		return nil, false, ports.Errorf(ports.ENOTFOUND, "no such key")
	}
	if k.RevokedAt != nil {
		return ptr(*k), false, nil
	}
	k.RevokedAt = &at
	return ptr(*k), true, nil
}

func (f *fakeStore) RetireSigningKey(_ context.Context, workspaceID, kid string, at time.Time, _ *ports.AuditEvent) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := f.find(workspaceID, kid)
	switch {
	case k == nil:
		return ports.Errorf(ports.ENOTFOUND, "no such key")
	case k.RevokedAt != nil || k.RetiredAt != nil:
		return ports.Errorf(ports.ECONFLICT, "key is revoked or retired")
	}
	k.RetiredAt = &at
	return nil
}

// find returns the stored key; f.mu must be held.
func (f *fakeStore) find(workspaceID, kid string) *ports.SigningKey {
	for i := range f.keys[workspaceID] {
		if f.keys[workspaceID][i].KID == kid {
			return &f.keys[workspaceID][i]
		}
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

func (f *fakeStore) add(tb testing.TB, k *ports.SigningKey) {
	tb.Helper()
	if err := f.AddSigningKey(context.Background(), k, nil); err != nil {
		tb.Fatal(err)
	}
}

func (f *fakeStore) retire(tb testing.TB, k *ports.SigningKey, at time.Time) {
	tb.Helper()
	if err := f.RetireSigningKey(context.Background(), k.WorkspaceID, k.KID, at, nil); err != nil {
		tb.Fatal(err)
	}
}

func (f *fakeStore) revoke(tb testing.TB, k *ports.SigningKey, at time.Time) {
	tb.Helper()
	if _, revoked, err := f.RevokeSigningKey(context.Background(), k.WorkspaceID, k.KID, at, nil); err != nil || !revoked {
		tb.Fatalf("revoke: %v, %v", revoked, err)
	}
}

// setRaw changes a stored key in place, for tests that corrupt it.
func (f *fakeStore) setRaw(workspaceID, kid string, change func(*ports.SigningKey)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f.find(workspaceID, kid))
}

func (f *fakeStore) setErr(err error) {
	f.mu.Lock()
	f.err = err
	f.mu.Unlock()
}

func (f *fakeStore) setHook(hook func()) {
	f.mu.Lock()
	f.hook = hook
	f.mu.Unlock()
}

func (f *fakeStore) readCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// fixture is a Signer with one key in each of two workspaces: wsA's of the fixture's algorithm,
// wsB's ES256.
type fixture struct {
	store  *fakeStore
	clock  *fakeClock
	signer *Signer
	keyA   *ports.SigningKey
	keyB   *ports.SigningKey
}

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// newFixture is an ES256 fixture.
func newFixture(tb testing.TB) *fixture { return newFixtureAlg(tb, ports.AlgES256) }

func newFixtureAlg(tb testing.TB, alg string) *fixture {
	tb.Helper()
	f := &fixture{store: newFakeStore(), clock: &fakeClock{now: t0}}
	var err error
	if f.signer, err = New(f.store, testMasterKey, testURL, f.clock); err != nil {
		tb.Fatal(err)
	}
	f.keyA = f.newKey(tb, wsA, alg)
	f.keyB = f.newKey(tb, wsB, ports.AlgES256)
	return f
}

// newKey stores a new key of the workspace that activates at once (at the clock's time).
func (f *fixture) newKey(tb testing.TB, workspaceID, alg string) *ports.SigningKey {
	tb.Helper()
	return f.pendingKey(tb, workspaceID, alg, 0)
}

// pendingKey stores a new key of the workspace that activates after the given delay.
func (f *fixture) pendingKey(tb testing.TB, workspaceID, alg string, delay time.Duration) *ports.SigningKey {
	tb.Helper()
	k, err := f.signer.NewSigningKey(context.Background(), workspaceID, alg)
	if err != nil {
		tb.Fatal(err)
	}
	k.ActivatesAt = k.CreatedAt.Add(delay)
	f.store.add(tb, k)
	return k
}

// privateKey decrypts a stored key's private half, for forging tokens in tests.
func (f *fixture) privateKey(tb testing.TB, k *ports.SigningKey) crypto.Signer {
	tb.Helper()
	priv, err := decryptPrivateKey(f.signer.aead, k.WorkspaceID, k.KID, k.PrivateKeyEncrypted, algorithms[k.Algorithm], nil)
	if err != nil {
		tb.Fatal(err)
	}
	return priv
}

// method is the golang-jwt signing method of an algorithm.
func method(alg string) jwt.SigningMethod { return algorithms[alg].method }

// forEachAlg runs fn as a subtest for every supported algorithm.
func forEachAlg(t *testing.T, fn func(t *testing.T, alg string)) {
	for _, alg := range ports.SigningAlgorithms {
		t.Run(alg, func(t *testing.T) { fn(t, alg) })
	}
}

func sampleClaims() ports.Claims {
	exp := t0.Add(time.Hour)
	return ports.Claims{
		Issuer:      ports.IssuerURL(testURL, wsA),
		Subject:     "tok_0123456789abcdefghijklmn",
		WorkspaceID: wsA,
		JTI:         "jti_1",
		Audience:    []string{"https://api.example.com"},
		Scopes:      []string{"read:users", "write:orders"},
		IssuedAt:    t0,
		NotBefore:   t0,
		ExpiresAt:   &exp,
	}
}

// mapClaims is the JSON claims of a valid value for k's workspace, for tests that alter them.
func mapClaims(workspaceID string) jwt.MapClaims {
	return jwt.MapClaims{
		"iss":       ports.IssuerURL(testURL, workspaceID),
		"sub":       "tok_x",
		"client_id": "tok_x",
		"aud":       []string{"api"},
		"jti":       "jti_x",
		"iat":       t0.Unix(),
		"nbf":       t0.Unix(),
		"exp":       t0.Add(time.Hour).Unix(),
		"scope":     "read",
		"wid":       workspaceID,
	}
}

// forge signs claims with the given method, key and header fields (alg is set from the method).
func forge(tb testing.TB, method jwt.SigningMethod, key any, header map[string]any, claims jwt.MapClaims) string {
	tb.Helper()
	tok := jwt.NewWithClaims(method, claims)
	delete(tok.Header, "typ")
	for k, v := range header {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// segment decodes one part of a compact JWT into a map.
func segment(tb testing.TB, value string, i int) map[string]any {
	tb.Helper()
	parts := strings.Split(value, ".")
	if len(parts) != 3 {
		tb.Fatalf("value has %d parts", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		tb.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		tb.Fatal(err)
	}
	return m
}

func header(k *ports.SigningKey) map[string]any {
	return map[string]any{"kid": k.KID, "typ": TokenType}
}
