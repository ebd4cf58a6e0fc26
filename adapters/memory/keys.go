package memory

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/tooken/tooken/ports"
)

// SigningKeyStore implements ports.SigningKeyStore.
type SigningKeyStore struct{ db *DB }

var _ ports.SigningKeyStore = (*SigningKeyStore)(nil)

// SigningKeys lists the workspace's keys, newest (by CreatedAt) first; empty if it has none.
func (s *SigningKeyStore) SigningKeys(ctx context.Context, workspaceID string) ([]ports.SigningKey, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	var rows []*signingKeyRow
	for _, k := range db.signingKeys {
		if k.WorkspaceID == workspaceID {
			rows = append(rows, k)
		}
	}
	slices.SortFunc(rows, func(a, b *signingKeyRow) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.seq, a.seq))
	})
	out := make([]ports.SigningKey, len(rows))
	for i, r := range rows {
		out[i] = *copySigningKey(&r.SigningKey)
	}
	return out, nil
}

// AddSigningKey stores k and ev together and announces ChangeSigningKey. A pending k (ActivatesAt
// after CreatedAt) is ECONFLICT when the workspace already has an unrevoked key activating after
// k.CreatedAt. ENOTFOUND if the workspace does not exist.
func (s *SigningKeyStore) AddSigningKey(ctx context.Context, k *ports.SigningKey, ev *ports.AuditEvent) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	if _, ok := db.workspaces[k.WorkspaceID]; !ok {
		return ports.Errorf(ports.ENOTFOUND, "Workspace %s not found", k.WorkspaceID)
	}
	if db.signingKeys[k.KID] != nil {
		return ports.Errorf(ports.ECONFLICT, "Signing key %s already exists", k.KID)
	}
	if k.ActivatesAt.After(k.CreatedAt) {
		for _, other := range db.signingKeys {
			if other.WorkspaceID == k.WorkspaceID && other.RevokedAt == nil && other.ActivatesAt.After(k.CreatedAt) {
				return ports.Errorf(ports.ECONFLICT, "A signing key of workspace %s is already pending", k.WorkspaceID)
			}
		}
	}
	events, err := db.prepareEvents(ev)
	if err != nil {
		return err
	}
	db.signingKeys[k.KID] = &signingKeyRow{SigningKey: *storedSigningKey(k), seq: db.next()}
	db.appendEvents(events)
	db.hub.Publish(ports.Change{Kind: ports.ChangeSigningKey, WorkspaceID: k.WorkspaceID, ID: k.KID})
	return nil
}

// RevokeSigningKey sets RevokedAt = at and records ev together and announces ChangeSigningKey, unless
// the key is already revoked: then it returns it unchanged with revoked=false and records nothing.
// ENOTFOUND if the key is not in the workspace.
func (s *SigningKeyStore) RevokeSigningKey(ctx context.Context, workspaceID, kid string, at time.Time, ev *ports.AuditEvent) (*ports.SigningKey, bool, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, false, err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	r, err := db.signingKeyIn(workspaceID, kid)
	if err != nil {
		return nil, false, err
	}
	if r.RevokedAt != nil {
		return copySigningKey(&r.SigningKey), false, nil
	}
	events, err := db.prepareEvents(ev)
	if err != nil {
		return nil, false, err
	}
	r.RevokedAt = normTimePtr(&at)
	db.appendEvents(events)
	db.hub.Publish(ports.Change{Kind: ports.ChangeSigningKey, WorkspaceID: workspaceID, ID: kid})
	return copySigningKey(&r.SigningKey), true, nil
}

// RetireSigningKey sets RetiredAt = at and records ev together and announces ChangeSigningKey,
// provided the key is neither revoked nor retired and no live value it signed remains at `at`;
// otherwise ECONFLICT. ENOTFOUND if the key is not in the workspace.
func (s *SigningKeyStore) RetireSigningKey(ctx context.Context, workspaceID, kid string, at time.Time, ev *ports.AuditEvent) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	r, err := db.signingKeyIn(workspaceID, kid)
	if err != nil {
		return err
	}
	at = normTime(at) // compare as the SQL stores do, at microsecond precision
	switch {
	case r.RevokedAt != nil:
		return ports.Errorf(ports.ECONFLICT, "Signing key %s is revoked", kid)
	case r.RetiredAt != nil:
		return ports.Errorf(ports.ECONFLICT, "Signing key %s is already retired", kid)
	}
	for _, t := range db.tokens {
		if t.WorkspaceID != workspaceID || t.RevokedAt != nil || (t.ExpiresAt != nil && !t.ExpiresAt.After(at)) {
			continue
		}
		if t.CurrentKID == kid || (t.PreviousKID == kid && t.PreviousValidUntil != nil && t.PreviousValidUntil.After(at)) {
			return ports.Errorf(ports.ECONFLICT, "Signing key %s still signs live token values", kid)
		}
	}
	events, err := db.prepareEvents(ev)
	if err != nil {
		return err
	}
	r.RetiredAt = normTimePtr(&at)
	db.appendEvents(events)
	db.hub.Publish(ports.Change{Kind: ports.ChangeSigningKey, WorkspaceID: workspaceID, ID: kid})
	return nil
}

// signingKeyIn returns the stored key if it belongs to the workspace.
func (db *DB) signingKeyIn(workspaceID, kid string) (*signingKeyRow, error) {
	r, ok := db.signingKeys[kid]
	if !ok || r.WorkspaceID != workspaceID {
		return nil, ports.Errorf(ports.ENOTFOUND, "Signing key %s not found", kid)
	}
	return r, nil
}
