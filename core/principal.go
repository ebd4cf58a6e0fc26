package core

import (
	"context"
	"slices"
	"time"

	"github.com/tooken/tooken/ports"
)

// Principal kinds.
const (
	KindAPIKey = "api_key"
	KindToken  = "token"
	KindUser   = "user"
)

// Principal is an authenticated caller. WorkspaceID scopes everything it does.
type Principal struct {
	WorkspaceID string
	Kind        string // api_key | token | user
	ID          string // the API key, token or account id
	Email       string // the member accountable for the credential
	MemberID    string // the accountable member (API keys and users)
	Role        ports.Role
	// Scopes, ExpiresAt and Audience bound what a token principal may do and mint.
	Scopes    []string
	ExpiresAt *time.Time
	Audience  []string
}

var roleRank = map[ports.Role]int{ports.RoleViewer: 1, ports.RoleAdmin: 2, ports.RoleOwner: 3}

// ValidRole reports whether r is a known role.
func ValidRole(r ports.Role) bool { return roleRank[r] > 0 }

// scopeRoles is the minimum member role that stands in for each built-in scope.
var scopeRoles = map[string]ports.Role{
	ScopeTokensRead:    ports.RoleViewer,
	ScopeTokensWrite:   ports.RoleAdmin,
	ScopeTokensRevoke:  ports.RoleAdmin,
	ScopeTokensRotate:  ports.RoleAdmin,
	ScopeAuditRead:     ports.RoleViewer,
	ScopeWebhooksRead:  ports.RoleViewer,
	ScopeWebhooksWrite: ports.RoleAdmin,
}

// requireScope allows a token holding scope, or a member credential whose role stands in for it.
func (p *Principal) requireScope(scope string) error {
	if p.Kind == KindToken {
		if slices.Contains(p.Scopes, scope) {
			return nil
		}
		return &ports.Error{Code: ports.EFORBIDDEN, Scope: scope,
			Message: "This token lacks the " + scope + " scope"}
	}
	return p.requireRole(scopeRoles[scope], scope)
}

// requireOwner allows only member credentials (never tokens) with the owner role.
func (p *Principal) requireOwner() error {
	if p.Kind == KindToken {
		return &ports.Error{Code: ports.EFORBIDDEN, Message: "Tokens cannot manage workspace settings; use an owner's API key"}
	}
	return p.requireRole(ports.RoleOwner, "")
}

func (p *Principal) requireRole(min ports.Role, scope string) error {
	if roleRank[p.Role] >= roleRank[min] {
		return nil
	}
	return &ports.Error{Code: ports.EFORBIDDEN, Scope: scope,
		Message: "This action requires the " + string(min) + " role"}
}

// actor is the audit-log actor for p.
func (p *Principal) actor() ports.Actor {
	return ports.Actor{Type: p.Kind, ID: p.ID, Email: p.Email}
}

// RequestMeta describes the request a use case runs for; it ends up in audit events.
type RequestMeta struct {
	IP        string
	UserAgent string
	RequestID string
}

type requestMetaKey struct{}

// WithRequestMeta returns ctx carrying m.
func WithRequestMeta(ctx context.Context, m RequestMeta) context.Context {
	return context.WithValue(ctx, requestMetaKey{}, m)
}

// RequestMetaFrom returns the RequestMeta carried by ctx (zero if none).
func RequestMetaFrom(ctx context.Context) RequestMeta {
	m, _ := ctx.Value(requestMetaKey{}).(RequestMeta)
	return m
}
