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

// Verify checks value against its workspace's published keys: the algorithm pinned to the key, typ
// at+jwt, the issuer of the wid claim, the key's workspace, and the required claims. A genuine value
// whose exp has passed returns ports.ErrTokenExpired; any other failure to verify returns
// ports.ErrInvalidToken; store failures are returned as they are.
func (s *Signer) Verify(ctx context.Context, value string) (*ports.Claims, error) {
	if value == "" || len(value) > maxTokenLen {
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
		if k, _ := t.Header["kid"].(string); k != key.kid {
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

// verificationKey returns the published key kid of the workspace, reloading the workspace's keys once
// if the cached set does not know it. Unknown keys are ErrInvalidToken.
func (s *Signer) verificationKey(ctx context.Context, workspaceID, kid string) (*cachedKey, error) {
	set, loaded, err := s.keySet(ctx, workspaceID)
	if err != nil {
		return nil, err
	}
	if key := set.keys[kid]; key != nil {
		return key, nil
	}
	if !loaded {
		s.drop(workspaceID, set)
		if set, _, err = s.keySet(ctx, workspaceID); err != nil {
			return nil, err
		}
		if key := set.keys[kid]; key != nil {
			return key, nil
		}
	}
	return nil, ports.ErrInvalidToken
}
