package core_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tooken/tooken/core"
	"github.com/tooken/tooken/ports"
)

func TestCreateTokenValidatesItsInput(t *testing.T) {
	e := newEnv(t)
	owner := e.workspace("acme")
	past := epoch.Add(-time.Second).Format(time.RFC3339)
	now := epoch.Format(time.RFC3339)
	cases := []struct {
		name string
		in   core.CreateTokenInput
		code string
	}{
		{"empty name", core.CreateTokenInput{Scopes: []string{"tokens:read"}}, ports.EINVALID},
		{"101-char name", core.CreateTokenInput{Name: strings.Repeat("n", 101), Scopes: []string{"tokens:read"}}, ports.EINVALID},
		{"no scopes", core.CreateTokenInput{Name: "a"}, ports.EINVALID},
		{"unknown scope", core.CreateTokenInput{Name: "a", Scopes: []string{"tokens:read", "tokens:admin"}}, ports.EINVALID},
		{"past expiry", core.CreateTokenInput{Name: "a", Scopes: []string{"tokens:read"}, ExpiresAt: &past}, ports.EUNPROCESSABLE},
		{"expiry now", core.CreateTokenInput{Name: "a", Scopes: []string{"tokens:read"}, ExpiresAt: &now}, ports.EUNPROCESSABLE},
		{"unparseable expiry", core.CreateTokenInput{Name: "a", Scopes: []string{"tokens:read"}, ExpiresAt: ptr("tomorrow")}, ports.EUNPROCESSABLE},
		{"metadata not an object", core.CreateTokenInput{Name: "a", Scopes: []string{"tokens:read"}, Metadata: json.RawMessage(`[1]`)}, ports.EINVALID},
		{"metadata over 4 KiB", core.CreateTokenInput{Name: "a", Scopes: []string{"tokens:read"}, Metadata: json.RawMessage(`{"x":"` + strings.Repeat("x", 4096) + `"}`)}, ports.EINVALID},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.svc.CreateToken(e.ctx, owner, c.in)
			wantCode(t, err, c.code)
		})
	}
	_, err := e.svc.CreateToken(e.ctx, owner, core.CreateTokenInput{Name: "x", Scopes: []string{"tokens:admin"}})
	if !strings.Contains(ports.ErrorMessage(err), `"tokens:admin"`) {
		t.Errorf("unknown scope message %q does not name it", ports.ErrorMessage(err))
	}
	list, _, total, _ := e.svc.ListTokens(e.ctx, owner, core.ListTokensInput{})
	if total != 0 || len(list) != 0 {
		t.Fatalf("refused creations wrote %d tokens", total)
	}
	it := e.token(owner, strings.Repeat("n", 100), "tokens:read", "tokens:read")
	if len(it.Token.Scopes) != 1 || it.Token.Audience[0] == "" {
		t.Fatalf("scopes not de-duplicated or audience not defaulted: %+v", it.Token)
	}
}

func TestTokenNamesAreUniqueCaseInsensitivelyIncludingRevoked(t *testing.T) {
	e := newEnv(t)
	owner := e.workspace("acme")
	it := e.token(owner, "Billing", "tokens:read")
	if err := e.svc.RevokeToken(e.ctx, owner, it.Token.ID); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.CreateToken(e.ctx, owner, core.CreateTokenInput{Name: "billing", Scopes: []string{"tokens:read"}})
	wantCode(t, err, ports.ECONFLICT)
	other := e.workspace("globex")
	e.token(other, "billing", "tokens:read")
}

func TestATokenCannotMintBeyondItsOwnGrant(t *testing.T) {
	e := newEnv(t)
	owner := e.workspace("acme")
	exp := epoch.Add(time.Hour).Format(time.RFC3339)
	minter, err := e.svc.CreateToken(e.ctx, owner, core.CreateTokenInput{Name: "minter",
		Scopes: []string{"tokens:write", "tokens:read"}, ExpiresAt: &exp, Audience: []string{"api"}})
	if err != nil {
		t.Fatal(err)
	}
	p := e.auth(minter.Value)
	later := epoch.Add(2 * time.Hour).Format(time.RFC3339)
	for name, in := range map[string]core.CreateTokenInput{
		"wider scope":    {Name: "a", Scopes: []string{"tokens:revoke"}, ExpiresAt: &exp},
		"no expiry":      {Name: "b", Scopes: []string{"tokens:read"}},
		"later expiry":   {Name: "c", Scopes: []string{"tokens:read"}, ExpiresAt: &later},
		"other audience": {Name: "d", Scopes: []string{"tokens:read"}, ExpiresAt: &exp, Audience: []string{"billing"}},
	} {
		_, err := e.svc.CreateToken(e.ctx, p, in)
		wantCode(t, err, ports.EFORBIDDEN)
		if !strings.Contains(ports.ErrorMessage(err), "exceeds") {
			t.Errorf("%s: message %q does not say what exceeded", name, ports.ErrorMessage(err))
		}
	}
	child, err := e.svc.CreateToken(e.ctx, p, core.CreateTokenInput{Name: "child", Scopes: []string{"tokens:read"}, ExpiresAt: &exp, Audience: []string{"api"}})
	if err != nil {
		t.Fatalf("minting within the grant: %v", err)
	}
	if child.Token.CreatedBy != "owner@acme.test" {
		t.Fatalf("created_by = %q, want the accountable member", child.Token.CreatedBy)
	}
}

func TestScopesAndRolesGuardEveryUseCase(t *testing.T) {
	e := newEnv(t)
	owner := e.workspace("acme")
	target := e.token(owner, "target", "tokens:read")
	reader := e.auth(e.token(owner, "reader", "tokens:read").Value)
	_, _, _, err := e.svc.ListTokens(e.ctx, reader, core.ListTokensInput{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.CreateToken(e.ctx, reader, core.CreateTokenInput{Name: "x", Scopes: []string{"tokens:read"}})
	if pe, _ := err.(*ports.Error); pe == nil || pe.Code != ports.EFORBIDDEN || pe.Scope != "tokens:write" {
		t.Fatalf("create with tokens:read only: %v", err)
	}
	err = e.svc.RevokeToken(e.ctx, reader, target.Token.ID)
	wantCode(t, err, ports.EFORBIDDEN)
	_, _, _, err = e.svc.ListAuditEvents(e.ctx, reader, core.ListAuditInput{})
	wantCode(t, err, ports.EFORBIDDEN)
	_, err = e.svc.ListAPIKeys(e.ctx, reader)
	wantCode(t, err, ports.EFORBIDDEN)

	_, adminSecret, _ := e.svc.CreateAPIKey(e.ctx, owner, core.CreateAPIKeyInput{Name: "admin", Kind: ports.APIKeyTeam, Role: ports.RoleAdmin})
	admin := e.auth(adminSecret)
	if err := e.svc.RevokeToken(e.ctx, admin, target.Token.ID); err != nil {
		t.Fatalf("admin revoke: %v", err)
	}
	_, err = e.svc.ListAPIKeys(e.ctx, admin)
	wantCode(t, err, ports.EFORBIDDEN)
	_, _, err = e.svc.CreateAPIKey(e.ctx, owner, core.CreateAPIKeyInput{Name: "bad", Kind: ports.APIKeyTeam, Role: ports.RoleViewer})
	wantCode(t, err, ports.EINVALID)
}

func TestAnotherWorkspacesTokenIsNotFound(t *testing.T) {
	e := newEnv(t)
	acme, globex := e.workspace("acme"), e.workspace("globex")
	it := e.token(acme, "svc", "tokens:read")
	_, err := e.svc.GetToken(e.ctx, globex, it.Token.ID)
	wantCode(t, err, ports.ENOTFOUND)
	wantCode(t, e.svc.RevokeToken(e.ctx, globex, it.Token.ID), ports.ENOTFOUND)
	_, err = e.svc.RotateToken(e.ctx, globex, it.Token.ID, nil)
	wantCode(t, err, ports.ENOTFOUND)
	if _, err := e.svc.Authenticate(e.ctx, it.Value); err != nil {
		t.Fatal("the token must be untouched")
	}
}

func TestRevokeIsIdempotentWithOneAuditEvent(t *testing.T) {
	e := newEnv(t)
	owner := e.workspace("acme")
	it := e.token(owner, "svc", "tokens:read")
	for range 3 {
		if err := e.svc.RevokeToken(e.ctx, owner, it.Token.ID); err != nil {
			t.Fatal(err)
		}
	}
	_, _, n, err := e.svc.ListAuditEvents(e.ctx, owner, core.ListAuditInput{Action: "token.revoked"})
	if err != nil || n != 1 {
		t.Fatalf("token.revoked events = %d (%v), want 1", n, err)
	}
	wantCode(t, e.svc.RevokeToken(e.ctx, owner, "tok_missing"), ports.ENOTFOUND)
}

func TestRotationKillsTheOldValueAfterItsGracePeriod(t *testing.T) {
	e := newEnv(t)
	owner := e.workspace("acme")
	it := e.token(owner, "svc", "tokens:read")
	self := e.auth(it.Value)
	next, err := e.svc.RotateToken(e.ctx, self, it.Token.ID, ptr(60))
	if err != nil {
		t.Fatalf("self-rotation without tokens:rotate: %v", err)
	}
	if next.Value == it.Value || next.Token.RotatedAt == nil {
		t.Fatalf("rotation must issue a new value and set rotated_at: %+v", next.Token)
	}
	e.auth(it.Value)
	e.auth(next.Value)
	e.clock.Advance(60 * time.Second)
	_, err = e.svc.Authenticate(e.ctx, it.Value)
	wantErr(t, err, ports.ErrTokenRotated)
	e.auth(next.Value)

	last, err := e.svc.RotateToken(e.ctx, owner, it.Token.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Authenticate(e.ctx, next.Value)
	wantErr(t, err, ports.ErrTokenRotated)
	e.auth(last.Value)

	_, err = e.svc.RotateToken(e.ctx, owner, it.Token.ID, ptr(86_401))
	wantCode(t, err, ports.EINVALID)
	if err := e.svc.RevokeToken(e.ctx, owner, it.Token.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.RotateToken(e.ctx, owner, it.Token.ID, nil)
	wantCode(t, err, ports.ECONFLICT)
}

func TestVerifyAnswersWithACode(t *testing.T) {
	e := newEnv(t)
	owner := e.workspace("acme")
	it := e.token(owner, "svc", "tokens:read")
	check := func(value string, scopes []string, want string) {
		t.Helper()
		v, err := e.svc.VerifyToken(e.ctx, value, scopes)
		if err != nil || v.Code != want || v.Valid != (want == core.VerifyValid) {
			t.Fatalf("verify = %+v, %v; want %s", v, err, want)
		}
	}
	check(it.Value, nil, core.VerifyValid)
	check(it.Value, []string{"tokens:read"}, core.VerifyValid)
	check(it.Value, []string{"tokens:write"}, core.VerifyInsufficientScope)
	check("not.a.jwt", nil, core.VerifyInvalid)
	check(it.Value[:len(it.Value)-4]+"AAAA", nil, core.VerifyInvalid)
	if err := e.svc.RevokeToken(e.ctx, owner, it.Token.ID); err != nil {
		t.Fatal(err)
	}
	check(it.Value, nil, core.VerifyRevoked)
	exp := epoch.Add(time.Minute).Format(time.RFC3339)
	short, _ := e.svc.CreateToken(e.ctx, owner, core.CreateTokenInput{Name: "short", Scopes: []string{"tokens:read"}, ExpiresAt: &exp})
	check(short.Value, nil, core.VerifyValid)
	e.clock.Advance(time.Minute)
	check(short.Value, nil, core.VerifyExpired)
	_, err := e.svc.VerifyToken(e.ctx, " ", nil)
	wantCode(t, err, ports.EINVALID)
}
