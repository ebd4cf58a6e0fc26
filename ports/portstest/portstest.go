// Package portstest holds the contract suites of Tooken's store ports, in the manner of
// testing/fstest.TestFS: every adapter (memory, SQLite, PostgreSQL) runs them from its own tests.
//
//	func TestStores(t *testing.T) {
//		portstest.TestStores(t, func(t *testing.T) ports.Stores { return newStores(t) })
//	}
//
// The suites check each behaviour the port doc comments promise, including the error codes, the audit
// events written with each mutation, concurrent revocations and rotations of one token, and workspace
// isolation. They never depend on the order in which ids sort or rows were inserted: every record whose
// order matters gets its own CreatedAt or OccurredAt. Times are built in UTC at microsecond precision
// and compared as instants at that precision.
package portstest

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tooken/tooken/ports"
)

// Factory returns stores for one test. Stores may be shared between calls: the suites isolate
// themselves with random workspace ids, emails and slugs.
type Factory func(t *testing.T) ports.Stores

// TestStores runs every store suite of this package as a subtest, after checking that each port of
// the bundle is set and that a healthy store reports itself ready.
func TestStores(t *testing.T, newStores Factory) {
	run(t, newStores, "BundleSetsEveryPort", testBundleComplete)
	run(t, newStores, "ReadyOnHealthyStore", testReady)
	t.Run("AccountStore", func(t *testing.T) { TestAccountStore(t, newStores) })
	t.Run("WorkspaceStore", func(t *testing.T) { TestWorkspaceStore(t, newStores) })
	t.Run("APIKeyStore", func(t *testing.T) { TestAPIKeyStore(t, newStores) })
	t.Run("TokenStore", func(t *testing.T) { TestTokenStore(t, newStores) })
	t.Run("UsageStore", func(t *testing.T) { TestUsageStore(t, newStores) })
	t.Run("AuditLog", func(t *testing.T) { TestAuditLog(t, newStores) })
	t.Run("SigningKeyStore", func(t *testing.T) { TestSigningKeyStore(t, newStores) })
	t.Run("RevocationFeed", func(t *testing.T) { TestRevocationFeed(t, newStores) })
	t.Run("ChangeStream", func(t *testing.T) { TestChangeStream(t, newStores) })
	t.Run("WebhookStore", func(t *testing.T) { TestWebhookStore(t, newStores) })
	t.Run("MemberStore", func(t *testing.T) { TestMemberStore(t, newStores) })
}

func testBundleComplete(e *env) {
	s := e.s
	for name, missing := range map[string]bool{
		"Accounts": s.Accounts == nil, "Workspaces": s.Workspaces == nil, "APIKeys": s.APIKeys == nil,
		"Tokens": s.Tokens == nil, "Usage": s.Usage == nil, "Audit": s.Audit == nil,
		"SigningKeys": s.SigningKeys == nil, "Feed": s.Feed == nil, "Changes": s.Changes == nil,
		"Ready": s.Ready == nil, "Webhooks": s.Webhooks == nil,
		"Deliveries": s.Deliveries == nil, "Members": s.Members == nil, "Invitations": s.Invitations == nil,
	} {
		if missing {
			e.t.Errorf("ports.Stores.%s is nil", name)
		}
	}
}

func testReady(e *env) {
	if e.s.Ready == nil {
		e.t.Fatal("ports.Stores.Ready is nil")
	}
	if err := e.s.Ready.Ready(e.ctx); err != nil {
		e.t.Errorf("Ready on a healthy store: %v, want nil", err)
	}
}

// env is the state of one test: its stores and a base instant the test places its records around.
type env struct {
	t    *testing.T
	ctx  context.Context
	s    ports.Stores
	base time.Time
}

func run(t *testing.T, newStores Factory, name string, test func(e *env)) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		test(&env{t: t, ctx: t.Context(), s: newStores(t), base: time.Now().UTC().Truncate(time.Microsecond)})
	})
}

// at returns the base instant moved by d.
func (e *env) at(d time.Duration) time.Time { return e.base.Add(d) }

const idAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// newID returns prefix followed by 24 random lowercase alphanumerics, like every Tooken id.
func newID(prefix string) string {
	b := make([]byte, 24)
	for i := range b {
		b[i] = idAlphabet[rand.IntN(len(idAlphabet))]
	}
	return prefix + string(b)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rand.IntN(256))
	}
	return b
}

func ptr[T any](v T) *T { return &v }

func (e *env) must(err error, op string) {
	e.t.Helper()
	if err != nil {
		e.t.Fatalf("%s: unexpected error: %v", op, err)
	}
}

// wantCode reports whether err carries code, and fails the test (without stopping it) otherwise.
func (e *env) wantCode(err error, code, op string) bool {
	e.t.Helper()
	if got := ports.ErrorCode(err); got != code {
		e.t.Errorf("%s: error code %q (err: %v), want %q", op, got, err, code)
		return false
	}
	return true
}

// tenant is a workspace created through the WorkspaceStore, with everything created alongside it.
type tenant struct {
	Account *ports.Account
	WS      *ports.Workspace
	Owner   *ports.Member
	Key     *ports.SigningKey
	Event   *ports.AuditEvent
}

func (e *env) newAccount() *ports.Account {
	e.t.Helper()
	a := &ports.Account{
		ID:           newID("acc_"),
		Email:        newID("user-") + "@example.test",
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$" + newID("") + "$" + newID(""),
		CreatedAt:    e.at(-48 * time.Hour),
	}
	e.must(e.s.Accounts.CreateAccount(e.ctx, cloneAccount(a)), "CreateAccount")
	return a
}

func (e *env) newTenant() *tenant {
	e.t.Helper()
	return e.newTenantOf(e.newAccount())
}

func (e *env) newTenantOf(acc *ports.Account) *tenant {
	e.t.Helper()
	tn := e.tenantRecord(acc)
	e.must(e.s.Workspaces.CreateWorkspace(e.ctx, cloneWorkspace(tn.WS), cloneMember(tn.Owner),
		cloneSigningKey(tn.Key), cloneEvent(tn.Event)), "CreateWorkspace")
	return tn
}

// tenantRecord builds, without storing, a workspace owned by acc.
func (e *env) tenantRecord(acc *ports.Account) *tenant {
	id := newID("ws_")
	ws := &ports.Workspace{
		ID:               id,
		Name:             "Acme " + id[3:9],
		Slug:             "acme-" + id[3:],
		Timezone:         "Europe/Paris",
		DefaultAudience:  "https://api.acme.test/" + id,
		SigningAlgorithm: ports.AlgES256,
		CreatedAt:        e.at(-24 * time.Hour),
	}
	return &tenant{
		Account: acc,
		WS:      ws,
		Owner: &ports.Member{ID: newID("mem_"), WorkspaceID: id, AccountID: acc.ID, Email: acc.Email,
			Role: ports.RoleOwner, CreatedAt: ws.CreatedAt},
		Key: signingKeyRecord(id, ws.CreatedAt),
		Event: e.event(id, "workspace.created", ports.Target{Type: "workspace", ID: id, Name: ws.Name},
			ws.CreatedAt),
	}
}

// signingKeyRecord builds, without storing, an ES256 key of the workspace that signs from its creation.
func signingKeyRecord(wsID string, at time.Time) *ports.SigningKey {
	kid := newID("kid_")
	return &ports.SigningKey{
		KID:         kid,
		WorkspaceID: wsID,
		Algorithm:   ports.AlgES256,
		PublicJWK: []byte(`{"kty":"EC","crv":"P-256","alg":"ES256","use":"sig","kid":"` + kid +
			`","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}`),
		PrivateKeyEncrypted: randomBytes(93),
		CreatedAt:           at,
		ActivatesAt:         at,
	}
}

// event builds an audit event of the workspace with every field set.
func (e *env) event(wsID, action string, target ports.Target, at time.Time) *ports.AuditEvent {
	return &ports.AuditEvent{
		ID:          newID("evt_"),
		WorkspaceID: wsID,
		Action:      action,
		Actor:       ports.Actor{Type: "api_key", ID: newID("key_"), Email: "owner@example.test"},
		Target:      target,
		IP:          "203.0.113.7",
		UserAgent:   "portstest/1.0",
		RequestID:   newID("req_"),
		Metadata:    map[string]any{"source": "portstest", "attempt": 1.0, "tags": []any{"a", "b"}},
		OccurredAt:  at,
	}
}

// tokenRecord builds, without storing, a valid token of the tenant with only the required fields set.
func (e *env) tokenRecord(tn *tenant, name string, createdAt time.Time) *ports.Token {
	return &ports.Token{
		ID:          newID("tok_"),
		WorkspaceID: tn.WS.ID,
		Name:        name,
		Scopes:      []string{"tokens:read"},
		Audience:    []string{tn.WS.DefaultAudience},
		CreatedBy:   tn.Account.Email,
		CreatedAt:   createdAt,
		CurrentJTI:  newID("jti_"),
	}
}

func (e *env) tokenEvent(tok *ports.Token, action string, at time.Time) *ports.AuditEvent {
	return e.event(tok.WorkspaceID, action, ports.Target{Type: "token", ID: tok.ID, Name: tok.Name}, at)
}

// createToken stores a token of the tenant with its token.created event and returns what was stored.
func (e *env) createToken(tn *tenant, name string, createdAt time.Time) *ports.Token {
	e.t.Helper()
	tok := e.tokenRecord(tn, name, createdAt)
	e.storeToken(tok)
	return tok
}

func (e *env) storeToken(tok *ports.Token) {
	e.t.Helper()
	e.must(e.s.Tokens.CreateToken(e.ctx, cloneToken(tok), e.tokenEvent(tok, "token.created", tok.CreatedAt)),
		"CreateToken "+tok.Name)
}

func (e *env) token(wsID, id string) *ports.Token {
	e.t.Helper()
	tok, err := e.s.Tokens.Token(e.ctx, wsID, id)
	e.must(err, "Token")
	return tok
}

func (e *env) tokens(wsID string, f ports.TokenFilter) ([]ports.Token, int) {
	e.t.Helper()
	if f.Page == (ports.Page{}) {
		f.Page = ports.Page{Page: 1, PerPage: 100}
	}
	list, total, err := e.s.Tokens.Tokens(e.ctx, wsID, f)
	e.must(err, "Tokens")
	return list, total
}

// apiKeyRecord builds, without storing, a team key of the tenant created by its owner.
func (e *env) apiKeyRecord(tn *tenant, name string, createdAt time.Time) *ports.APIKey {
	return &ports.APIKey{
		ID:          newID("key_"),
		WorkspaceID: tn.WS.ID,
		Name:        name,
		Kind:        ports.APIKeyTeam,
		Role:        ports.RoleOwner,
		MemberID:    tn.Owner.ID,
		CreatedBy:   tn.Account.Email,
		SecretHash:  randomBytes(32),
		Last4:       newID("")[:4],
		CreatedAt:   createdAt,
	}
}

func (e *env) apiKeyEvent(k *ports.APIKey, action string, at time.Time) *ports.AuditEvent {
	return e.event(k.WorkspaceID, action, ports.Target{Type: "api_key", ID: k.ID, Name: k.Name}, at)
}

func (e *env) createAPIKey(tn *tenant, name string, createdAt time.Time) *ports.APIKey {
	e.t.Helper()
	k := e.apiKeyRecord(tn, name, createdAt)
	e.must(e.s.APIKeys.CreateAPIKey(e.ctx, cloneAPIKey(k), e.apiKeyEvent(k, "api_key.created", createdAt)),
		"CreateAPIKey")
	return k
}

func (e *env) apiKey(wsID, id string) *ports.APIKey {
	e.t.Helper()
	k, err := e.s.APIKeys.APIKey(e.ctx, wsID, id)
	e.must(err, "APIKey")
	return k
}

// events lists the workspace's events matching f (all of them on one page unless f says otherwise).
func (e *env) events(wsID string, f ports.AuditFilter) ([]ports.AuditEvent, int) {
	e.t.Helper()
	if f.Page == (ports.Page{}) {
		f.Page = ports.Page{Page: 1, PerPage: 100}
	}
	list, total, err := e.s.Audit.AuditEvents(e.ctx, wsID, f)
	e.must(err, "AuditEvents")
	return list, total
}

// eventsAbout lists the workspace's events whose target is targetID, optionally of one action.
func (e *env) eventsAbout(wsID, targetID, action string) []ports.AuditEvent {
	e.t.Helper()
	list, _ := e.events(wsID, ports.AuditFilter{TargetID: targetID, Action: action})
	return list
}

// wantRecorded checks that want was stored, field for field, in its workspace's log.
func (e *env) wantRecorded(want *ports.AuditEvent) {
	e.t.Helper()
	for _, got := range e.eventsAbout(want.WorkspaceID, want.Target.ID, "") {
		if got.ID == want.ID {
			eventDiff(&got, want).report(e.t, "audit event "+want.Action)
			return
		}
	}
	e.t.Errorf("audit event %s %s (target %s) was not recorded", want.ID, want.Action, want.Target.ID)
}

// wantNotRecorded checks that no event with id exists in any of the workspaces.
func (e *env) wantNotRecorded(id string, wsIDs ...string) {
	e.t.Helper()
	for _, ws := range wsIDs {
		list, _ := e.events(ws, ports.AuditFilter{})
		for _, ev := range list {
			if ev.ID == id {
				e.t.Errorf("audit event %s (%s) was recorded in %s, want none", id, ev.Action, ws)
			}
		}
	}
}
