package jwks

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
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

// fakeStore is an in-memory SigningKeyStore that counts its reads.
type fakeStore struct {
	mu    sync.Mutex
	keys  map[string][]ports.SigningKey // newest first
	calls int
	err   error
}

func newFakeStore() *fakeStore { return &fakeStore{keys: map[string][]ports.SigningKey{}} }

func (f *fakeStore) SigningKeys(_ context.Context, workspaceID string) ([]ports.SigningKey, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	return append([]ports.SigningKey(nil), f.keys[workspaceID]...), nil
}

func (f *fakeStore) add(k *ports.SigningKey) {
	f.mu.Lock()
	f.keys[k.WorkspaceID] = append([]ports.SigningKey{*k}, f.keys[k.WorkspaceID]...)
	f.mu.Unlock()
}

func (f *fakeStore) setState(workspaceID, kid, state string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.keys[workspaceID] {
		if f.keys[workspaceID][i].KID == kid {
			f.keys[workspaceID][i].State = state
		}
	}
}

func (f *fakeStore) setErr(err error) {
	f.mu.Lock()
	f.err = err
	f.mu.Unlock()
}

func (f *fakeStore) readCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// fixture is a Signer with one key in each of two workspaces.
type fixture struct {
	store  *fakeStore
	clock  *fakeClock
	signer *Signer
	keyA   *ports.SigningKey
	keyB   *ports.SigningKey
}

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	f := &fixture{store: newFakeStore(), clock: &fakeClock{now: t0}}
	var err error
	if f.signer, err = New(f.store, testMasterKey, testURL, f.clock); err != nil {
		tb.Fatal(err)
	}
	f.keyA = f.newKey(tb, wsA)
	f.keyB = f.newKey(tb, wsB)
	return f
}

func (f *fixture) newKey(tb testing.TB, workspaceID string) *ports.SigningKey {
	tb.Helper()
	k, err := f.signer.NewSigningKey(context.Background(), workspaceID)
	if err != nil {
		tb.Fatal(err)
	}
	f.store.add(k)
	return k
}

// privateKey decrypts a stored key's private half, for forging tokens in tests.
func (f *fixture) privateKey(tb testing.TB, k *ports.SigningKey) *ecdsa.PrivateKey {
	tb.Helper()
	priv, err := decryptPrivateKey(f.signer.aead, k.WorkspaceID, k.KID, k.PrivateKeyEncrypted, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return priv
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
