package portstest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tooken/tooken/ports"
)

// diff collects the fields in which a record read back differs from the one expected.
type diff []string

func (d *diff) add(field string, got, want any) {
	*d = append(*d, fmt.Sprintf("%s: got %v, want %v", field, got, want))
}

func (d *diff) str(field, got, want string) {
	if got != want {
		d.add(field, fmt.Sprintf("%q", got), fmt.Sprintf("%q", want))
	}
}

// sameInstant compares two times as UTC instants at microsecond precision.
func sameInstant(a, b time.Time) bool {
	return a.UTC().Truncate(time.Microsecond).Equal(b.UTC().Truncate(time.Microsecond))
}

func fmtTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func fmtTimePtr(t *time.Time) string {
	if t == nil {
		return "nil"
	}
	return fmtTime(*t)
}

func (d *diff) time(field string, got, want time.Time) {
	if !sameInstant(got, want) {
		d.add(field, fmtTime(got), fmtTime(want))
	}
}

func (d *diff) timePtr(field string, got, want *time.Time) {
	if (got == nil) != (want == nil) || (got != nil && !sameInstant(*got, *want)) {
		d.add(field, fmtTimePtr(got), fmtTimePtr(want))
	}
}

func fmtPtr[T any](p *T) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprint(*p)
}

// ptrs compares two optional values.
func ptrs[T comparable](d *diff, field string, got, want *T) {
	if (got == nil) != (want == nil) || (got != nil && *got != *want) {
		d.add(field, fmtPtr(got), fmtPtr(want))
	}
}

func (d *diff) strs(field string, got, want []string) {
	if !slices.Equal(got, want) {
		d.add(field, fmt.Sprintf("%q", got), fmt.Sprintf("%q", want))
	}
}

func (d *diff) bytes(field string, got, want []byte) {
	if !bytes.Equal(got, want) {
		d.add(field, fmt.Sprintf("%x", got), fmt.Sprintf("%x", want))
	}
}

func (d diff) report(t *testing.T, what string) {
	t.Helper()
	if len(d) > 0 {
		t.Errorf("%s differs from what was stored:\n\t%s", what, strings.Join(d, "\n\t"))
	}
}

func accountDiff(got, want *ports.Account) diff {
	var d diff
	d.str("ID", got.ID, want.ID)
	d.str("Email", got.Email, want.Email)
	d.str("PasswordHash", got.PasswordHash, want.PasswordHash)
	d.time("CreatedAt", got.CreatedAt, want.CreatedAt)
	return d
}

func workspaceDiff(got, want *ports.Workspace) diff {
	var d diff
	d.str("ID", got.ID, want.ID)
	d.str("Name", got.Name, want.Name)
	d.str("Slug", got.Slug, want.Slug)
	d.str("Timezone", got.Timezone, want.Timezone)
	d.str("DefaultAudience", got.DefaultAudience, want.DefaultAudience)
	d.str("SigningAlgorithm", got.SigningAlgorithm, want.SigningAlgorithm)
	ptrs(&d, "AuditRetentionDays", got.AuditRetentionDays, want.AuditRetentionDays)
	ptrs(&d, "Policy.MaxLifetime", got.Policy.MaxLifetime, want.Policy.MaxLifetime)
	ptrs(&d, "Policy.DefaultLifetime", got.Policy.DefaultLifetime, want.Policy.DefaultLifetime)
	if got.Policy.RequireExpiry != want.Policy.RequireExpiry {
		d.add("Policy.RequireExpiry", got.Policy.RequireExpiry, want.Policy.RequireExpiry)
	}
	ptrs(&d, "Policy.MaxRotationPeriod", got.Policy.MaxRotationPeriod, want.Policy.MaxRotationPeriod)
	d.time("CreatedAt", got.CreatedAt, want.CreatedAt)
	return d
}

func memberDiff(got, want *ports.Member) diff {
	var d diff
	d.str("ID", got.ID, want.ID)
	d.str("WorkspaceID", got.WorkspaceID, want.WorkspaceID)
	d.str("AccountID", got.AccountID, want.AccountID)
	d.str("Email", got.Email, want.Email)
	d.str("Role", string(got.Role), string(want.Role))
	d.time("CreatedAt", got.CreatedAt, want.CreatedAt)
	return d
}

func apiKeyDiff(got, want *ports.APIKey) diff {
	var d diff
	d.str("ID", got.ID, want.ID)
	d.str("WorkspaceID", got.WorkspaceID, want.WorkspaceID)
	d.str("Name", got.Name, want.Name)
	d.str("Kind", string(got.Kind), string(want.Kind))
	d.str("Role", string(got.Role), string(want.Role))
	d.str("MemberID", got.MemberID, want.MemberID)
	d.str("CreatedBy", got.CreatedBy, want.CreatedBy)
	d.bytes("SecretHash", got.SecretHash, want.SecretHash)
	d.str("Last4", got.Last4, want.Last4)
	d.time("CreatedAt", got.CreatedAt, want.CreatedAt)
	d.timePtr("LastUsedAt", got.LastUsedAt, want.LastUsedAt)
	return d
}

func tokenDiff(got, want *ports.Token) diff {
	var d diff
	d.str("ID", got.ID, want.ID)
	d.str("WorkspaceID", got.WorkspaceID, want.WorkspaceID)
	d.str("Name", got.Name, want.Name)
	d.strs("Scopes", got.Scopes, want.Scopes)
	d.strs("Audience", got.Audience, want.Audience)
	switch {
	case want.Metadata == nil && got.Metadata != nil:
		d.add("Metadata", fmt.Sprintf("%q", got.Metadata), "nil")
	case want.Metadata != nil && !bytes.Equal(got.Metadata, want.Metadata):
		d.add("Metadata", fmt.Sprintf("%q", got.Metadata), fmt.Sprintf("%q (as given)", want.Metadata))
	}
	d.str("CreatedBy", got.CreatedBy, want.CreatedBy)
	d.time("CreatedAt", got.CreatedAt, want.CreatedAt)
	d.timePtr("ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	ptrs(&d, "RotationPeriod", got.RotationPeriod, want.RotationPeriod)
	d.timePtr("LastUsedAt", got.LastUsedAt, want.LastUsedAt)
	d.timePtr("RevokedAt", got.RevokedAt, want.RevokedAt)
	d.timePtr("RotatedAt", got.RotatedAt, want.RotatedAt)
	d.str("CurrentJTI", got.CurrentJTI, want.CurrentJTI)
	d.str("CurrentKID", got.CurrentKID, want.CurrentKID)
	d.str("PreviousJTI", got.PreviousJTI, want.PreviousJTI)
	d.str("PreviousKID", got.PreviousKID, want.PreviousKID)
	d.timePtr("PreviousValidUntil", got.PreviousValidUntil, want.PreviousValidUntil)
	return d
}

// metadataJSON renders event metadata canonically (sorted keys), treating nil and empty alike.
func metadataJSON(m map[string]any) string {
	if len(m) == 0 {
		return "{}"
	}
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Sprintf("unmarshalable %v: %v", m, err)
	}
	return string(b)
}

func eventDiff(got, want *ports.AuditEvent) diff {
	var d diff
	d.str("ID", got.ID, want.ID)
	d.str("WorkspaceID", got.WorkspaceID, want.WorkspaceID)
	d.str("Action", got.Action, want.Action)
	d.str("Actor.Type", got.Actor.Type, want.Actor.Type)
	d.str("Actor.ID", got.Actor.ID, want.Actor.ID)
	d.str("Actor.Email", got.Actor.Email, want.Actor.Email)
	d.str("Target.Type", got.Target.Type, want.Target.Type)
	d.str("Target.ID", got.Target.ID, want.Target.ID)
	d.str("Target.Name", got.Target.Name, want.Target.Name)
	d.str("IP", got.IP, want.IP)
	d.str("UserAgent", got.UserAgent, want.UserAgent)
	d.str("RequestID", got.RequestID, want.RequestID)
	d.str("Metadata", metadataJSON(got.Metadata), metadataJSON(want.Metadata))
	d.time("OccurredAt", got.OccurredAt, want.OccurredAt)
	return d
}

// sameJSON compares two JSON documents by value.
func sameJSON(a, b []byte) bool {
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return bytes.Equal(a, b)
	}
	return reflect.DeepEqual(va, vb)
}

func signingKeyDiff(got, want *ports.SigningKey) diff {
	var d diff
	d.str("KID", got.KID, want.KID)
	d.str("WorkspaceID", got.WorkspaceID, want.WorkspaceID)
	d.str("Algorithm", got.Algorithm, want.Algorithm)
	if !sameJSON(got.PublicJWK, want.PublicJWK) {
		d.add("PublicJWK", string(got.PublicJWK), string(want.PublicJWK))
	}
	d.bytes("PrivateKeyEncrypted", got.PrivateKeyEncrypted, want.PrivateKeyEncrypted)
	d.time("CreatedAt", got.CreatedAt, want.CreatedAt)
	d.time("ActivatesAt", got.ActivatesAt, want.ActivatesAt)
	d.timePtr("RetiredAt", got.RetiredAt, want.RetiredAt)
	d.timePtr("RevokedAt", got.RevokedAt, want.RevokedAt)
	return d
}

// revocationDiff compares a feed entry with the one expected, except Seq (assigned by the store).
func revocationDiff(got, want *ports.Revocation) diff {
	var d diff
	d.str("WorkspaceID", got.WorkspaceID, want.WorkspaceID)
	d.str("TokenID", got.TokenID, want.TokenID)
	d.str("JTI", got.JTI, want.JTI)
	d.timePtr("ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	d.time("RevokedAt", got.RevokedAt, want.RevokedAt)
	return d
}

func cloneTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	return ptr(*t)
}

func cloneAccount(a *ports.Account) *ports.Account { c := *a; return &c }

func cloneWorkspace(w *ports.Workspace) *ports.Workspace {
	c := *w
	c.AuditRetentionDays = clonePtr(w.AuditRetentionDays)
	c.Policy.MaxLifetime = clonePtr(w.Policy.MaxLifetime)
	c.Policy.DefaultLifetime = clonePtr(w.Policy.DefaultLifetime)
	c.Policy.MaxRotationPeriod = clonePtr(w.Policy.MaxRotationPeriod)
	return &c
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	return ptr(*p)
}

func cloneMember(m *ports.Member) *ports.Member { c := *m; return &c }

func cloneSigningKey(k *ports.SigningKey) *ports.SigningKey {
	c := *k
	c.PublicJWK = bytes.Clone(k.PublicJWK)
	c.PrivateKeyEncrypted = bytes.Clone(k.PrivateKeyEncrypted)
	c.RetiredAt = cloneTime(k.RetiredAt)
	c.RevokedAt = cloneTime(k.RevokedAt)
	return &c
}

func cloneAPIKey(k *ports.APIKey) *ports.APIKey {
	c := *k
	c.SecretHash = bytes.Clone(k.SecretHash)
	c.LastUsedAt = cloneTime(k.LastUsedAt)
	return &c
}

func cloneToken(t *ports.Token) *ports.Token {
	c := *t
	c.Scopes = slices.Clone(t.Scopes)
	c.Audience = slices.Clone(t.Audience)
	c.Metadata = bytes.Clone(t.Metadata)
	c.ExpiresAt = cloneTime(t.ExpiresAt)
	c.RotationPeriod = clonePtr(t.RotationPeriod)
	c.LastUsedAt = cloneTime(t.LastUsedAt)
	c.RevokedAt = cloneTime(t.RevokedAt)
	c.RotatedAt = cloneTime(t.RotatedAt)
	c.PreviousValidUntil = cloneTime(t.PreviousValidUntil)
	return &c
}

func cloneEvent(ev *ports.AuditEvent) *ports.AuditEvent {
	c := *ev
	if ev.Metadata != nil {
		b, _ := json.Marshal(ev.Metadata)
		c.Metadata = nil
		_ = json.Unmarshal(b, &c.Metadata)
	}
	return &c
}

func tokenIDs(list []ports.Token) []string {
	ids := make([]string, len(list))
	for i, t := range list {
		ids[i] = t.ID
	}
	return ids
}

func eventIDs(list []ports.AuditEvent) []string {
	ids := make([]string, len(list))
	for i, ev := range list {
		ids[i] = ev.ID
	}
	return ids
}

func apiKeyIDs(list []ports.APIKey) []string {
	ids := make([]string, len(list))
	for i, k := range list {
		ids[i] = k.ID
	}
	return ids
}
