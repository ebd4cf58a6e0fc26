package ports

import (
	"context"
	"strings"
	"time"
)

// Claims are the claims of a token value (RFC 9068 access-token JWT).
type Claims struct {
	Issuer      string
	Subject     string // the token id (also the client_id claim)
	WorkspaceID string // the wid claim
	JTI         string
	Audience    []string
	Scopes      []string
	IssuedAt    time.Time
	NotBefore   time.Time
	ExpiresAt   *time.Time // nil: no exp claim
	KeyID       string     // the kid that signed it; set by Verify, ignored by Sign
}

// Signer signs and verifies token values with the workspace's signing keys.
type Signer interface {
	// NewSigningKey generates a key of the given algorithm (ES256, EdDSA or RS256; EINVALID
	// otherwise) for the workspace, its private half encrypted at rest, with CreatedAt = ActivatesAt
	// = now. The key is not stored: the caller adjusts ActivatesAt and stores it.
	NewSigningKey(ctx context.Context, workspaceID, algorithm string) (*SigningKey, error)
	// Sign returns the compact JWT for c, signed with the workspace's active key (see ActiveKey), and
	// that key's kid.
	Sign(ctx context.Context, c Claims) (value, kid string, err error)
	// Verify checks value's signature against its workspace's published keys, with the algorithm
	// pinned per key, typ at+jwt and the issuer of its wid. It returns ErrTokenExpired for a genuine
	// value whose exp has passed and ErrInvalidToken for anything else that does not verify.
	Verify(ctx context.Context, value string) (*Claims, error)
	// JWKS returns the workspace's JSON Web Key Set document — its pending, active and retiring keys —
	// and the algorithms they use; ENOTFOUND if it has no keys.
	JWKS(ctx context.Context, workspaceID string) (doc []byte, algorithms []string, err error)
	// Forget drops what the signer cached of a workspace's keys ("" = every workspace), after a
	// signing-key change on any replica.
	Forget(workspaceID string)
}

// Clock tells the time; tests inject a fake one.
type Clock interface {
	Now() time.Time
}

// IssuerURL returns the issuer of a workspace: {publicURL}/w/{workspaceID} (the id, never the slug).
func IssuerURL(publicURL, workspaceID string) string {
	return strings.TrimRight(publicURL, "/") + "/w/" + workspaceID
}

// PasswordHasher hashes and checks account passwords.
type PasswordHasher interface {
	// Hash returns an encoded hash of password.
	Hash(password string) (string, error)
	// Verify reports whether password matches the encoded hash.
	Verify(encoded, password string) (bool, error)
}
