// Package memory implements every store port in memory, for fast unit tests of the core. It honours
// the port docs exactly, like the SQL adapters: mutations and their audit events are applied together
// under one lock (or not at all), every read is scoped by workspace, times are kept in UTC at
// microsecond precision, and records are copied in and out so callers never share stored data.
// Changes are delivered in process (adapters/internal/changehub) once applied.
package memory

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tooken/tooken/adapters/internal/changehub"
	"github.com/tooken/tooken/ports"
)

// DB is one in-memory database shared by the stores it returns.
type DB struct {
	mu          sync.Mutex
	seq         int64
	accounts    map[string]*ports.Account // by id
	emails      map[string]string         // lower-case email → account id
	workspaces  map[string]*ports.Workspace
	slugs       map[string]string // slug → workspace id
	members     map[string]*ports.Member
	invitations map[string]*ports.Invitation
	apiKeys     map[string]*apiKeyRow
	hashes      map[string]string // secret hash → API key id
	tokens      map[string]*tokenRow
	tokenNames  map[string]string // workspace id + lower-case name → token id
	signingKeys map[string]*signingKeyRow
	scopes      map[string][]ports.Scope // workspace id → custom scopes, by name
	events      []eventRow
	eventIDs    map[string]bool
	heads       map[string]chainHead // workspace id → the last event of its audit chain
	feed        []ports.Revocation   // in Seq order
	webhooks    map[string]*webhookRow
	attempts    []ports.DeliveryAttempt // in the order recorded
	feedSeq     int64
	sessions    map[string]*ports.Session // by id

	// hub delivers committed changes; stores publish to it while holding mu, so that subscribers
	// see changes in commit order.
	hub         *changehub.Hub
	unavailable atomic.Bool
}

// seq orders rows that share a timestamp (later insertions first), so lists are deterministic.
type apiKeyRow struct {
	ports.APIKey
	seq int64
}

type tokenRow struct {
	ports.Token
	seq int64
}

type signingKeyRow struct {
	ports.SigningKey
	seq int64
}

type eventRow struct {
	ports.AuditEvent
	seq int64
}

// New returns an empty database.
func New() *DB {
	return &DB{
		accounts:    map[string]*ports.Account{},
		sessions:    map[string]*ports.Session{},
		emails:      map[string]string{},
		workspaces:  map[string]*ports.Workspace{},
		slugs:       map[string]string{},
		members:     map[string]*ports.Member{},
		invitations: map[string]*ports.Invitation{},
		apiKeys:     map[string]*apiKeyRow{},
		hashes:      map[string]string{},
		tokens:      map[string]*tokenRow{},
		tokenNames:  map[string]string{},
		signingKeys: map[string]*signingKeyRow{},
		scopes:      map[string][]ports.Scope{},
		webhooks:    map[string]*webhookRow{},
		eventIDs:    map[string]bool{},
		heads:       map[string]chainHead{},
		hub:         changehub.New(changehub.DefaultBuffer),
	}
}

// Stores returns every store port backed by db.
func (db *DB) Stores() ports.Stores {
	return ports.Stores{
		Accounts:    &AccountStore{db: db},
		Workspaces:  &WorkspaceStore{db: db},
		Members:     &MemberStore{db: db},
		Invitations: &InvitationStore{db: db},
		APIKeys:     &APIKeyStore{db: db},
		Tokens:      &TokenStore{db: db},
		Usage:       &UsageStore{db: db},
		Audit:       &AuditLog{db: db},
		SigningKeys: &SigningKeyStore{db: db},
		Feed:        &RevocationFeed{db: db},
		Webhooks:    &WebhookStore{db: db},
		Deliveries:  &DeliveryLog{db: db},
		Changes:     db.hub,
		Ready:       &Pinger{db: db},
		Sessions:    &SessionStore{db: db},
	}
}

// SetUnavailable makes Ready report EUNAVAILABLE (true) or nil (false), to test readiness handling.
func (db *DB) SetUnavailable(down bool) { db.unavailable.Store(down) }

// Pinger implements ports.Pinger.
type Pinger struct{ db *DB }

var _ ports.Pinger = (*Pinger)(nil)

// Ready returns nil unless SetUnavailable(true) was called.
func (p *Pinger) Ready(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return ports.Internal(err)
	}
	if p.db.unavailable.Load() {
		return ports.Errorf(ports.EUNAVAILABLE, "database unavailable")
	}
	return nil
}

func (db *DB) next() int64 {
	db.seq++
	return db.seq
}

// checkEvent returns ECONFLICT if ev's id is taken; a nil ev is fine (nothing is recorded).
func (db *DB) checkEvent(ev *ports.AuditEvent) error {
	if ev != nil && db.eventIDs[ev.ID] {
		return ports.Errorf(ports.ECONFLICT, "Audit event %s already exists", ev.ID)
	}
	return nil
}

// normTime keeps what a SQL timestamp keeps: a UTC instant at microsecond precision.
func normTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func normTimePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	n := normTime(*t)
	return &n
}

func copyTimePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}

func storedEvent(ev *ports.AuditEvent) (ports.AuditEvent, error) {
	c := *ev
	c.OccurredAt = normTime(ev.OccurredAt)
	c.Metadata = nil
	if len(ev.Metadata) > 0 {
		b, err := json.Marshal(ev.Metadata)
		if err != nil {
			return c, &ports.Error{Code: ports.EINVALID, Message: "audit event metadata is not JSON", Err: err}
		}
		if err := json.Unmarshal(b, &c.Metadata); err != nil {
			return c, ports.Internal(err)
		}
	}
	return c, nil
}

func copyWorkspace(ws *ports.Workspace) *ports.Workspace {
	c := *ws
	c.AuditRetentionDays = copyPtr(ws.AuditRetentionDays)
	c.Policy = copyPolicy(ws.Policy)
	return &c
}

func copyPolicy(p ports.Policy) ports.Policy {
	p.MaxLifetime = copyPtr(p.MaxLifetime)
	p.DefaultLifetime = copyPtr(p.DefaultLifetime)
	p.MaxRotationPeriod = copyPtr(p.MaxRotationPeriod)
	return p
}

func copyPtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}

func copyEvent(ev ports.AuditEvent) ports.AuditEvent {
	if ev.Metadata != nil {
		ev.Metadata = deepCopy(ev.Metadata).(map[string]any)
	}
	return ev
}

// deepCopy copies a decoded JSON value.
func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[k] = deepCopy(x)
		}
		return m
	case []any:
		s := make([]any, len(v))
		for i, x := range v {
			s[i] = deepCopy(x)
		}
		return s
	default:
		return v
	}
}

func copyToken(t *ports.Token) *ports.Token {
	c := *t
	c.Scopes = slices.Clone(t.Scopes)
	c.Audience = slices.Clone(t.Audience)
	c.Metadata = bytes.Clone(t.Metadata)
	c.ExpiresAt = copyTimePtr(t.ExpiresAt)
	c.RotationPeriod = copyPtr(t.RotationPeriod)
	c.LastUsedAt = copyTimePtr(t.LastUsedAt)
	c.RevokedAt = copyTimePtr(t.RevokedAt)
	c.RotatedAt = copyTimePtr(t.RotatedAt)
	c.PreviousValidUntil = copyTimePtr(t.PreviousValidUntil)
	return &c
}

func copyAPIKey(k *ports.APIKey) *ports.APIKey {
	c := *k
	c.SecretHash = bytes.Clone(k.SecretHash)
	c.LastUsedAt = copyTimePtr(k.LastUsedAt)
	return &c
}

func copySigningKey(k *ports.SigningKey) *ports.SigningKey {
	c := *k
	c.PublicJWK = bytes.Clone(k.PublicJWK)
	c.PrivateKeyEncrypted = bytes.Clone(k.PrivateKeyEncrypted)
	c.RetiredAt = copyTimePtr(k.RetiredAt)
	c.RevokedAt = copyTimePtr(k.RevokedAt)
	return &c
}

// storedSigningKey copies k for storage, with its times normalised.
func storedSigningKey(k *ports.SigningKey) *ports.SigningKey {
	c := copySigningKey(k)
	c.CreatedAt = normTime(k.CreatedAt)
	c.ActivatesAt = normTime(k.ActivatesAt)
	c.RetiredAt = normTimePtr(k.RetiredAt)
	c.RevokedAt = normTimePtr(k.RevokedAt)
	return c
}

// checkPage returns EINVALID unless p is a page the ports allow (Page ≥ 1, 1 ≤ PerPage ≤ 100).
func checkPage(p ports.Page) error {
	if p.Page < 1 || p.PerPage < 1 || p.PerPage > 100 {
		return &ports.Error{Code: ports.EINVALID, Message: "invalid page",
			Details: map[string]string{"page": "page must be ≥ 1 and per_page between 1 and 100"}}
	}
	return nil
}

// pageOf returns the rows of page p (already checked by checkPage) out of all.
func pageOf[T any](all []T, p ports.Page) []T {
	if pages := (len(all) + p.PerPage - 1) / p.PerPage; p.Page > pages {
		return all[:0]
	}
	start := p.Offset()
	return all[start:min(start+p.PerPage, len(all))]
}

func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return ports.Internal(err)
	}
	return nil
}
