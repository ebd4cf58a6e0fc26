package core_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tooken/tooken/adapters/argon2id"
	"github.com/tooken/tooken/adapters/jwks"
	"github.com/tooken/tooken/adapters/memory"
	"github.com/tooken/tooken/core"
	"github.com/tooken/tooken/internal/testclock"
	"github.com/tooken/tooken/ports"
)

// env is a Service on memory stores with a real signer and a test clock.
type env struct {
	t      *testing.T
	svc    *core.Service
	clock  *testclock.Clock
	stores ports.Stores
	reads  *countingReads
	ctx    context.Context
}

var epoch = time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, core.Config{})
}

// newEnvWith is newEnv with a configuration (its PublicURL is set).
func newEnvWith(t *testing.T, cfg core.Config) *env {
	t.Helper()
	return newEnvWrapping(t, cfg, func(*ports.Stores) {})
}

// newEnvWrapping is newEnvWith whose stores wrap may replace before the Service is built.
func newEnvWrapping(t *testing.T, cfg core.Config, wrap func(*ports.Stores)) *env {
	t.Helper()
	clock := testclock.New(epoch)
	stores := memory.New().Stores()
	reads := &countingReads{TokenStore: stores.Tokens, APIKeyStore: stores.APIKeys, WorkspaceStore: stores.Workspaces}
	stores.Tokens, stores.APIKeys, stores.Workspaces = reads, reads, reads
	wrap(&stores)
	signer, err := jwks.New(stores.SigningKeys, make([]byte, 32), "https://tooken.test", clock)
	if err != nil {
		t.Fatal(err)
	}
	cfg.PublicURL = "https://tooken.test"
	svc := core.New(cfg, stores, signer, clock,
		argon2id.Hasher{Memory: 1024, Time: 1, Threads: 1})
	return &env{t: t, svc: svc, clock: clock, stores: stores, reads: reads, ctx: context.Background()}
}

// workspace bootstraps a workspace and returns the principal of its owner API key.
func (e *env) workspace(name string) *core.Principal {
	e.t.Helper()
	b, err := e.svc.Bootstrap(e.ctx, core.BootstrapInput{Email: "owner@" + name + ".test", Workspace: name})
	if err != nil {
		e.t.Fatal(err)
	}
	return e.auth(b.APIKey)
}

func (e *env) auth(bearer string) *core.Principal {
	e.t.Helper()
	p, err := e.svc.Authenticate(e.ctx, bearer)
	if err != nil {
		e.t.Fatalf("authenticate: %v", err)
	}
	return p
}

// token creates a token and returns its issued value.
func (e *env) token(p *core.Principal, name string, scopes ...string) *core.IssuedToken {
	e.t.Helper()
	it, err := e.svc.CreateToken(e.ctx, p, core.CreateTokenInput{Name: name, Scopes: scopes})
	if err != nil {
		e.t.Fatalf("create token %q: %v", name, err)
	}
	return it
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := ports.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
}

func ptr[T any](v T) *T { return &v }

// countingReads counts the store reads that authentication may make.
type countingReads struct {
	ports.TokenStore
	ports.APIKeyStore
	ports.WorkspaceStore
	n atomic.Int64
	// afterTokenRead, when set, runs after each Token read, before the result is returned.
	afterTokenRead atomic.Pointer[func()]
}

func (c *countingReads) Token(ctx context.Context, ws, id string) (*ports.Token, error) {
	c.n.Add(1)
	t, err := c.TokenStore.Token(ctx, ws, id)
	if hook := c.afterTokenRead.Load(); hook != nil {
		(*hook)()
	}
	return t, err
}

func (c *countingReads) APIKeyByHash(ctx context.Context, h []byte) (*ports.APIKey, error) {
	c.n.Add(1)
	return c.APIKeyStore.APIKeyByHash(ctx, h)
}

func (c *countingReads) Member(ctx context.Context, ws, id string) (*ports.Member, error) {
	c.n.Add(1)
	return c.WorkspaceStore.Member(ctx, ws, id)
}
