package memory

import (
	"cmp"
	"context"
	"slices"

	"github.com/tooken/tooken/ports"
)

// APIKeyStore implements ports.APIKeyStore.
type APIKeyStore struct{ db *DB }

var _ ports.APIKeyStore = (*APIKeyStore)(nil)

// CreateAPIKey stores k and ev together; ECONFLICT if the hash (or the id) already exists.
func (s *APIKeyStore) CreateAPIKey(ctx context.Context, k *ports.APIKey, ev *ports.AuditEvent) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	if _, ok := db.hashes[string(k.SecretHash)]; ok {
		return ports.Errorf(ports.ECONFLICT, "API key already exists")
	}
	if _, ok := db.apiKeys[k.ID]; ok {
		return ports.Errorf(ports.ECONFLICT, "API key %s already exists", k.ID)
	}
	events, err := db.prepareEvents(ev)
	if err != nil {
		return err
	}
	c := copyAPIKey(k)
	c.CreatedAt = normTime(k.CreatedAt)
	c.LastUsedAt = normTimePtr(k.LastUsedAt)
	db.apiKeys[c.ID] = &apiKeyRow{APIKey: *c, seq: db.next()}
	db.hashes[string(c.SecretHash)] = c.ID
	db.appendEvents(events)
	return nil
}

// APIKeys lists the workspace's keys, newest first.
func (s *APIKeyStore) APIKeys(ctx context.Context, workspaceID string) ([]ports.APIKey, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	var rows []*apiKeyRow
	for _, k := range db.apiKeys {
		if k.WorkspaceID == workspaceID {
			rows = append(rows, k)
		}
	}
	slices.SortFunc(rows, func(a, b *apiKeyRow) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.seq, a.seq))
	})
	out := make([]ports.APIKey, len(rows))
	for i, r := range rows {
		out[i] = *db.apiKeyOut(r)
	}
	return out, nil
}

// APIKey returns one key; ENOTFOUND if it is not in the workspace.
func (s *APIKeyStore) APIKey(ctx context.Context, workspaceID, id string) (*ports.APIKey, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	r, err := db.apiKeyIn(workspaceID, id)
	if err != nil {
		return nil, err
	}
	return db.apiKeyOut(r), nil
}

// APIKeyByHash finds the key whose secret hashes to hash, in any workspace; ENOTFOUND if none.
func (s *APIKeyStore) APIKeyByHash(ctx context.Context, hash []byte) (*ports.APIKey, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	id, ok := db.hashes[string(hash)]
	if !ok {
		return nil, ports.Errorf(ports.ENOTFOUND, "API key not found")
	}
	return db.apiKeyOut(db.apiKeys[id]), nil
}

// RegenerateAPIKey replaces the key's secret hash and last 4 characters and records ev, together, and
// announces ChangeAPIKey; ENOTFOUND if the key is not in the workspace, ECONFLICT if another key has
// the new hash.
func (s *APIKeyStore) RegenerateAPIKey(ctx context.Context, workspaceID, id string, hash []byte, last4 string, ev *ports.AuditEvent) (*ports.APIKey, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	r, err := db.apiKeyIn(workspaceID, id)
	if err != nil {
		return nil, err
	}
	if owner, ok := db.hashes[string(hash)]; ok && owner != id {
		return nil, ports.Errorf(ports.ECONFLICT, "API key already exists")
	}
	events, err := db.prepareEvents(ev)
	if err != nil {
		return nil, err
	}
	delete(db.hashes, string(r.SecretHash))
	r.SecretHash = slices.Clone(hash)
	r.Last4 = last4
	db.hashes[string(r.SecretHash)] = r.ID
	db.appendEvents(events)
	db.hub.Publish(ports.Change{Kind: ports.ChangeAPIKey, WorkspaceID: workspaceID, ID: id})
	return db.apiKeyOut(r), nil
}

// DeleteAPIKey removes the key and records ev together and announces ChangeAPIKey; ENOTFOUND if it is
// not in the workspace.
func (s *APIKeyStore) DeleteAPIKey(ctx context.Context, workspaceID, id string, ev *ports.AuditEvent) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	r, err := db.apiKeyIn(workspaceID, id)
	if err != nil {
		return err
	}
	events, err := db.prepareEvents(ev)
	if err != nil {
		return err
	}
	delete(db.hashes, string(r.SecretHash))
	delete(db.apiKeys, r.ID)
	db.appendEvents(events)
	db.hub.Publish(ports.Change{Kind: ports.ChangeAPIKey, WorkspaceID: workspaceID, ID: id})
	return nil
}

// apiKeyIn returns the stored key if it belongs to the workspace.
func (db *DB) apiKeyIn(workspaceID, id string) (*apiKeyRow, error) {
	r, ok := db.apiKeys[id]
	if !ok || r.WorkspaceID != workspaceID {
		return nil, ports.Errorf(ports.ENOTFOUND, "API key %s not found", id)
	}
	return r, nil
}

// apiKeyOut copies a stored key with CreatedBy joined from its member's account.
func (db *DB) apiKeyOut(r *apiKeyRow) *ports.APIKey {
	c := copyAPIKey(&r.APIKey)
	c.CreatedBy = db.memberEmail(r.MemberID, r.CreatedBy)
	return c
}
