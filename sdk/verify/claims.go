package verify

import (
	"slices"
	"time"
)

// Claims are the verified claims of a Tooken access token. Values returned by Verify share their
// slices with the verifier's cache: treat them as read-only.
type Claims struct {
	Issuer      string     // iss: the issuer URL
	Subject     string     // sub: the token id
	TokenID     string     // client_id (equal to sub), or sub when absent
	WorkspaceID string     // wid
	JTI         string     // jti: unique per issued value; what the revocation feed lists
	Audience    []string   // aud
	Scopes      []string   // scope, split on spaces
	IssuedAt    time.Time  // iat (zero when absent)
	NotBefore   time.Time  // nbf (zero when absent)
	ExpiresAt   *time.Time // exp; nil for a token that never expires
	KeyID       string     // kid of the key that signed the token
}

// HasScope reports whether the token carries scope s (built-in such as tokens:read, or a
// workspace's custom scope such as orders:read).
func (c *Claims) HasScope(s string) bool {
	return c != nil && slices.Contains(c.Scopes, s)
}

// HasAllScopes reports whether the token carries every one of scopes.
func (c *Claims) HasAllScopes(scopes ...string) bool {
	for _, s := range scopes {
		if !c.HasScope(s) {
			return false
		}
	}
	return c != nil
}

// missingScopes returns the scopes of want that c lacks.
func (c *Claims) missingScopes(want []string) []string {
	var out []string
	for _, s := range want {
		if !c.HasScope(s) {
			out = append(out, s)
		}
	}
	return out
}
