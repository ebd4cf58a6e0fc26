// Package core holds Tooken's use cases: workspaces, API keys, tokens, verification and the audit log.
// It depends only on the ports and the standard library; adapters drive it (httpapi, cmd) or serve it
// (stores, signer, clock).
package core

import (
	"context"
	"crypto/sha256"
	"sync/atomic"
	"time"

	"github.com/tooken/tooken/ports"
)

// Config holds installation-wide settings the use cases need.
type Config struct {
	// PublicURL is the externally visible base URL; issuers are PublicURL/w/{workspace_id}.
	PublicURL string
	// KeyAnnounce is how long a new signing key is published before it signs: at least the JWKS
	// max-age, so every verifier has it first (default 5 minutes).
	KeyAnnounce time.Duration
	// KeyRotationPeriod is the age at which a workspace's active signing key is rotated
	// automatically (default 90 days).
	KeyRotationPeriod time.Duration
	// WebhookGuard decides which URLs webhooks may target (public https only, unless the operator
	// allows private targets); nil checks only the URL's shape.
	WebhookGuard ports.URLGuard
	// Deliveries enqueues redeliveries and test pings; nil answers them EUNAVAILABLE.
	Deliveries ports.DeliveryQueue
	// TokenReadMaxAge is the age by which a cached token read by GetToken falls due for a reload
	// (default 1 s): each cached copy falls due at an age drawn between half of it and it, and the
	// next read reloads it in the background, one token at a time. Revocations and rotations
	// invalidate the cache on every replica at once, and this replica's own uses show at once; what it
	// bounds, while the reloads keep up, is how late a last_used_at written by another replica shows.
	TokenReadMaxAge time.Duration
}

// Service runs every use case. It is safe for concurrent use.
type Service struct {
	cfg    Config
	stores ports.Stores
	signer ports.Signer
	clock  ports.Clock
	hasher ports.PasswordHasher

	keys       *cache[string, cachedKey]                // API keys by hex SHA-256 of the secret
	keyGen     atomic.Uint64                            // bumped whenever a key changes
	tokens     *cache[string, *cachedToken]             // token records by token id
	tokenGen   atomic.Uint64                            // bumped whenever a token is forgotten
	reloading  atomic.Bool                              // a cached token is being reloaded in the background
	values     *cache[[sha256.Size]byte, *ports.Claims] // verified values by SHA-256 of the value (see sum256)
	workspaces *cache[string, ports.Workspace]          // workspace settings by id
	scopes     *cache[string, []ports.Scope]            // custom scopes by workspace id
	usage      *usageBuffer
	failures   failureBuffer
	watchers   watchers
	notices    recordedNotices // expiry notices already recorded (see ScanExpiry)
}

// New returns a Service.
func New(cfg Config, stores ports.Stores, signer ports.Signer, clock ports.Clock, hasher ports.PasswordHasher) *Service {
	if cfg.KeyAnnounce <= 0 {
		cfg.KeyAnnounce = 5 * time.Minute
	}
	if cfg.TokenReadMaxAge <= 0 {
		cfg.TokenReadMaxAge = time.Second
	}
	if cfg.KeyRotationPeriod <= 0 {
		cfg.KeyRotationPeriod = 90 * 24 * time.Hour
	}
	return &Service{
		cfg: cfg, stores: stores, signer: signer, clock: clock, hasher: hasher,
		keys:       newCache[string, cachedKey](10_000),
		tokens:     newCache[string, *cachedToken](100_000),
		values:     newCache[[sha256.Size]byte, *ports.Claims](100_000),
		workspaces: newCache[string, ports.Workspace](10_000),
		scopes:     newCache[string, []ports.Scope](10_000),
		usage:      newUsageBuffer(),
	}
}

// Now returns the service clock's current time in UTC.
func (s *Service) Now() time.Time { return s.clock.Now().UTC() }

// Issuer returns the issuer URL of a workspace.
func (s *Service) Issuer(workspaceID string) string {
	return ports.IssuerURL(s.cfg.PublicURL, workspaceID)
}

// event builds an audit event for an action p performs on target now.
func (s *Service) event(ctx context.Context, actor ports.Actor, workspaceID, action string, target ports.Target, md map[string]any) *ports.AuditEvent {
	m := RequestMetaFrom(ctx)
	return &ports.AuditEvent{
		ID:          newID("evt_"),
		WorkspaceID: workspaceID,
		Action:      action,
		Actor:       actor,
		Target:      target,
		IP:          m.IP,
		UserAgent:   m.UserAgent,
		RequestID:   m.RequestID,
		Metadata:    md,
		OccurredAt:  s.Now(),
	}
}
