package httpapi

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/tooken/tooken/ports"
)

func tokenOut(t *ports.Token, now time.Time) Token {
	md := map[string]any{}
	if len(t.Metadata) > 0 {
		_ = json.Unmarshal(t.Metadata, &md)
	}
	return Token{
		Id: t.ID, Name: t.Name, Scopes: nonNil(t.Scopes), Status: TokenStatus(t.Status(now)),
		CreatedAt: t.CreatedAt.UTC(), ExpiresAt: utc(t.ExpiresAt), LastUsedAt: sec(t.LastUsedAt),
		CreatedBy: t.CreatedBy, RevokedAt: sec(t.RevokedAt), RotatedAt: sec(t.RotatedAt),
		Audience: nonNil(t.Audience), Metadata: md, RotationPeriod: t.RotationPeriod,
	}
}

func apiKeyOut(k *ports.APIKey) APIKey {
	o := APIKey{
		Id: k.ID, Name: k.Name, Kind: APIKeyKind(k.Kind), Last4: k.Last4, CreatedBy: k.CreatedBy,
		CreatedAt: k.CreatedAt.UTC().Truncate(time.Second), LastUsedAt: sec(k.LastUsedAt),
	}
	if k.Role != "" {
		r := Role(k.Role)
		o.Role = &r
	}
	return o
}

func apiKeySecretOut(k *ports.APIKey, secret string) APIKeyWithSecret {
	o := apiKeyOut(k)
	return APIKeyWithSecret{
		Id: o.Id, Name: o.Name, Kind: o.Kind, Role: o.Role, Last4: o.Last4, CreatedBy: o.CreatedBy,
		CreatedAt: o.CreatedAt, LastUsedAt: o.LastUsedAt, Key: secret,
	}
}

func auditOut(e *ports.AuditEvent) AuditEvent {
	md := e.Metadata
	if md == nil {
		md = map[string]any{}
	}
	return AuditEvent{
		Id: e.ID, Action: e.Action,
		Actor:  AuditActor{Type: AuditActorType(e.Actor.Type), Id: e.Actor.ID, Email: e.Actor.Email},
		Target: AuditTarget{Type: e.Target.Type, Id: e.Target.ID, Name: e.Target.Name},
		Ip:     e.IP, UserAgent: e.UserAgent, RequestId: e.RequestID, Metadata: md,
		OccurredAt: e.OccurredAt.UTC().Truncate(time.Second),
	}
}

// utc returns t in UTC (API times are RFC 3339 UTC, second precision).
func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func sec(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC().Truncate(time.Second)
	return &u
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func listMeta(p ports.Page, total int) ListMeta {
	return ListMeta{Page: p.Page, PerPage: p.PerPage, Total: total}
}

// linkHeader builds the RFC 8288 next/prev links (relative to the request) for a list page.
func linkHeader(path string, q url.Values, p ports.Page, total int) *string {
	var links []string
	at := func(page int, rel string) {
		q.Set("page", fmt.Sprint(page))
		q.Set("per_page", fmt.Sprint(p.PerPage))
		links = append(links, fmt.Sprintf("<%s?%s>; rel=%q", path, q.Encode(), rel))
	}
	if p.Offset()+p.PerPage < total {
		at(p.Page+1, "next")
	}
	if p.Page > 1 {
		at(p.Page-1, "prev")
	}
	if len(links) == 0 {
		return nil
	}
	h := strings.Join(links, ", ")
	return &h
}
