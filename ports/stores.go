package ports

import (
	"context"
	"time"
)

// Every store method is scoped by a workspace id that the caller took from the authenticated principal;
// a resource of another workspace is reported as ENOTFOUND, exactly like a missing one. Every mutation
// writes its audit event (when one is given) in the same transaction as the change itself.

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
	// transaction, and returns the updated key; ENOTFOUND if it is not in the workspace.
	RegenerateAPIKey(ctx context.Context, workspaceID, id string, hash []byte, last4 string, ev *AuditEvent) (*APIKey, error)
	// DeleteAPIKey removes the key and records ev in one transaction; ENOTFOUND if it is not in the
	// workspace.
	DeleteAPIKey(ctx context.Context, workspaceID, id string, ev *AuditEvent) error
}

// Rotation describes one rotation of a token's value.
type Rotation struct {
	// FromJTI must still be the token's current value id, or the rotation fails with ECONFLICT; this
	// makes concurrent rotations of one token produce exactly one winner.
	FromJTI string
	NewJTI  string
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
	// Returns ENOTFOUND if the token is not in the workspace.
	RevokeToken(ctx context.Context, workspaceID, id string, at time.Time, ev *AuditEvent) (t *Token, revoked bool, err error)
	// RotateToken makes r.NewJTI the current value id and records ev, in one transaction, provided the
	// token is not revoked and its current value id is still r.FromJTI; otherwise ECONFLICT. Returns
	// ENOTFOUND if the token is not in the workspace.
	RotateToken(ctx context.Context, workspaceID, id string, r Rotation, ev *AuditEvent) (*Token, error)
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
}

// SigningKeyStore reads signing keys (they are created with their workspace).
type SigningKeyStore interface {
	// SigningKeys lists the workspace's keys, newest first; empty if the workspace has none.
	SigningKeys(ctx context.Context, workspaceID string) ([]SigningKey, error)
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
	APIKeys     APIKeyStore
	Tokens      TokenStore
	Usage       UsageStore
	Audit       AuditLog
	SigningKeys SigningKeyStore
	Ready       Pinger
}
