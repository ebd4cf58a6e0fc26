package core

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tooken/tooken/ports"
)

// Built-in scopes; none implies another.
const (
	ScopeTokensRead    = "tokens:read"
	ScopeTokensWrite   = "tokens:write"
	ScopeTokensRevoke  = "tokens:revoke"
	ScopeTokensRotate  = "tokens:rotate"
	ScopeAuditRead     = "audit:read"
	ScopeWebhooksRead  = "webhooks:read"
	ScopeWebhooksWrite = "webhooks:write"
)

// BuiltinScopes lists every built-in scope.
var BuiltinScopes = []string{
	ScopeTokensRead, ScopeTokensWrite, ScopeTokensRevoke, ScopeTokensRotate,
	ScopeAuditRead, ScopeWebhooksRead, ScopeWebhooksWrite,
}

// Input bounds.
const (
	MaxNameLen     = 100
	MaxMetadata    = 4096
	MaxAudiences   = 10
	MaxAudienceLen = 200
	MaxGracePeriod = 86_400
	DefaultPerPage = 25
	MaxPerPage     = 100
	MaxScopes      = 128 // scopes named in one request (7 built in + at most 100 custom fit)
	MaxTokenValue  = 16 << 10
)

func invalid(field, msg string) error {
	return &ports.Error{Code: ports.EINVALID, Message: msg, Details: map[string]string{field: msg}}
}

func unprocessable(field, msg string) error {
	return &ports.Error{Code: ports.EUNPROCESSABLE, Message: msg, Details: map[string]string{field: msg}}
}

func validateName(field, name string) error {
	n := utf8.RuneCountInString(name)
	switch {
	case strings.TrimSpace(name) == "":
		return invalid(field, field+" is required")
	case n > MaxNameLen:
		return invalid(field, fmt.Sprintf("%s must be at most %d characters (got %d)", field, MaxNameLen, n))
	case !utf8.ValidString(name):
		return invalid(field, field+" must be valid UTF-8")
	}
	return nil
}

// validateScopes returns the de-duplicated scopes, or EINVALID naming the first that is neither
// built in nor one of the workspace's custom scopes.
func (s *Service) validateScopes(ctx context.Context, workspaceID string, scopes []string) ([]string, error) {
	if len(scopes) == 0 {
		return nil, invalid("scopes", "scopes must contain at least one scope")
	}
	if len(scopes) > MaxScopes {
		return nil, invalid("scopes", fmt.Sprintf("scopes may hold at most %d entries", MaxScopes))
	}
	custom, err := s.customScopes(ctx, workspaceID)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(scopes))
	seen := map[string]bool{}
	for _, sc := range scopes {
		known := slices.Contains(BuiltinScopes, sc) || slices.ContainsFunc(custom, func(c ports.Scope) bool { return c.Name == sc })
		if !known {
			return nil, invalid("scopes", fmt.Sprintf("unknown scope %q", truncate(sc, 64)))
		}
		if !seen[sc] {
			seen[sc] = true
			out = append(out, sc)
		}
	}
	return out, nil
}

func validateAudience(aud []string) error {
	if len(aud) > MaxAudiences {
		return invalid("audience", fmt.Sprintf("audience may hold at most %d entries", MaxAudiences))
	}
	for _, a := range aud {
		if a == "" || len(a) > MaxAudienceLen {
			return invalid("audience", fmt.Sprintf("each audience must be 1-%d characters", MaxAudienceLen))
		}
	}
	return nil
}

func validateMetadata(md json.RawMessage) error {
	if len(md) == 0 || string(md) == "null" {
		return nil
	}
	if len(md) > MaxMetadata {
		return invalid("metadata", fmt.Sprintf("metadata must be at most %d bytes of JSON", MaxMetadata))
	}
	var obj map[string]any
	if err := json.Unmarshal(md, &obj); err != nil {
		return invalid("metadata", "metadata must be a JSON object")
	}
	return nil
}

// parseTime parses an RFC 3339 time into UTC at second precision.
func parseTime(field, s string, code string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		msg := field + " must be an RFC 3339 date-time such as 2030-01-01T00:00:00Z"
		return time.Time{}, &ports.Error{Code: code, Message: msg, Details: map[string]string{field: msg}}
	}
	return t.UTC().Truncate(time.Second), nil
}

// PageInput is the raw paging of a list request; zero values take the defaults.
type PageInput struct {
	Page    *int
	PerPage *int
}

// Resolve checks the paging and fills in the defaults (EINVALID naming the field when out of bounds).
func (in PageInput) Resolve() (ports.Page, error) { return in.page() }

func (in PageInput) page() (ports.Page, error) {
	p := ports.Page{Page: 1, PerPage: DefaultPerPage}
	if in.Page != nil {
		if *in.Page < 1 {
			return p, invalid("page", "page must be at least 1")
		}
		p.Page = *in.Page
	}
	if in.PerPage != nil {
		if *in.PerPage < 1 || *in.PerPage > MaxPerPage {
			return p, invalid("per_page", fmt.Sprintf("per_page must be between 1 and %d", MaxPerPage))
		}
		p.PerPage = *in.PerPage
	}
	if p.Page > 1_000_000 {
		return p, invalid("page", "page is too large")
	}
	return p, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
