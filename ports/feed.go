package ports

import (
	"context"
	"time"
)

// Revocation is one entry of a workspace's revocation feed: a token value (by JWT id) that verifiers
// must refuse from RevokedAt on. Entries leave the feed once ExpiresAt passes.
type Revocation struct {
	Seq         int64 // position in the installation-wide feed; increases with every entry
	WorkspaceID string
	TokenID     string // never published: replicas use it to drop the token from their caches
	JTI         string
	ExpiresAt   *time.Time // the value's exp; nil = never expires (the entry stays)
	RevokedAt   time.Time  // may be in the future: a rotated-out value's grace period end
}

// RevocationFeed reads the revocation feed. Entries are appended by TokenStore.RevokeToken and
// TokenStore.RotateToken in the same transaction as the change.
type RevocationFeed interface {
	// Revocations lists the workspace's entries with Seq > after whose ExpiresAt is nil or after now,
	// in Seq order, at most limit.
	Revocations(ctx context.Context, workspaceID string, after int64, now time.Time, limit int) ([]Revocation, error)
	// RevocationsSince lists every workspace's entries with Seq > after, in Seq order, at most limit
	// (replicas reconcile their caches with it).
	RevocationsSince(ctx context.Context, after int64, limit int) ([]Revocation, error)
	// PruneRevocations deletes the entries whose ExpiresAt is at or before now and returns how many.
	PruneRevocations(ctx context.Context, now time.Time) (int, error)
}

// Change kinds.
const (
	ChangeToken      = "token"       // a token was revoked or rotated (its revocation feed grew)
	ChangeAPIKey     = "api_key"     // an API key was regenerated or deleted
	ChangeSigningKey = "signing_key" // a signing key was added, revoked or retired
	ChangeWorkspace  = "workspace"   // workspace settings or custom scopes changed
	ChangeResync     = "resync"      // changes may have been missed: drop every cache
)

// Change tells every replica that cached state went stale.
type Change struct {
	Kind        string
	WorkspaceID string
	ID          string // token id, API key id or kid; empty for workspace and resync
}

// ChangeStream delivers the changes committed through the stores of every replica sharing the
// database (PostgreSQL LISTEN/NOTIFY; in-process for single-node stores).
type ChangeStream interface {
	// Subscribe delivers every change committed after the call until ctx ends, then closes the
	// channel. A ChangeResync is delivered when changes may have been lost (a reconnect). Slow
	// subscribers never block writers: when a subscriber's buffer is full it gets ChangeResync instead.
	Subscribe(ctx context.Context) (<-chan Change, error)
}
