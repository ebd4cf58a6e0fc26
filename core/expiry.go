package core

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"

	"github.com/tooken/tooken/ports"
)

// Expiry notices: token.expired when a token's expires_at passes, and token.expiring ExpiringLeads
// before it and before a value of a token with a rotation period lapses unrotated.
const (
	ActionTokenExpired  = "token.expired"
	ActionTokenExpiring = "token.expiring"
)

// ExpiringLeads are how long before expires_at the token.expiring notices are recorded.
var ExpiringLeads = []time.Duration{7 * 24 * time.Hour, 24 * time.Hour}

// ExpiryLookback bounds how far back a scan catches up on thresholds it missed (replicas all down):
// a threshold older than that is never recorded. A workspace's audit retention shortens it, so that
// no notice is recorded again after its event was pruned.
const ExpiryLookback = 7 * 24 * time.Hour

// maxRotationLead caps how long before an unrotated value lapses its notice comes. The lead is a third
// of the rotation period: a holder rotating at ~2/3 of each value's life (as the SDK does) never
// sees it.
const maxRotationLead = 24 * time.Hour

// expiryBatch is how many candidate tokens a scan reads at a time.
const expiryBatch = 500

// expiryNotice is one notice due for a token.
type expiryNotice struct {
	action string
	kind   string    // expired | expiring_<lead> | rotation
	at     time.Time // the threshold that was crossed
	md     map[string]any
}

// recordedNotices remembers the notice ids this replica saw recorded, so that later scans skip them
// without a write. It is only a shortcut: the audit log's unique id is what guarantees once.
type recordedNotices struct {
	mu  sync.Mutex
	ids map[string]struct{}
}

func (r *recordedNotices) has(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.ids[id]
	return ok
}

func (r *recordedNotices) add(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ids == nil || len(r.ids) >= 100_000 {
		r.ids = map[string]struct{}{}
	}
	r.ids[id] = struct{}{}
}

// ScanExpiry records the expiry notices whose threshold has passed: token.expired at expires_at;
// token.expiring 7 days and 1 day before it (while the token has not expired yet, and only for
// thresholds after its creation); and, for a token with a rotation period, token.expiring before
// its current value lapses unrotated (a third of the period before, at most a day), when that lapse
// comes before expires_at. The value's exp is not stored: it is (RotatedAt, else CreatedAt) plus the
// period. Revoked tokens get no notice.
//
// Each notice is recorded exactly once, across scans, retries and replicas: its audit event id is
// derived from the token, the kind of notice and the threshold, so a second insert is refused by the
// audit log (ECONFLICT) and skipped. It returns how many notices this call recorded.
func (s *Service) ScanExpiry(ctx context.Context) (int, error) {
	now := s.Now()
	from, to := now.Add(-ExpiryLookback), now.Add(ExpiringLeads[0])
	recorded, after := 0, ""
	since := map[string]time.Time{} // workspace id → the oldest threshold recorded now
	for {
		batch, err := s.stores.Tokens.ExpiryCandidates(ctx, from, to, after, expiryBatch)
		if err != nil {
			return recorded, err
		}
		for i := range batch {
			t := &batch[i]
			oldest, ok := since[t.WorkspaceID]
			if !ok {
				ws, err := s.stores.Workspaces.Workspace(ctx, t.WorkspaceID)
				if err != nil {
					return recorded, err
				}
				oldest = from
				if d := ws.AuditRetentionDays; d != nil && *d > 0 {
					oldest = later(from, now.AddDate(0, 0, -*d))
				}
				since[t.WorkspaceID] = oldest
			}
			for _, n := range expiryNotices(t, now) {
				if n.at.Before(oldest) {
					continue
				}
				ok, err := s.recordNotice(ctx, t, n, now)
				if err != nil {
					return recorded, err
				}
				if ok {
					recorded++
				}
			}
		}
		if len(batch) < expiryBatch {
			return recorded, nil
		}
		after = batch[len(batch)-1].ID
	}
}

// expiryNotices returns the notices of t whose threshold is at or before now.
func expiryNotices(t *ports.Token, now time.Time) []expiryNotice {
	var out []expiryNotice
	due := func(at time.Time) bool { return !at.After(now) }
	if t.ExpiresAt != nil {
		exp := t.ExpiresAt.UTC()
		if due(exp) {
			out = append(out, expiryNotice{action: ActionTokenExpired, kind: "expired", at: exp,
				md: map[string]any{"expires_at": exp.Format(time.RFC3339Nano)}})
		} else {
			for _, lead := range ExpiringLeads {
				at := exp.Add(-lead)
				if due(at) && !at.Before(t.CreatedAt) {
					out = append(out, expiryNotice{action: ActionTokenExpiring, kind: "expiring_" + lead.String(), at: at,
						md: map[string]any{"reason": "expiry", "expires_at": exp.Format(time.RFC3339Nano),
							"lead_seconds": int64(lead / time.Second)}})
				}
			}
		}
	}
	if t.RotationPeriod != nil && *t.RotationPeriod > 0 {
		period := time.Duration(*t.RotationPeriod) * time.Second
		issued := t.CreatedAt
		if t.RotatedAt != nil {
			issued = *t.RotatedAt
		}
		lapse := issued.UTC().Add(period)
		lead := min(period/3, maxRotationLead)
		at := lapse.Add(-lead)
		beforeExpiry := t.ExpiresAt == nil || lapse.Before(*t.ExpiresAt)
		if beforeExpiry && due(at) && now.Before(lapse) {
			out = append(out, expiryNotice{action: ActionTokenExpiring, kind: "rotation", at: at,
				md: map[string]any{"reason": "rotation", "value_expires_at": lapse.Format(time.RFC3339Nano),
					"lead_seconds": int64(lead / time.Second)}})
		}
	}
	return out
}

// recordNotice appends n's audit event unless it was recorded before; ok reports whether this call
// recorded it.
func (s *Service) recordNotice(ctx context.Context, t *ports.Token, n expiryNotice, now time.Time) (ok bool, err error) {
	id := noticeID(t.ID, n.kind, n.at)
	if s.notices.has(id) {
		return false, nil
	}
	ev := &ports.AuditEvent{
		ID:          id,
		WorkspaceID: t.WorkspaceID,
		Action:      n.action,
		Actor:       ports.Actor{Type: "system", ID: "expiry"},
		Target:      ports.Target{Type: "token", ID: t.ID, Name: t.Name},
		Metadata:    n.md,
		OccurredAt:  now,
	}
	switch err := s.stores.Audit.AppendAuditEvents(ctx, ev); {
	case err == nil:
		ok = true
	case ports.ErrorCode(err) == ports.ECONFLICT: // recorded by an earlier scan or another replica
	default:
		return false, err
	}
	s.notices.add(id)
	return ok, nil
}

// noticeID is the audit event id of a notice: evt_ and 24 hex digits of a hash of the token id, the
// kind of notice and its threshold, the same on every replica.
func noticeID(tokenID, kind string, at time.Time) string {
	sum := sha256.Sum256([]byte(tokenID + "\x00" + kind + "\x00" + at.UTC().Format(time.RFC3339Nano)))
	return "evt_" + hex.EncodeToString(sum[:])[:24]
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
