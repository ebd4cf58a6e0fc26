package ports

import (
	"context"
	"time"
)

// Every store method is scoped by a workspace id that the caller took from the authenticated principal;
// a resource of another workspace is reported as ENOTFOUND, exactly like a missing one. Every mutation
// writes its audit event (when one is given) in the same transaction as the change itself, chained to
// the workspace's previous event (ChainSeq, PrevHash, Hash) inside that transaction, serialised per
// workspace so that concurrent writers cannot fork the chain.

// AccountStore keeps accounts.
type AccountStore interface {
	// CreateAccount stores a; returns ECONFLICT if an account with the same email (case-insensitive) exists.
	CreateAccount(ctx context.Context, a *Account) error
	// AccountByEmail returns the account with that email (case-insensitive); ENOTFOUND if none.
	AccountByEmail(ctx context.Context, email string) (*Account, error)
}

// WorkspaceStore keeps workspaces and their members.
type WorkspaceStore interface {
	// CreateWorkspace stores ws with its first owner member, its first signing key and ev, all in one
	// transaction; returns ECONFLICT if the slug is taken.
	CreateWorkspace(ctx context.Context, ws *Workspace, owner *Member, key *SigningKey, ev *AuditEvent) error
	// Workspace returns the workspace; ENOTFOUND if it does not exist.
	Workspace(ctx context.Context, id string) (*Workspace, error)
	// Member returns a member of the workspace with its account's email; ENOTFOUND if none.
	Member(ctx context.Context, workspaceID, memberID string) (*Member, error)
	// MemberByAccount returns the membership of an account in the workspace; ENOTFOUND if none.
	MemberByAccount(ctx context.Context, workspaceID, accountID string) (*Member, error)
	// UpdateWorkspace stores ws's Name, Slug, Timezone, SigningAlgorithm, AuditRetentionDays and
	// Policy and ev in one transaction; ENOTFOUND if it does not exist, ECONFLICT if the slug is taken
	// by another workspace.
	UpdateWorkspace(ctx context.Context, ws *Workspace, ev *AuditEvent) error
	// WorkspaceIDs lists workspace ids greater than after, ascending, at most limit (maintenance jobs
	// walk every workspace with it).
	WorkspaceIDs(ctx context.Context, after string, limit int) ([]string, error)
	// CustomScopes lists the workspace's custom scopes by name; empty when none.
	CustomScopes(ctx context.Context, workspaceID string) ([]Scope, error)
	// SetCustomScopes replaces the workspace's custom scopes with scopes and records ev, in one
	// transaction; ENOTFOUND if the workspace does not exist.
	SetCustomScopes(ctx context.Context, workspaceID string, scopes []Scope, ev *AuditEvent) error
}

// APIKeyStore keeps API keys (hashes only).
type APIKeyStore interface {
	// CreateAPIKey stores k and ev in one transaction; returns ECONFLICT if the hash already exists.
	CreateAPIKey(ctx context.Context, k *APIKey, ev *AuditEvent) error
	// APIKeys lists the workspace's keys, newest first.
	APIKeys(ctx context.Context, workspaceID string) ([]APIKey, error)
	// APIKey returns one key; ENOTFOUND if it is not in the workspace.
	APIKey(ctx context.Context, workspaceID, id string) (*APIKey, error)
	// APIKeyByHash finds the key whose secret hashes to hash, in any workspace; ENOTFOUND if none.
	APIKeyByHash(ctx context.Context, hash []byte) (*APIKey, error)
	// RegenerateAPIKey replaces the key's secret hash and last 4 characters and records ev, in one
	// transaction, announces ChangeAPIKey and returns the updated key; ENOTFOUND if it is not in the
	// workspace.
	RegenerateAPIKey(ctx context.Context, workspaceID, id string, hash []byte, last4 string, ev *AuditEvent) (*APIKey, error)
	// DeleteAPIKey removes the key and records ev in one transaction and announces ChangeAPIKey;
	// ENOTFOUND if it is not in the workspace.
	DeleteAPIKey(ctx context.Context, workspaceID, id string, ev *AuditEvent) error
}

// Rotation describes one rotation of a token's value.
type Rotation struct {
	// FromJTI must still be the token's current value id, or the rotation fails with ECONFLICT; this
	// makes concurrent rotations of one token produce exactly one winner.
	FromJTI string
	NewJTI  string
	NewKID  string // the signing key of the new value
	At      time.Time
	// PreviousValidUntil keeps FromJTI valid until then (a grace period); nil kills it at once.
	PreviousValidUntil *time.Time
}

// TokenStore keeps tokens (never their values).
type TokenStore interface {
	// CreateToken stores t and ev in one transaction; returns ECONFLICT if another token of the
	// workspace, revoked ones included, has the same name case-insensitively.
	CreateToken(ctx context.Context, t *Token, ev *AuditEvent) error
	// Token returns one token; ENOTFOUND if it is not in the workspace.
	Token(ctx context.Context, workspaceID, id string) (*Token, error)
	// Tokens lists the workspace's tokens matching f, newest first, and the total count matching f.
	Tokens(ctx context.Context, workspaceID string, f TokenFilter) ([]Token, int, error)
	// RevokeToken marks the token revoked at `at` and records ev, in one transaction, unless it is
	// already revoked: then it returns the token unchanged, revoked=false, and records nothing.
	// In the same transaction it appends to the revocation feed the current value (and the previous
	// one while its grace period lasts) with RevokedAt = at and the token's ExpiresAt, and announces
	// ChangeToken. Returns ENOTFOUND if the token is not in the workspace.
	RevokeToken(ctx context.Context, workspaceID, id string, at time.Time, ev *AuditEvent) (t *Token, revoked bool, err error)
	// NonCompliantTokens returns the ids (newest first, at most limit) and the number of the
	// workspace's tokens active at now that break p: no expiry while p.RequireExpiry; an expiry more
	// than p.MaxLifetime after creation, or none, while MaxLifetime is set; a rotation period longer
	// than p.MaxRotationPeriod, or none, while MaxRotationPeriod is set. (DefaultLifetime concerns
	// only new tokens.)
	NonCompliantTokens(ctx context.Context, workspaceID string, p Policy, now time.Time, limit int) (ids []string, total int, err error)
	// RotateToken makes r.NewJTI (signed by r.NewKID) the current value id and records ev, in one
	// transaction, provided the token is not revoked and its current value id is still r.FromJTI;
	// otherwise ECONFLICT. In the same transaction it appends r.FromJTI to the revocation feed with
	// RevokedAt = r.PreviousValidUntil (or r.At without a grace period) and the token's ExpiresAt —
	// plus, with RevokedAt = r.At, a previous value whose grace period this rotation cuts short — and
	// announces ChangeToken. Returns ENOTFOUND if the token is not in the workspace.
	RotateToken(ctx context.Context, workspaceID, id string, r Rotation, ev *AuditEvent) (*Token, error)
	// ExpiryCandidates lists unrevoked tokens of every workspace (the expiry job's scan) with an id
	// greater than after, by id, at most limit: those whose ExpiresAt lies in [from, to], and those
	// with a RotationPeriod whose ExpiresAt is unset or not before from.
	ExpiryCandidates(ctx context.Context, from, to time.Time, after string, limit int) ([]Token, error)
}

// Usage is one successful authentication by a credential.
type Usage struct {
	Kind string // "token" or "api_key"
	ID   string
	At   time.Time
}

// UsageStore records when credentials were last used.
type UsageStore interface {
	// MarkUsed sets last_used_at of each credential to At unless it already holds a later time.
	// Credentials that no longer exist are ignored.
	MarkUsed(ctx context.Context, uses []Usage) error
}

// AuditLog keeps audit events. Mutations write their own events; this port appends standalone events
// (authentication failures, sign-ins) and reads the log.
type AuditLog interface {
	// AppendAuditEvents stores events in one transaction.
	AppendAuditEvents(ctx context.Context, events ...*AuditEvent) error
	// AuditEvents lists the workspace's events matching f, newest first, and the total matching f.
	AuditEvents(ctx context.Context, workspaceID string, f AuditFilter) ([]AuditEvent, int, error)
	// AuditChain lists the workspace's events with ChainSeq > after in chain order, at most limit, as
	// stored (for verification: nothing is recomputed).
	AuditChain(ctx context.Context, workspaceID string, after int64, limit int) ([]AuditEvent, error)
	// PruneAuditEvents deletes the longest start of the workspace's chain whose events all occurred
	// before `before` (so an old event written after a kept one stays) and returns how many, recording
	// in the chain head the ChainSeq of the last event it deleted. The oldest kept event keeps its
	// PrevHash, so the rest of the chain still verifies.
	PruneAuditEvents(ctx context.Context, workspaceID string, before time.Time) (int, error)
	// AuditHead returns the workspace's chain head (zero when it has no events).
	AuditHead(ctx context.Context, workspaceID string) (ChainHead, error)
}

// ChainHead is where a workspace's audit chain stands: the ChainSeq and Hash of its newest event,
// and the ChainSeq of the newest event that retention deleted (0 if none). Verification uses it to
// notice deleted events at either end of the chain.
type ChainHead struct {
	LastSeq       int64
	LastHash      string
	PrunedThrough int64
}

// SigningKeyStore keeps signing keys. The first key is created with its workspace. Every mutation
// announces ChangeSigningKey.
type SigningKeyStore interface {
	// SigningKeys lists the workspace's keys, newest (by CreatedAt) first; empty if it has none.
	SigningKeys(ctx context.Context, workspaceID string) ([]SigningKey, error)
	// AddSigningKey stores k and ev in one transaction. When k is pending (ActivatesAt after
	// CreatedAt) it returns ECONFLICT if the workspace already has an unrevoked key whose ActivatesAt
	// is after k.CreatedAt, so concurrent scheduled rotations add one key. ENOTFOUND if the workspace
	// does not exist.
	AddSigningKey(ctx context.Context, k *SigningKey, ev *AuditEvent) error
	// RevokeSigningKey sets RevokedAt = at and records ev in one transaction, unless the key is
	// already revoked: then it returns it unchanged with revoked=false and records nothing.
	// ENOTFOUND if the key is not in the workspace.
	RevokeSigningKey(ctx context.Context, workspaceID, kid string, at time.Time, ev *AuditEvent) (k *SigningKey, revoked bool, err error)
	// RetireSigningKey sets RetiredAt = at and records ev in one transaction, provided the key is
	// neither revoked nor retired and no live value it signed remains at `at`: no unrevoked token of
	// the workspace, unexpired at `at`, whose CurrentKID is kid, or whose PreviousKID is kid with
	// PreviousValidUntil after `at`. Otherwise ECONFLICT. ENOTFOUND if the key is not in the workspace.
	RetireSigningKey(ctx context.Context, workspaceID, kid string, at time.Time, ev *AuditEvent) error
}

// Pinger reports whether the database is reachable and its migrations current.
type Pinger interface {
	// Ready returns EUNAVAILABLE when the database cannot serve requests.
	Ready(ctx context.Context) error
}

// Stores bundles every store port of one storage backend.
type Stores struct {
	Accounts    AccountStore
	Workspaces  WorkspaceStore
	Members     MemberStore
	Invitations InvitationStore
	APIKeys     APIKeyStore
	Tokens      TokenStore
	Usage       UsageStore
	Audit       AuditLog
	SigningKeys SigningKeyStore
	Feed        RevocationFeed
	Webhooks    WebhookStore
	Deliveries  DeliveryLog
	Changes     ChangeStream
	Ready       Pinger
	Sessions    SessionStore
}
