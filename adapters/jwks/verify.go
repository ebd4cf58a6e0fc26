package jwks

import (
	"context"
	"errors"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tooken/tooken/ports"
)

// maxTokenLen bounds the values Verify looks at; ours are well under 2 KiB.
const maxTokenLen = 8 << 10

// peekParser only decodes; nothing it returns is trusted except to pick the key.
var peekParser = jwt.NewParser(jwt.WithStrictDecoding())

var errHeader = errors.New("unacceptable header")

// Verify checks value against the key named by its kid, which must be one of its workspace's keys
// published at now (pending, active or retiring): the algorithm pinned to that key, typ at+jwt, the
// issuer of the wid claim, the key's workspace, and the required claims. A genuine value whose exp
// has passed returns ports.ErrTokenExpired; any other failure to verify returns
// ports.ErrInvalidToken; store failures are returned as they are.
func (s *Signer) Verify(ctx context.Context, value string) (*ports.Claims, error) {
	if value == "" || len(value) > maxTokenLen || !compactChars(value) {
		return nil, ports.ErrInvalidToken
	}
	var peek accessClaims
	unverified, _, err := peekParser.ParseUnverified(value, &peek)
	if err != nil {
		return nil, ports.ErrInvalidToken
	}
	kid, _ := unverified.Header["kid"].(string)
	if !validID(kid) || !validID(peek.WID) {
		return nil, ports.ErrInvalidToken
	}
	key, err := s.verificationKey(ctx, peek.WID, kid)
	if err != nil {
		return nil, err
	}

	claims := &accessClaims{wantWID: key.workspaceID}
	_, err = key.parser.ParseWithClaims(value, claims, func(t *jwt.Token) (any, error) {
		if typ, _ := t.Header["typ"].(string); typ != TokenType {
			return nil, errHeader
		}
		if _, crit := t.Header["crit"]; crit {
			return nil, errHeader
		}
		if k, _ := t.Header["kid"].(string); k != key.kid || t.Method != key.alg.method {
			return nil, errHeader
		}
		return key.public, nil
	})
	if err != nil {
		// The library reports every failed claim check; the value is merely expired only if the
		// signature verified and nothing but exp fails.
		if errors.Is(err, jwt.ErrTokenInvalidClaims) && errors.Is(err, jwt.ErrTokenExpired) &&
			key.validator.Validate(ignoringExpiry{claims}) == nil {
			return nil, ports.ErrTokenExpired
		}
		return nil, ports.ErrInvalidToken
	}
	return claims.toPorts(key.kid), nil
}

// verificationKey returns the key kid of the workspace if it is published at now, reloading the
// workspace's keys once if the cached set does not know the kid at all (a key added on another
// replica). Unknown and unpublished keys are ErrInvalidToken; a published key that cannot be used is
// EINTERNAL.
func (s *Signer) verificationKey(ctx context.Context, workspaceID, kid string) (*cachedKey, error) {
	set, loaded, err := s.keySet(ctx, workspaceID)
	if err != nil {
		return nil, err
	}
	if set.keys[kid] == nil && !loaded {
		if set, err = s.reload(ctx, workspaceID, set); err != nil {
			return nil, err
		}
	}
	key := set.published(kid, s.clock.Now())
	if key == nil {
		return nil, ports.ErrInvalidToken
	}
	if key.err != nil {
		return nil, ports.Internal(key.err)
	}
	return key, nil
}

// compactChars reports whether s holds only base64url characters and dots. The base64 decoder skips
// '\r' and '\n' even in strict mode, so without this check one signed value would have many
// spellings (each a new cache entry and a value no denylist of spellings would catch).
func compactChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
