package memory

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/tooken/tooken/ports"
)

// TokenStore implements ports.TokenStore.
type TokenStore struct{ db *DB }

var _ ports.TokenStore = (*TokenStore)(nil)

func nameKey(workspaceID, name string) string { return workspaceID + "\x00" + strings.ToLower(name) }

// CreateToken stores t and ev together; ECONFLICT if a token of the workspace, revoked ones included,
// has the same name case-insensitively (or if the id is taken).
func (s *TokenStore) CreateToken(ctx context.Context, t *ports.Token, ev *ports.AuditEvent) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	key := nameKey(t.WorkspaceID, t.Name)
	if _, ok := db.tokenNames[key]; ok {
		return ports.Errorf(ports.ECONFLICT, "A token named %q already exists", t.Name)
	}
	if _, ok := db.tokens[t.ID]; ok {
		return ports.Errorf(ports.ECONFLICT, "Token %s already exists", t.ID)
	}
	events, err := db.prepareEvents(ev)
	if err != nil {
		return err
	}
	c := copyToken(t)
	c.CreatedAt = normTime(t.CreatedAt)
	for _, p := range []**time.Time{&c.ExpiresAt, &c.LastUsedAt, &c.RevokedAt, &c.RotatedAt, &c.PreviousValidUntil} {
		*p = normTimePtr(*p)
	}
	db.tokens[c.ID] = &tokenRow{Token: *c, seq: db.next()}
	db.tokenNames[key] = c.ID
	db.appendEvents(events)
	return nil
}

// Token returns one token; ENOTFOUND if it is not in the workspace.
func (s *TokenStore) Token(ctx context.Context, workspaceID, id string) (*ports.Token, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	r, err := db.tokenIn(workspaceID, id)
	if err != nil {
		return nil, err
	}
	return copyToken(&r.Token), nil
}

// Tokens lists the workspace's tokens matching f, newest first, and the total matching f.
func (s *TokenStore) Tokens(ctx context.Context, workspaceID string, f ports.TokenFilter) ([]ports.Token, int, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, 0, err
	}
	if err := checkPage(f.Page); err != nil {
		return nil, 0, err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	name := strings.ToLower(f.NameContains)
	var rows []*tokenRow
	for _, r := range db.tokens {
		if r.WorkspaceID != workspaceID ||
			(f.Status != "" && r.Status(f.Now) != f.Status) ||
			!strings.Contains(strings.ToLower(r.Name), name) {
			continue
		}
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(a, b *tokenRow) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.seq, a.seq))
	})
	page := pageOf(rows, f.Page)
	out := make([]ports.Token, len(page))
	for i, r := range page {
		out[i] = *copyToken(&r.Token)
	}
	return out, len(rows), nil
}

// RevokeToken marks the token revoked at `at` and records ev, together, unless it is already revoked:
// then it returns the token unchanged with revoked=false and records nothing. The current value, and
// the previous one while its grace period lasts, enter the revocation feed, and ChangeToken is
// announced. ENOTFOUND if the token is not in the workspace.
func (s *TokenStore) RevokeToken(ctx context.Context, workspaceID, id string, at time.Time, ev *ports.AuditEvent) (*ports.Token, bool, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, false, err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	r, err := db.tokenIn(workspaceID, id)
	if err != nil {
		return nil, false, err
	}
	if r.RevokedAt != nil {
		return copyToken(&r.Token), false, nil
	}
	events, err := db.prepareEvents(ev)
	if err != nil {
		return nil, false, err
	}
	r.RevokedAt = normTimePtr(&at)
	db.appendEvents(events)
	db.appendRevocation(&r.Token, r.CurrentJTI, at)
	if r.PreviousJTI != "" && r.PreviousValidUntil != nil && r.PreviousValidUntil.After(normTime(at)) {
		db.appendRevocation(&r.Token, r.PreviousJTI, at)
	}
	db.hub.Publish(ports.Change{Kind: ports.ChangeToken, WorkspaceID: workspaceID, ID: id})
	return copyToken(&r.Token), true, nil
}

// RotateToken makes rot.NewJTI (signed by rot.NewKID) the current value id and records ev, together,
// provided the token is not revoked and its current value id is still rot.FromJTI; otherwise
// ECONFLICT. ENOTFOUND if the token is not in the workspace. FromJTI and its kid stay valid as the
// previous value only with a grace period (PreviousValidUntil); without one they are cleared.
// FromJTI enters the revocation feed from the end of the grace period (or rot.At), and ChangeToken
// is announced.
func (s *TokenStore) RotateToken(ctx context.Context, workspaceID, id string, rot ports.Rotation, ev *ports.AuditEvent) (*ports.Token, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	r, err := db.tokenIn(workspaceID, id)
	if err != nil {
		return nil, err
	}
	switch {
	case r.RevokedAt != nil:
		return nil, ports.Errorf(ports.ECONFLICT, "Token %s is revoked", id)
	case r.CurrentJTI != rot.FromJTI:
		return nil, ports.Errorf(ports.ECONFLICT, "Token %s was rotated concurrently", id)
	}
	events, err := db.prepareEvents(ev)
	if err != nil {
		return nil, err
	}
	revokedAt := rot.At
	if r.PreviousJTI != "" && r.PreviousValidUntil != nil && r.PreviousValidUntil.After(rot.At) {
		db.appendRevocation(&r.Token, r.PreviousJTI, rot.At) // its grace period ends early
	}
	r.PreviousJTI, r.PreviousKID, r.PreviousValidUntil = "", "", nil
	if rot.PreviousValidUntil != nil {
		r.PreviousJTI, r.PreviousKID, r.PreviousValidUntil = rot.FromJTI, r.CurrentKID, normTimePtr(rot.PreviousValidUntil)
		revokedAt = *rot.PreviousValidUntil
	}
	r.CurrentJTI, r.CurrentKID = rot.NewJTI, rot.NewKID
	r.RotatedAt = normTimePtr(&rot.At)
	db.appendEvents(events)
	db.appendRevocation(&r.Token, rot.FromJTI, revokedAt)
	db.hub.Publish(ports.Change{Kind: ports.ChangeToken, WorkspaceID: workspaceID, ID: id})
	return copyToken(&r.Token), nil
}

// tokenIn returns the stored token if it belongs to the workspace.
func (db *DB) tokenIn(workspaceID, id string) (*tokenRow, error) {
	r, ok := db.tokens[id]
	if !ok || r.WorkspaceID != workspaceID {
		return nil, ports.Errorf(ports.ENOTFOUND, "Token %s not found", id)
	}
	return r, nil
}

// UsageStore implements ports.UsageStore.
type UsageStore struct{ db *DB }

var _ ports.UsageStore = (*UsageStore)(nil)

// MarkUsed sets last_used_at of each credential to its At unless it already holds a later time;
// credentials that do not exist are ignored. An unknown Kind is EINVALID and changes nothing. It
// samples token uses for token.used events like the SQL stores (see ports.UsageStore) and returns
// them, but delivers nothing: the memory store has no job queue.
func (s *UsageStore) MarkUsed(ctx context.Context, uses []ports.Usage) ([]ports.Usage, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	for _, u := range uses {
		if u.Kind != "token" && u.Kind != "api_key" {
			return nil, ports.Errorf(ports.EINVALID, "unknown credential kind %q", u.Kind)
		}
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	latest := map[string]ports.Usage{}
	for _, u := range uses {
		var last **time.Time
		switch u.Kind {
		case "token":
			if r, ok := db.tokens[u.ID]; ok {
				last = &r.LastUsedAt
				if prev, ok := latest[u.ID]; !ok || u.At.After(prev.At) {
					latest[u.ID] = u
				}
			}
		case "api_key":
			if r, ok := db.apiKeys[u.ID]; ok {
				last = &r.LastUsedAt
			}
		}
		if last != nil && (*last == nil || (*last).Before(u.At)) {
			*last = normTimePtr(&u.At)
		}
	}
	var sampled []ports.Usage
	for _, u := range latest {
		r := db.tokens[u.ID]
		if !db.subscribed(r.WorkspaceID, ports.EventTokenUsed) ||
			(r.lastSampled != nil && r.lastSampled.After(u.At.Add(-ports.TokenUsedInterval))) {
			continue
		}
		r.lastSampled = normTimePtr(&u.At)
		sampled = append(sampled, u)
	}
	slices.SortFunc(sampled, func(a, b ports.Usage) int { return cmp.Compare(a.ID, b.ID) })
	return sampled, nil
}

// subscribed reports whether the workspace has an enabled webhook subscribed to event. The caller
// holds mu.
func (db *DB) subscribed(workspaceID, event string) bool {
	for _, w := range db.webhooks {
		if w.WorkspaceID == workspaceID && w.Enabled && slices.Contains(w.Events, event) {
			return true
		}
	}
	return false
}

// ExpiryCandidates lists unrevoked tokens of every workspace with an id greater than after, by id, at
// most limit, whose ExpiresAt lies in [from, to], or which have a RotationPeriod and no ExpiresAt
// before from.
func (s *TokenStore) ExpiryCandidates(ctx context.Context, from, to time.Time, after string, limit int) ([]ports.Token, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	var rows []*tokenRow
	for _, r := range db.tokens {
		if r.RevokedAt != nil || r.ID <= after {
			continue
		}
		inWindow := r.ExpiresAt != nil && !r.ExpiresAt.Before(from) && !r.ExpiresAt.After(to)
		rotating := r.RotationPeriod != nil && (r.ExpiresAt == nil || !r.ExpiresAt.Before(from))
		if inWindow || rotating {
			rows = append(rows, r)
		}
	}
	slices.SortFunc(rows, func(a, b *tokenRow) int { return cmp.Compare(a.ID, b.ID) })
	out := []ports.Token{}
	for _, r := range rows[:min(len(rows), max(limit, 0))] {
		out = append(out, *copyToken(&r.Token))
	}
	return out, nil
}
