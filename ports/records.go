package ports

import (
	"encoding/json"
	"time"
)

// Role is a member's (or team API key's) role in a workspace.
type Role string

// Roles, from most to least powerful.
const (
	RoleOwner  Role = "owner"
	RoleAdmin  Role = "admin"
	RoleViewer Role = "viewer"
)

// Account is a person who can sign in.
type Account struct {
	ID           string // acc_…
	Email        string // stored lower-case; unique
	PasswordHash string // argon2id encoded hash, or "" when no password was set
	CreatedAt    time.Time
}

// Workspace owns every other resource.
type Workspace struct {
	ID              string // ws_ + 24 lowercase alphanumerics
	Name            string
	Slug            string // unique across the installation
	Timezone        string // IANA name, display only
	DefaultAudience string // JWT aud for tokens created without one
	// SigningAlgorithm is the algorithm of the workspace's next signing keys: ES256, EdDSA or RS256.
	SigningAlgorithm string
	// AuditRetentionDays, when set, is how long audit events are kept; nil keeps them forever.
	AuditRetentionDays *int
	// Policy is the workspace's expiration policy.
	Policy    Policy
	CreatedAt time.Time
}

// Policy is a workspace's expiration policy, enforced when tokens are created and rotated. Durations
// are in seconds; nil means no limit.
type Policy struct {
	MaxLifetime       *int64 // expires_at at most this long after creation
	DefaultLifetime   *int64 // applied when expires_at is omitted
	RequireExpiry     bool   // every token must have an expires_at
	MaxRotationPeriod *int64 // every token must have a rotation_period no longer than this
}

// Scope is a custom scope a workspace registers for its downstream services.
type Scope struct {
	Name        string // pattern ^[a-z][a-z0-9_-]*:[a-z][a-z0-9_.-]*$
	Description string
}

// Member ties an account to a workspace with a role.
type Member struct {
	ID          string // mem_…
	WorkspaceID string
	AccountID   string
	Email       string // the account's email (read-only join)
	Role        Role
	CreatedAt   time.Time
}

// APIKeyKind tells whether a key acts as its owner (personal) or with a fixed role (team).
type APIKeyKind string

// API key kinds.
const (
	APIKeyPersonal APIKeyKind = "personal"
	APIKeyTeam     APIKeyKind = "team"
)

// APIKey is a management credential. Only the SHA-256 hash of its secret is stored.
type APIKey struct {
	ID          string // key_…
	WorkspaceID string
	Name        string
	Kind        APIKeyKind
	// Role is the fixed role of a team key; empty for personal keys (they use the member's role).
	Role Role
	// MemberID is the owning member of a personal key, or the member who created a team key.
	MemberID string
	// CreatedBy is the email of MemberID's account (read-only join).
	CreatedBy  string
	SecretHash []byte // SHA-256 of the full secret
	Last4      string
	CreatedAt  time.Time
	LastUsedAt *time.Time
}

// Token is an issued, scoped credential. Its value (a JWT) is never stored: only the id of the value
// currently valid (CurrentJTI) and, during a rotation grace period, of the previous one.
type Token struct {
	ID          string // tok_ + 24 lowercase alphanumerics
	WorkspaceID string
	Name        string
	Scopes      []string
	Audience    []string
	Metadata    json.RawMessage // nil when none was given
	CreatedBy   string
	CreatedAt   time.Time
	ExpiresAt   *time.Time
	// RotationPeriod (seconds), when set, bounds each value's exp to this long after it is issued; the
	// holder keeps the token alive by rotating it (itself) before each value lapses.
	RotationPeriod *int64
	LastUsedAt     *time.Time
	RevokedAt      *time.Time
	RotatedAt      *time.Time

	CurrentJTI string
	CurrentKID string // the signing key of the current value
	// PreviousJTI stays valid until PreviousValidUntil (a rotation grace period); empty when none.
	PreviousJTI        string
	PreviousKID        string
	PreviousValidUntil *time.Time
}

// TokenStatus is derived at read time.
type TokenStatus string

// Token statuses.
const (
	StatusActive  TokenStatus = "active"
	StatusExpired TokenStatus = "expired"
	StatusRevoked TokenStatus = "revoked"
)

// Status derives the token's status at now: revoked, else expired if ExpiresAt ≤ now, else active.
func (t *Token) Status(now time.Time) TokenStatus {
	switch {
	case t.RevokedAt != nil:
		return StatusRevoked
	case t.ExpiresAt != nil && !t.ExpiresAt.After(now):
		return StatusExpired
	default:
		return StatusActive
	}
}

// Actor is who did something recorded in the audit log.
type Actor struct {
	Type  string // user | api_key | token | system
	ID    string
	Email string
}

// Target is what an audit event is about.
type Target struct {
	Type string // token | api_key | workspace | member | …
	ID   string
	Name string
}

// AuditEvent is one entry of a workspace's audit log.
type AuditEvent struct {
	ID          string // evt_…
	WorkspaceID string
	Action      string // dotted name, e.g. token.revoked
	Actor       Actor
	Target      Target
	IP          string
	UserAgent   string
	RequestID   string
	Metadata    map[string]any
	OccurredAt  time.Time

	// The store sets these when it writes the event: its position in the workspace's chain, the hash
	// of the event before it ("" for the first) and its own hash (AuditHash(PrevHash, event)).
	ChainSeq int64
	PrevHash string
	Hash     string
}

// SigningKey is a workspace's JWT signing key. The private half is encrypted at rest. Its state is
// derived from its times (see KeyStates): published from CreatedAt, signing from ActivatesAt.
type SigningKey struct {
	KID                 string
	WorkspaceID         string
	Algorithm           string // ES256, EdDSA or RS256
	PublicJWK           json.RawMessage
	PrivateKeyEncrypted []byte
	CreatedAt           time.Time
	// ActivatesAt is when the key starts signing: at least one JWKS max-age after CreatedAt, so every
	// verifier has seen it before the first value it signs (announce before use).
	ActivatesAt time.Time
	// RetiredAt is set once no unexpired, unrevoked value the key signed remains; it is unpublished.
	RetiredAt *time.Time
	// RevokedAt is set by an emergency revocation; the key is unpublished at once.
	RevokedAt *time.Time
}

// Page selects a page of a list; Page ≥ 1, 1 ≤ PerPage ≤ 100.
type Page struct {
	Page    int
	PerPage int
}

// Offset is the number of rows before the page.
func (p Page) Offset() int { return (p.Page - 1) * p.PerPage }

// TokenFilter narrows a token list.
type TokenFilter struct {
	Page
	// Status, when set, keeps tokens whose status at Now is Status.
	Status TokenStatus
	Now    time.Time
	// NameContains keeps tokens whose name contains it, case-insensitively.
	NameContains string
}

// AuditFilter narrows an audit log list. Zero values do not filter.
type AuditFilter struct {
	Page
	Action   string
	ActorID  string
	TargetID string
	Since    *time.Time // inclusive
	Until    *time.Time // exclusive
}
