package core_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tooken/tooken/core"
	"github.com/tooken/tooken/ports"
)

func TestAPIKeySecretsCarryAChecksumThatCatchesTypos(t *testing.T) {
	for range 100 {
		k := core.NewAPIKeySecret()
		if len(k) != len(core.APIKeyPrefix)+32 || !core.ValidAPIKeyFormat(k) {
			t.Fatalf("fresh key %q is not valid", k)
		}
		last := k[len(k)-1]
		swap := byte('a')
		if last == 'a' {
			swap = 'b'
		}
		if core.ValidAPIKeyFormat(k[:len(k)-1] + string(swap)) {
			t.Fatalf("typo in %q not caught", k)
		}
		if core.ValidAPIKeyFormat(k[:20]+string(k[21])+string(k[20])+k[22:]) && k[20] != k[21] {
			t.Fatalf("transposition in %q not caught", k)
		}
	}
	for _, bad := range []string{"", "tok_live_", "tok_live_abc", "tok_test_" + strings.Repeat("a", 32), "tok_live_" + strings.Repeat("!", 32)} {
		if core.ValidAPIKeyFormat(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestAuthenticateRefusesWhatIsNotACredential(t *testing.T) {
	e := newEnv(t)
	e.workspace("acme")
	for _, bearer := range []string{"", "x", "a.b.c", "tok_live_" + strings.Repeat("A", 32), core.NewAPIKeySecret(), strings.Repeat("a", 9000)} {
		_, err := e.svc.Authenticate(e.ctx, bearer)
		wantCode(t, err, ports.EUNAUTHORIZED)
	}
}

func TestCachedCredentialsAuthenticateWithoutTheDatabase(t *testing.T) {
	e := newEnv(t)
	owner := e.workspace("acme")
	it := e.token(owner, "svc", core.ScopeTokensRead)
	key, secret, err := e.svc.CreateAPIKey(e.ctx, owner, core.CreateAPIKeyInput{Name: "ci", Kind: ports.APIKeyTeam})
	if err != nil || key.Role != ports.RoleAdmin {
		t.Fatalf("create key: %v %+v", err, key)
	}
	e.auth(it.Value)
	e.auth(secret)
	before := e.reads.n.Load()
	for range 5 {
		if p := e.auth(it.Value); p.Kind != core.KindToken || p.ID != it.Token.ID {
			t.Fatalf("token principal %+v", p)
		}
		if p := e.auth(secret); p.Role != ports.RoleAdmin || p.Email != "owner@acme.test" {
			t.Fatalf("key principal %+v", p)
		}
	}
	if n := e.reads.n.Load() - before; n != 0 {
		t.Fatalf("cached authentication made %d store reads, want 0", n)
	}
}

func TestRevokedRotatedAndDeletedCredentialsStopAtOnce(t *testing.T) {
	e := newEnv(t)
	owner := e.workspace("acme")
	it := e.token(owner, "svc", core.ScopeTokensRead)
	e.auth(it.Value)
	if err := e.svc.RevokeToken(e.ctx, owner, it.Token.ID); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.Authenticate(e.ctx, it.Value)
	wantErr(t, err, ports.ErrTokenRevoked)

	key, secret, err := e.svc.CreateAPIKey(e.ctx, owner, core.CreateAPIKeyInput{Name: "ci", Kind: ports.APIKeyTeam, Role: ports.RoleOwner})
	if err != nil {
		t.Fatal(err)
	}
	e.auth(secret)
	_, fresh, err := e.svc.RegenerateAPIKey(e.ctx, owner, key.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Authenticate(e.ctx, secret)
	wantErr(t, err, ports.ErrMissingCredential)
	e.auth(fresh)
	if err := e.svc.DeleteAPIKey(e.ctx, owner, key.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Authenticate(e.ctx, fresh)
	wantErr(t, err, ports.ErrMissingCredential)
}

func TestTokenExpiresAtTheExactInstant(t *testing.T) {
	e := newEnv(t)
	owner := e.workspace("acme")
	exp := epoch.Add(time.Hour).Format(time.RFC3339)
	it, err := e.svc.CreateToken(e.ctx, owner, core.CreateTokenInput{Name: "short", Scopes: []string{core.ScopeTokensRead}, ExpiresAt: &exp})
	if err != nil {
		t.Fatal(err)
	}
	e.auth(it.Value)
	e.clock.Set(epoch.Add(time.Hour - time.Second))
	e.auth(it.Value)
	if tk, _ := e.svc.GetToken(e.ctx, owner, it.Token.ID); tk.Status(e.svc.Now()) != ports.StatusActive {
		t.Fatal("active one second before expiry")
	}
	e.clock.Set(epoch.Add(time.Hour))
	_, err = e.svc.Authenticate(e.ctx, it.Value)
	wantErr(t, err, ports.ErrTokenExpired)
	if tk, _ := e.svc.GetToken(e.ctx, owner, it.Token.ID); tk.Status(e.svc.Now()) != ports.StatusExpired {
		t.Fatal("status must be expired exactly at expires_at")
	}
}

func TestLastUsedIsBufferedAndFlushedInOneBatch(t *testing.T) {
	e := newEnv(t)
	owner := e.workspace("acme")
	it := e.token(owner, "svc", core.ScopeTokensRead)
	e.clock.Advance(time.Minute)
	e.auth(it.Value)
	if tk, _ := e.stores.Tokens.Token(e.ctx, owner.WorkspaceID, it.Token.ID); tk.LastUsedAt != nil {
		t.Fatal("authentication must not write last_used_at itself")
	}
	if err := e.svc.FlushUsage(e.ctx); err != nil {
		t.Fatal(err)
	}
	tk, _ := e.stores.Tokens.Token(e.ctx, owner.WorkspaceID, it.Token.ID)
	if tk.LastUsedAt == nil || !tk.LastUsedAt.Equal(epoch.Add(time.Minute)) {
		t.Fatalf("last_used_at = %v, want %v", tk.LastUsedAt, epoch.Add(time.Minute))
	}
}
