package core

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/tooken/tooken/ports"
)

// Custom scope bounds.
const (
	MaxCustomScopes     = 100
	MaxScopeDescription = 200
)

var customScopeRE = regexp.MustCompile(`^[a-z][a-z0-9_-]*:[a-z][a-z0-9_.-]*$`)

// customScopes returns the workspace's custom scopes from the cache, loading them on a miss.
func (s *Service) customScopes(ctx context.Context, workspaceID string) ([]ports.Scope, error) {
	if sc, ok := s.scopes.get(workspaceID); ok {
		return sc, nil
	}
	sc, err := s.stores.Workspaces.CustomScopes(ctx, workspaceID)
	if err != nil {
		return nil, err
	}
	s.scopes.put(workspaceID, sc)
	return sc, nil
}

// ListScopes returns the built-in scopes and the workspace's custom scopes (any credential).
func (s *Service) ListScopes(ctx context.Context, p *Principal) ([]ports.Scope, error) {
	return s.stores.Workspaces.CustomScopes(ctx, p.WorkspaceID)
}

// SetScopes replaces the workspace's custom scopes (owner). Tokens already carrying a removed scope
// keep it; new tokens can no longer be given it.
func (s *Service) SetScopes(ctx context.Context, p *Principal, scopes []ports.Scope) ([]ports.Scope, error) {
	if err := p.requireOwner(); err != nil {
		return nil, err
	}
	if len(scopes) > MaxCustomScopes {
		return nil, invalid("scopes", fmt.Sprintf("a workspace may register at most %d custom scopes", MaxCustomScopes))
	}
	seen := map[string]bool{}
	for _, sc := range scopes {
		switch {
		case len(sc.Name) > MaxNameLen || !customScopeRE.MatchString(sc.Name):
			return nil, invalid("scopes", fmt.Sprintf("custom scope %q must match %s", truncate(sc.Name, 64), customScopeRE))
		case slices.Contains(BuiltinScopes, sc.Name):
			return nil, invalid("scopes", fmt.Sprintf("%q is a built-in scope", sc.Name))
		case seen[sc.Name]:
			return nil, invalid("scopes", fmt.Sprintf("custom scope %q is listed twice", sc.Name))
		case len(sc.Description) > MaxScopeDescription:
			return nil, invalid("scopes", fmt.Sprintf("descriptions must be at most %d characters", MaxScopeDescription))
		}
		seen[sc.Name] = true
	}
	sorted := slices.Clone(scopes)
	slices.SortFunc(sorted, func(a, b ports.Scope) int { return strings.Compare(a.Name, b.Name) })
	names := make([]string, len(sorted))
	for i, sc := range sorted {
		names[i] = sc.Name
	}
	ev := s.event(ctx, p.actor(), p.WorkspaceID, "workspace.scopes_updated",
		ports.Target{Type: "workspace", ID: p.WorkspaceID}, map[string]any{"scopes": names})
	if err := s.stores.Workspaces.SetCustomScopes(ctx, p.WorkspaceID, sorted, ev); err != nil {
		return nil, err
	}
	s.scopes.del(p.WorkspaceID)
	return sorted, nil
}

// UpdateWorkspaceInput changes workspace settings; nil fields stay as they are.
type UpdateWorkspaceInput struct {
	Name             *string
	Slug             *string
	Timezone         *string
	SigningAlgorithm *string // takes effect at the next signing-key rotation
	// AuditRetentionDays keeps audit events this many days (1-36500); 0 keeps them forever.
	AuditRetentionDays *int
}

var slugRE = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$`)

// UpdateWorkspace changes p's workspace settings (owner).
func (s *Service) UpdateWorkspace(ctx context.Context, p *Principal, in UpdateWorkspaceInput) (*ports.Workspace, error) {
	if err := p.requireOwner(); err != nil {
		return nil, err
	}
	ws, err := s.stores.Workspaces.Workspace(ctx, p.WorkspaceID)
	if err != nil {
		return nil, err
	}
	changed := map[string]any{}
	if in.Name != nil {
		if err := validateName("name", *in.Name); err != nil {
			return nil, err
		}
		ws.Name, changed["name"] = *in.Name, *in.Name
	}
	if in.Slug != nil {
		if !slugRE.MatchString(*in.Slug) {
			return nil, invalid("slug", "slug must be 1-40 lowercase letters, digits and inner hyphens")
		}
		ws.Slug, changed["slug"] = *in.Slug, *in.Slug
	}
	if in.Timezone != nil {
		if _, err := time.LoadLocation(*in.Timezone); err != nil || *in.Timezone == "" || *in.Timezone == "Local" {
			return nil, invalid("timezone", "timezone must be an IANA name such as Europe/Paris")
		}
		ws.Timezone, changed["timezone"] = *in.Timezone, *in.Timezone
	}
	if in.SigningAlgorithm != nil {
		if !slices.Contains(ports.SigningAlgorithms, *in.SigningAlgorithm) {
			return nil, invalid("signing_algorithm", "signing_algorithm must be ES256, EdDSA or RS256")
		}
		ws.SigningAlgorithm, changed["signing_algorithm"] = *in.SigningAlgorithm, *in.SigningAlgorithm
	}
	if d := in.AuditRetentionDays; d != nil {
		if *d < 0 || *d > 36500 {
			return nil, invalid("audit_retention_days", "audit_retention_days must be between 1 and 36500, or 0 to keep events forever")
		}
		ws.AuditRetentionDays, changed["audit_retention_days"] = nil, *d
		if *d > 0 {
			ws.AuditRetentionDays = d
		}
	}
	ev := s.event(ctx, p.actor(), ws.ID, "workspace.updated", ports.Target{Type: "workspace", ID: ws.ID, Name: ws.Name}, changed)
	if err := s.stores.Workspaces.UpdateWorkspace(ctx, ws, ev); err != nil {
		return nil, err
	}
	s.workspaces.del(ws.ID)
	return ws, nil
}
