package core

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tooken/tooken/ports"
)

// CreateTokenInput is the request to create a token. ExpiresAt is the raw RFC 3339 text.
type CreateTokenInput struct {
	Name      string
	Scopes    []string
	ExpiresAt *string
	Audience  []string
	Metadata  json.RawMessage
	// RotationPeriod (seconds, ≥ 300) bounds each value's exp; the holder rotates before it lapses.
	RotationPeriod *int64
}

// IssuedToken is a token together with the value just issued for it (shown once).
type IssuedToken struct {
	Token ports.Token
	Value string
}

// CreateToken mints a token in p's workspace. A token principal may mint only within its own grant.
func (s *Service) CreateToken(ctx context.Context, p *Principal, in CreateTokenInput) (*IssuedToken, error) {
	if err := p.requireScope(ScopeTokensWrite); err != nil {
		return nil, err
	}
	now := s.Now()
	t := &ports.Token{
		ID: newID("tok_"), WorkspaceID: p.WorkspaceID, Name: in.Name, Audience: in.Audience,
		CreatedBy: p.Email, CreatedAt: now.Truncate(time.Second), CurrentJTI: newID("jti_"),
	}
	var err error
	if err = validateName("name", in.Name); err != nil {
		return nil, err
	}
	if t.Scopes, err = s.validateScopes(ctx, p.WorkspaceID, in.Scopes); err != nil {
		return nil, err
	}
	if err = validateAudience(in.Audience); err != nil {
		return nil, err
	}
	if err = validateMetadata(in.Metadata); err != nil {
		return nil, err
	}
	if len(in.Metadata) > 0 && string(in.Metadata) != "null" {
		t.Metadata = in.Metadata
	}
	if in.ExpiresAt != nil {
		exp, err := parseTime("expires_at", *in.ExpiresAt, ports.EUNPROCESSABLE)
		if err != nil {
			return nil, err
		}
		if !exp.After(now) {
			return nil, unprocessable("expires_at", "expires_at must be in the future")
		}
		t.ExpiresAt = &exp
	}
	if rp := in.RotationPeriod; rp != nil {
		if *rp < MinRotationPeriod || *rp > MaxDuration {
			return nil, invalid("rotation_period", fmt.Sprintf("rotation_period must be between %d and %d seconds", MinRotationPeriod, MaxDuration))
		}
		t.RotationPeriod = rp
	}
	ws, err := s.workspace(ctx, p.WorkspaceID)
	if err != nil {
		return nil, err
	}
	if len(t.Audience) == 0 {
		t.Audience = []string{ws.DefaultAudience}
	}
	if err := applyPolicy(ws.Policy, t, now, true); err != nil {
		return nil, err
	}
	if err := p.withinGrant(t); err != nil {
		return nil, err
	}
	value, err := s.sign(ctx, t, now)
	if err != nil {
		return nil, err
	}
	ev := s.event(ctx, p.actor(), p.WorkspaceID, "token.created", tokenTarget(t), map[string]any{"scopes": t.Scopes})
	if err := s.stores.Tokens.CreateToken(ctx, t, ev); err != nil {
		return nil, err
	}
	return &IssuedToken{Token: *t, Value: value}, nil
}

// withinGrant refuses, for a token principal, a new token exceeding its own scopes, expiry or audience.
func (p *Principal) withinGrant(t *ports.Token) error {
	if p.Kind != KindToken {
		return nil
	}
	for _, sc := range t.Scopes {
		if !slices.Contains(p.Scopes, sc) {
			return escalation(fmt.Sprintf("scope %s exceeds the caller's own grant", sc))
		}
	}
	if p.ExpiresAt != nil && (t.ExpiresAt == nil || t.ExpiresAt.After(*p.ExpiresAt)) {
		return escalation("expires_at exceeds the caller's own expiry " + p.ExpiresAt.Format(time.RFC3339))
	}
	for _, a := range t.Audience {
		if !slices.Contains(p.Audience, a) {
			return escalation(fmt.Sprintf("audience %q exceeds the caller's own audience", truncate(a, 64)))
		}
	}
	return nil
}

func escalation(msg string) error {
	return &ports.Error{Code: ports.EFORBIDDEN, Message: "Cannot mint beyond your own grant: " + msg}
}

// sign issues a new value for t's current value id and records the key that signed it. With a
// rotation period the value expires that long after now, or at the token's expiry if sooner.
func (s *Service) sign(ctx context.Context, t *ports.Token, now time.Time) (string, error) {
	exp := t.ExpiresAt
	if t.RotationPeriod != nil {
		lapse := now.Add(time.Duration(*t.RotationPeriod) * time.Second).Truncate(time.Second)
		if exp == nil || lapse.Before(*exp) {
			exp = &lapse
		}
	}
	value, kid, err := s.signer.Sign(ctx, ports.Claims{
		Issuer: s.Issuer(t.WorkspaceID), Subject: t.ID, WorkspaceID: t.WorkspaceID, JTI: t.CurrentJTI,
		Audience: t.Audience, Scopes: t.Scopes, IssuedAt: now, NotBefore: now, ExpiresAt: exp,
	})
	t.CurrentKID = kid
	return value, err
}

// ListTokensInput is the raw token list request.
type ListTokensInput struct {
	PageInput
	Status string
	Name   string
}

// ListTokens lists p's workspace's tokens, newest first, with the total matching.
func (s *Service) ListTokens(ctx context.Context, p *Principal, in ListTokensInput) ([]ports.Token, ports.Page, int, error) {
	if err := p.requireScope(ScopeTokensRead); err != nil {
		return nil, ports.Page{}, 0, err
	}
	pg, err := in.page()
	if err != nil {
		return nil, pg, 0, err
	}
	f := ports.TokenFilter{Page: pg, Now: s.Now(), NameContains: in.Name, Status: ports.TokenStatus(in.Status)}
	switch f.Status {
	case "", ports.StatusActive, ports.StatusExpired, ports.StatusRevoked:
	default:
		return nil, pg, 0, invalid("status", "status must be active, expired or revoked")
	}
	if len(in.Name) > MaxNameLen {
		return nil, pg, 0, invalid("name", fmt.Sprintf("name filter must be at most %d characters", MaxNameLen))
	}
	list, total, err := s.stores.Tokens.Tokens(ctx, p.WorkspaceID, f)
	return list, pg, total, err
}

// GetToken returns one token of p's workspace from the token cache (reloaded in the background once
// due, see Config.TokenReadMaxAge), with the latest use this replica has seen. The token may be
// the cache's own: read it, do not modify it.
func (s *Service) GetToken(ctx context.Context, p *Principal, id string) (*ports.Token, error) {
	if err := p.requireScope(ScopeTokensRead); err != nil {
		return nil, err
	}
	t, err := s.cachedTokenRecord(ctx, p.WorkspaceID, id, s.cfg.TokenReadMaxAge)
	if err != nil {
		return nil, tokenNotFound(err, id)
	}
	if at, ok := s.usage.pending(KindToken, id); ok && (t.LastUsedAt == nil || at.After(*t.LastUsedAt)) {
		c := *t
		c.LastUsedAt = &at
		t = &c
	}
	return t, nil
}

// RevokeToken revokes a token permanently; revoking it again succeeds and records nothing.
func (s *Service) RevokeToken(ctx context.Context, p *Principal, id string) error {
	if err := p.requireScope(ScopeTokensRevoke); err != nil {
		return err
	}
	t, err := s.stores.Tokens.Token(ctx, p.WorkspaceID, id)
	if err != nil {
		return tokenNotFound(err, id)
	}
	if t.RevokedAt != nil {
		return nil
	}
	ev := s.event(ctx, p.actor(), p.WorkspaceID, "token.revoked", tokenTarget(t), nil)
	t, _, err = s.stores.Tokens.RevokeToken(ctx, p.WorkspaceID, id, s.Now(), ev)
	if err != nil {
		return tokenNotFound(err, id)
	}
	s.cacheToken(t)
	s.watchers.notify(ports.Change{Kind: ports.ChangeToken, WorkspaceID: t.WorkspaceID, ID: t.ID})
	return nil
}

// RotateToken issues a new value for the token; the old value dies at once, or after gracePeriod
// seconds. A token may always rotate itself.
func (s *Service) RotateToken(ctx context.Context, p *Principal, id string, gracePeriod *int) (*IssuedToken, error) {
	if p.Kind != KindToken || p.ID != id {
		if err := p.requireScope(ScopeTokensRotate); err != nil {
			return nil, err
		}
	}
	if gracePeriod != nil && (*gracePeriod < 0 || *gracePeriod > MaxGracePeriod) {
		return nil, invalid("grace_period", fmt.Sprintf("grace_period must be between 0 and %d seconds", MaxGracePeriod))
	}
	t, err := s.stores.Tokens.Token(ctx, p.WorkspaceID, id)
	if err != nil {
		return nil, tokenNotFound(err, id)
	}
	now := s.Now()
	if st := t.Status(now); st != ports.StatusActive {
		return nil, ports.Errorf(ports.ECONFLICT, "Token %s is %s and cannot be rotated", id, st)
	}
	ws, err := s.workspace(ctx, p.WorkspaceID)
	if err != nil {
		return nil, err
	}
	if err := applyPolicy(ws.Policy, t, t.CreatedAt, false); err != nil {
		return nil, err
	}
	r := ports.Rotation{FromJTI: t.CurrentJTI, NewJTI: newID("jti_"), At: now}
	if gracePeriod != nil && *gracePeriod > 0 {
		until := now.Add(time.Duration(*gracePeriod) * time.Second)
		r.PreviousValidUntil = &until
	}
	next := *t
	next.CurrentJTI = r.NewJTI
	value, err := s.sign(ctx, &next, now)
	if err != nil {
		return nil, err
	}
	r.NewKID = next.CurrentKID
	md := map[string]any{}
	if gracePeriod != nil {
		md["grace_period"] = *gracePeriod
	}
	ev := s.event(ctx, p.actor(), p.WorkspaceID, "token.rotated", tokenTarget(t), md)
	t, err = s.stores.Tokens.RotateToken(ctx, p.WorkspaceID, id, r, ev)
	if err != nil {
		if ports.ErrorCode(err) == ports.ECONFLICT {
			return nil, ports.Errorf(ports.ECONFLICT, "Token %s was revoked or rotated concurrently", id)
		}
		return nil, tokenNotFound(err, id)
	}
	s.cacheToken(t)
	s.watchers.notify(ports.Change{Kind: ports.ChangeToken, WorkspaceID: t.WorkspaceID, ID: t.ID})
	return &IssuedToken{Token: *t, Value: value}, nil
}

// Verification codes of VerifyToken.
const (
	VerifyValid             = "VALID"
	VerifyExpired           = "EXPIRED"
	VerifyRevoked           = "REVOKED"
	VerifyInvalid           = "INVALID"
	VerifyInsufficientScope = "INSUFFICIENT_SCOPE"
)

// Verification is the answer of VerifyToken; Token is set whenever the value was genuine (and may be
// the token cache's own: read it, do not modify it).
type Verification struct {
	Valid bool
	Code  string
	Token *ports.Token
}

// VerifyToken checks a token value (signature, type, issuer, expiry, revocation, rotation) and,
// optionally, that it holds every scope in required. A valid check counts as a use of the token.
func (s *Service) VerifyToken(ctx context.Context, value string, required []string) (*Verification, error) {
	if strings.TrimSpace(value) == "" {
		return nil, invalid("token", "token is required")
	}
	if len(value) > MaxTokenValue {
		return nil, invalid("token", fmt.Sprintf("token must be at most %d bytes", MaxTokenValue))
	}
	if len(required) > MaxScopes {
		return nil, invalid("scopes", fmt.Sprintf("scopes may hold at most %d entries", MaxScopes))
	}
	c, t, err := s.checkValue(ctx, value)
	switch {
	case err == ports.ErrTokenExpired:
		return &Verification{Code: VerifyExpired, Token: t}, nil
	case err == ports.ErrTokenRevoked || err == ports.ErrTokenRotated:
		return &Verification{Code: VerifyRevoked, Token: t}, nil
	case err == ports.ErrInvalidToken:
		return &Verification{Code: VerifyInvalid}, nil
	case err != nil:
		return nil, err
	}
	for _, sc := range required {
		if !slices.Contains(c.Scopes, sc) {
			return &Verification{Code: VerifyInsufficientScope, Token: t}, nil
		}
	}
	s.usage.add(ports.Usage{Kind: KindToken, ID: t.ID, At: s.Now()})
	return &Verification{Valid: true, Code: VerifyValid, Token: t}, nil
}

func tokenTarget(t *ports.Token) ports.Target {
	return ports.Target{Type: "token", ID: t.ID, Name: t.Name}
}

func tokenNotFound(err error, id string) error {
	if ports.ErrorCode(err) == ports.ENOTFOUND {
		return ports.Errorf(ports.ENOTFOUND, "Token %s not found", id)
	}
	return err
}
