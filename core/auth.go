package core

import (
	"context"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/tooken/tooken/ports"
)

// Authenticate resolves a bearer value (an API key or a token JWT) to a Principal. It returns
// ports.ErrMissingCredential for anything that is neither, ErrInvalidToken, ErrTokenExpired,
// ErrTokenRevoked or ErrTokenRotated for tokens, and passes store failures through. A credential seen
// before costs no database access and, for tokens, no signature check.
func (s *Service) Authenticate(ctx context.Context, bearer string) (*Principal, error) {
	p, t, err := s.authenticate(ctx, bearer)
	if ports.ErrorCode(err) == ports.EUNAUTHORIZED {
		s.recordAuthFailure(ctx, err, t)
	}
	return p, err
}

// authenticate resolves bearer; on failure it also returns the token concerned, when it is known.
func (s *Service) authenticate(ctx context.Context, bearer string) (*Principal, *ports.Token, error) {
	switch {
	case bearer == "" || len(bearer) > 8192:
		return nil, nil, ports.ErrMissingCredential
	case strings.HasPrefix(bearer, APIKeyPrefix):
		if !ValidAPIKeyFormat(bearer) {
			return nil, nil, ports.ErrMissingCredential
		}
		p, err := s.authenticateAPIKey(ctx, bearer)
		return p, nil, err
	case strings.Count(bearer, ".") == 2:
		c, t, err := s.checkValue(ctx, bearer)
		if err != nil {
			return nil, t, err
		}
		s.usage.add(ports.Usage{Kind: KindToken, ID: t.ID, At: s.Now()})
		return &Principal{
			WorkspaceID: t.WorkspaceID, Kind: KindToken, ID: t.ID, Email: t.CreatedBy,
			Scopes: c.Scopes, ExpiresAt: t.ExpiresAt, Audience: t.Audience,
		}, nil, nil
	default:
		return nil, nil, ports.ErrMissingCredential
	}
}

// checkValue verifies a token value and its token's current state: signature (skipped for a value
// verified before), expiry, revocation and rotation. The claims returned may be the cache's own: the
// caller must not modify them.
func (s *Service) checkValue(ctx context.Context, value string) (*ports.Claims, *ports.Token, error) {
	now := s.Now()
	vk := sum256(value)
	c, ok := s.values.get(vk)
	if !ok {
		var err error
		if c, err = s.signer.Verify(ctx, value); err != nil {
			return nil, nil, err
		}
		s.values.put(vk, c)
	} else if c.ExpiresAt != nil && !c.ExpiresAt.After(now) {
		return nil, nil, ports.ErrTokenExpired
	}
	t, err := s.tokenRecord(ctx, c.WorkspaceID, c.Subject)
	if ports.ErrorCode(err) == ports.ENOTFOUND {
		return nil, nil, ports.ErrInvalidToken
	} else if err != nil {
		return nil, nil, err
	}
	return c, t, valueState(t, c.JTI, now)
}

// valueState tells whether value id jti of token t is usable at now.
func valueState(t *ports.Token, jti string, now time.Time) error {
	switch {
	case t.RevokedAt != nil:
		return ports.ErrTokenRevoked
	case t.ExpiresAt != nil && !t.ExpiresAt.After(now):
		return ports.ErrTokenExpired
	case jti == t.CurrentJTI:
		return nil
	case jti == t.PreviousJTI && t.PreviousValidUntil != nil && now.Before(*t.PreviousValidUntil):
		return nil
	default:
		return ports.ErrTokenRotated
	}
}

// tokenRecord returns the token from the cache, loading it on a miss.
func (s *Service) tokenRecord(ctx context.Context, workspaceID, id string) (*ports.Token, error) {
	return s.cachedTokenRecord(ctx, workspaceID, id, 0)
}

// cachedTokenRecord returns the token from the cache, loading it on a miss. A cached copy aged for
// maxAge (0: never too old; see cachedToken.aged) is still returned, and reloaded in the background
// for the next read, so that no request waits for the database to refresh what it already has. The
// token returned may be the cache's own: the caller must not modify it.
func (s *Service) cachedTokenRecord(ctx context.Context, workspaceID, id string, maxAge time.Duration) (*ports.Token, error) {
	if t, ok := s.tokens.get(id); ok && t.WorkspaceID == workspaceID {
		if t.aged(maxAge) {
			s.refreshToken(workspaceID, id)
		}
		return &t.Token, nil
	}
	gen := s.tokenGen.Load()
	t, err := s.stores.Tokens.Token(ctx, workspaceID, id)
	if err != nil {
		return nil, err
	}
	s.cacheLoadedToken(t, gen)
	return t, nil
}

// refreshToken reloads a cached token in the background, one token at a time: while a reload is in
// flight, a read of another aged token returns its cached copy and leaves the reload to a later read.
// Tokens cached together age together, and reloading them all at once would take the CPU from the
// requests for a moment.
func (s *Service) refreshToken(workspaceID, id string) {
	if !s.reloading.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer s.reloading.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		gen := s.tokenGen.Load()
		if t, err := s.stores.Tokens.Token(ctx, workspaceID, id); err == nil {
			s.cacheLoadedToken(t, gen)
		}
	}()
}

// cacheToken stores t in the token cache unless the cache already holds a later state of it: a
// reader that loaded the row just before a revocation or rotation must not overwrite the newer state.
func (s *Service) cacheToken(t *ports.Token) {
	s.tokens.update(t.ID, func(old *cachedToken, ok bool) (*cachedToken, bool) {
		if ok && laterState(&old.Token, t) {
			return old, false
		}
		return newCachedToken(t), true
	})
}

// cacheLoadedToken caches t, read from the store when the token generation was gen, unless a token
// was forgotten since (a change notification may have dropped the very state t was read before).
func (s *Service) cacheLoadedToken(t *ports.Token, gen uint64) {
	s.tokens.update(t.ID, func(old *cachedToken, ok bool) (*cachedToken, bool) {
		if s.tokenGen.Load() != gen || (ok && laterState(&old.Token, t)) {
			return old, false
		}
		return newCachedToken(t), true
	})
}

// cachedToken is a token record as cached, with the wall-clock time it was read from the store. A
// cached record is never modified: readers share it, and a change caches a new one.
type cachedToken struct {
	ports.Token
	loaded time.Time
	early  float64 // in [0, 0.5): the share of a max age by which this copy ages early
}

func newCachedToken(t *ports.Token) *cachedToken {
	return &cachedToken{Token: *t, loaded: time.Now(), early: rand.Float64() / 2}
}

// aged reports whether the copy is due for a reload under maxAge (0: never): once older than a point
// drawn when it was cached between half of maxAge and maxAge, so that tokens cached at the same moment
// are not due at the same moment, nor again together after their reloads.
func (t *cachedToken) aged(maxAge time.Duration) bool {
	return maxAge > 0 && time.Since(t.loaded) > maxAge-time.Duration(t.early*float64(maxAge))
}

// laterState reports whether a is a later state of the same token than b.
func laterState(a, b *ports.Token) bool {
	if (a.RevokedAt != nil) != (b.RevokedAt != nil) {
		return a.RevokedAt != nil
	}
	if a.RotatedAt == nil || b.RotatedAt == nil {
		return a.RotatedAt != nil && b.RotatedAt == nil
	}
	return a.RotatedAt.After(*b.RotatedAt)
}

// ForgetToken drops a token from the cache so its next use reloads it. Bumping the generation first
// stops a load that read the row before the change from caching it afterwards.
func (s *Service) ForgetToken(id string) {
	s.tokenGen.Add(1)
	s.tokens.del(id)
}
