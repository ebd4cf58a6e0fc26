package core_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tooken/tooken/adapters/jwks"
	"github.com/tooken/tooken/core"
	"github.com/tooken/tooken/ports"
)

func keyStates(t *testing.T, e *env, p *core.Principal) map[string]int {
	t.Helper()
	keys, err := e.svc.ListSigningKeys(e.ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, k := range keys {
		n[k.State]++
	}
	return n
}

func TestANewSigningKeyIsAnnouncedBeforeItSigns(t *testing.T) {
	e := newEnv(t)
	owner := e.workspace("acme")
	before := e.token(owner, "before", "tokens:read")
	k, err := e.svc.RotateSigningKey(e.ctx, owner)
	if err != nil || k.State != ports.KeyPending || !k.Key.ActivatesAt.Equal(epoch.Add(5*time.Minute)) {
		t.Fatalf("rotate: %+v %v", k, err)
	}
	_, err = e.svc.RotateSigningKey(e.ctx, owner)
	wantCode(t, err, ports.ECONFLICT)
	during := e.token(owner, "during", "tokens:read")
	if during.Token.CurrentKID != before.Token.CurrentKID {
		t.Fatal("a pending key must not sign")
	}
	doc, err := e.svc.JWKS(e.ctx, owner.WorkspaceID)
	if err != nil || !strings.Contains(string(doc), k.Key.KID) {
		t.Fatalf("the pending key must be published at once: %s %v", doc, err)
	}
	e.clock.Advance(5 * time.Minute)
	after := e.token(owner, "after", "tokens:read")
	if after.Token.CurrentKID != k.Key.KID {
		t.Fatalf("the new key must sign once activated; signed by %s", after.Token.CurrentKID)
	}
	e.auth(before.Value)
	e.auth(after.Value)
	if got := keyStates(t, e, owner); got[ports.KeyActive] != 1 || got[ports.KeyRetiring] != 1 {
		t.Fatalf("states %v", got)
	}
}

func TestMaintenanceRotatesOnScheduleAndRetiresKeysNoValueNeeds(t *testing.T) {
	e := newEnv(t)
	owner := e.workspace("acme")
	old := e.token(owner, "old", "tokens:read")
	e.clock.Advance(90 * 24 * time.Hour)
	if err := e.svc.Maintain(e.ctx); err != nil {
		t.Fatal(err)
	}
	if got := keyStates(t, e, owner); got[ports.KeyPending] != 1 {
		t.Fatalf("a 90-day-old key must be rotated: %v", got)
	}
	e.clock.Advance(5 * time.Minute)
	if err := e.svc.Maintain(e.ctx); err != nil {
		t.Fatal(err)
	}
	if got := keyStates(t, e, owner); got[ports.KeyRetiring] != 1 {
		t.Fatalf("the old key signed a live value and must stay retiring: %v", got)
	}
	if _, err := e.svc.RotateToken(e.ctx, owner, old.Token.ID, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Maintain(e.ctx); err != nil {
		t.Fatal(err)
	}
	if got := keyStates(t, e, owner); got[ports.KeyRetired] != 1 || got[ports.KeyActive] != 1 {
		t.Fatalf("no live value needs the old key: it must retire: %v", got)
	}
}

func TestEmergencyRevocationStopsItsValuesAndKeepsSigning(t *testing.T) {
	e := newEnv(t)
	owner := e.workspace("acme")
	it := e.token(owner, "svc", "tokens:read")
	e.auth(it.Value)
	revoked, err := e.svc.RevokeSigningKey(e.ctx, owner, it.Token.CurrentKID)
	if err != nil || revoked.State != ports.KeyRevoked {
		t.Fatalf("revoke key: %+v %v", revoked, err)
	}
	_, err = e.svc.Authenticate(e.ctx, it.Value)
	wantErr(t, err, ports.ErrInvalidToken)
	fresh := e.token(owner, "fresh", "tokens:read")
	if fresh.Token.CurrentKID == it.Token.CurrentKID {
		t.Fatal("a replacement key must sign at once")
	}
	e.auth(fresh.Value)
	rotated, err := e.svc.RotateToken(e.ctx, owner, it.Token.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.auth(rotated.Value)
	_, err = e.svc.RevokeSigningKey(e.ctx, owner, "sig_unknown")
	wantCode(t, err, ports.ENOTFOUND)
}

func TestCustomScopesCanBeCarriedButGrantNothingOnTheAPI(t *testing.T) {
	e := newEnv(t)
	owner := e.workspace("acme")
	_, err := e.svc.SetScopes(e.ctx, owner, []ports.Scope{{Name: "orders:read", Description: "Read orders"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]ports.Scope{{{Name: "Orders:Read"}}, {{Name: "tokens:read"}}, {{Name: "a:b"}, {Name: "a:b"}}, {{Name: "orders"}}} {
		_, err := e.svc.SetScopes(e.ctx, owner, bad)
		wantCode(t, err, ports.EINVALID)
	}
	it := e.token(owner, "orders", "orders:read")
	p := e.auth(it.Value)
	_, _, _, err = e.svc.ListTokens(e.ctx, p, core.ListTokensInput{})
	wantCode(t, err, ports.EFORBIDDEN)
	_, err = e.svc.CreateToken(e.ctx, owner, core.CreateTokenInput{Name: "x", Scopes: []string{"orders:write"}})
	wantCode(t, err, ports.EINVALID)
	if _, err := e.svc.SetScopes(e.ctx, owner, nil); err != nil {
		t.Fatal(err)
	}
	e.auth(it.Value)
	_, err = e.svc.CreateToken(e.ctx, owner, core.CreateTokenInput{Name: "y", Scopes: []string{"orders:read"}})
	wantCode(t, err, ports.EINVALID)
}

func TestWorkspaceSettingsAreValidated(t *testing.T) {
	e := newEnv(t)
	owner := e.workspace("acme")
	ws, err := e.svc.UpdateWorkspace(e.ctx, owner, core.UpdateWorkspaceInput{
		Name: ptr("Acme Corp"), Slug: ptr("acme-corp"), Timezone: ptr("Europe/Paris"), SigningAlgorithm: ptr("EdDSA")})
	if err != nil || ws.Slug != "acme-corp" || ws.SigningAlgorithm != "EdDSA" {
		t.Fatalf("update: %+v %v", ws, err)
	}
	for _, in := range []core.UpdateWorkspaceInput{
		{Slug: ptr("Not A Slug")}, {Timezone: ptr("Mars/Olympus")}, {SigningAlgorithm: ptr("HS256")}, {Name: ptr("")},
	} {
		_, err := e.svc.UpdateWorkspace(e.ctx, owner, in)
		wantCode(t, err, ports.EINVALID)
	}
	other := e.workspace("globex")
	_, err = e.svc.UpdateWorkspace(e.ctx, other, core.UpdateWorkspaceInput{Slug: ptr("acme-corp")})
	wantCode(t, err, ports.ECONFLICT)
	k, err := e.svc.RotateSigningKey(e.ctx, owner)
	if err != nil || k.Key.Algorithm != "EdDSA" {
		t.Fatalf("the next key must use the new algorithm: %+v %v", k, err)
	}
}

// A key that activated at the same instant as the active one (an emergency replacement made in the
// same clock tick as the key it replaces, on a coarse or frozen clock) loses the tie for signing but
// is not retired by maintenance as if it had been replaced.
func TestMaintenanceDoesNotRetireAKeyTiedWithTheActiveOne(t *testing.T) {
	e := newEnv(t)
	owner := e.workspace("acme")
	signer, err := jwks.New(e.stores.SigningKeys, make([]byte, 32), "https://tooken.test", e.clock)
	if err != nil {
		t.Fatal(err)
	}
	k, err := signer.NewSigningKey(e.ctx, owner.WorkspaceID, "ES256")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.stores.SigningKeys.AddSigningKey(e.ctx, k, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Maintain(e.ctx); err != nil {
		t.Fatal(err)
	}
	if got := keyStates(t, e, owner); got[ports.KeyRetired] != 0 || got[ports.KeyActive] != 1 {
		t.Errorf("key states after maintenance = %v, want one active and none retired", got)
	}
}
