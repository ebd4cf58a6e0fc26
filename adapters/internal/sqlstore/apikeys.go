package sqlstore

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/tooken/tooken/ports"
)

// APIKeyStore implements ports.APIKeyStore.
type APIKeyStore struct{ db *DB }

type apiKeyRow struct {
	ID          string `db:"id"`
	WorkspaceID string `db:"workspace_id"`
	Name        string `db:"name"`
	Kind        string `db:"kind"`
	Role        string `db:"role"`
	MemberID    string `db:"member_id"`
	CreatedBy   string `db:"created_by"`
	SecretHash  []byte `db:"secret_hash"`
	Last4       string `db:"last4"`
	CreatedAt   Time   `db:"created_at"`
	LastUsedAt  Time   `db:"last_used_at"`
}

func (r *apiKeyRow) key() ports.APIKey {
	return ports.APIKey{ID: r.ID, WorkspaceID: r.WorkspaceID, Name: r.Name, Kind: ports.APIKeyKind(r.Kind),
		Role: ports.Role(r.Role), MemberID: r.MemberID, CreatedBy: r.CreatedBy, SecretHash: r.SecretHash,
		Last4: r.Last4, CreatedAt: r.CreatedAt.T, LastUsedAt: r.LastUsedAt.Ptr()}
}

// The creator's email is a join: a key survives its member only in the sense that CreatedBy turns "".
const apiKeySelect = `SELECT k.id, k.workspace_id, k.name, k.kind, k.role, k.member_id,
COALESCE(a.email, '') AS created_by, k.secret_hash, k.last4, k.created_at, k.last_used_at
FROM api_keys k LEFT JOIN members m ON m.id = k.member_id LEFT JOIN accounts a ON a.id = m.account_id `

const apiKeyConflict = "an API key with this secret already exists"

// CreateAPIKey stores k and ev in one transaction; ECONFLICT if the hash already exists.
func (s *APIKeyStore) CreateAPIKey(ctx context.Context, k *ports.APIKey, ev *ports.AuditEvent) error {
	db := s.db
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := db.exec(ctx, tx, `INSERT INTO api_keys
(id, workspace_id, name, kind, role, member_id, secret_hash, last4, created_at, last_used_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			k.ID, k.WorkspaceID, k.Name, string(k.Kind), string(k.Role), k.MemberID, k.SecretHash, k.Last4,
			db.t(k.CreatedAt), db.nt(k.LastUsedAt)); err != nil {
			return err
		}
		return db.insertEvents(ctx, tx, ev)
	})
	return db.wrap(err, "", apiKeyConflict)
}

// APIKeys lists the workspace's keys, newest first.
func (s *APIKeyStore) APIKeys(ctx context.Context, workspaceID string) ([]ports.APIKey, error) {
	var rows []apiKeyRow
	if err := s.db.sel(ctx, s.db.read, &rows,
		apiKeySelect+`WHERE k.workspace_id = ? ORDER BY k.created_at DESC, k.id DESC`, workspaceID); err != nil {
		return nil, s.db.wrap(err, "", "")
	}
	keys := make([]ports.APIKey, len(rows))
	for i := range rows {
		keys[i] = rows[i].key()
	}
	return keys, nil
}

// APIKey returns one key; ENOTFOUND if it is not in the workspace.
func (s *APIKeyStore) APIKey(ctx context.Context, workspaceID, id string) (*ports.APIKey, error) {
	return s.one(ctx, s.db.read, id, `WHERE k.workspace_id = ? AND k.id = ?`, workspaceID, id)
}

// APIKeyByHash finds the key whose secret hashes to hash, in any workspace; ENOTFOUND if none.
func (s *APIKeyStore) APIKeyByHash(ctx context.Context, hash []byte) (*ports.APIKey, error) {
	return s.one(ctx, s.db.read, "", `WHERE k.secret_hash = ?`, hash)
}

func (s *APIKeyStore) one(ctx context.Context, q sqlx.QueryerContext, id, where string, args ...any) (*ports.APIKey, error) {
	var r apiKeyRow
	if err := s.db.get(ctx, q, &r, apiKeySelect+where, args...); err != nil {
		msg := "API key not found"
		if id != "" {
			msg = fmt.Sprintf("API key %s not found", id)
		}
		return nil, s.db.wrap(err, msg, "")
	}
	k := r.key()
	return &k, nil
}

// RegenerateAPIKey replaces the key's secret hash and last 4 characters and records ev, in one
// transaction, and announces ChangeAPIKey; ENOTFOUND if the key is not in the workspace.
func (s *APIKeyStore) RegenerateAPIKey(ctx context.Context, workspaceID, id string, hash []byte, last4 string, ev *ports.AuditEvent) (*ports.APIKey, error) {
	db := s.db
	var k *ports.APIKey
	err := db.mutate(ctx, func(tx *sqlx.Tx) ([]ports.Change, error) {
		n, err := db.exec(ctx, tx, `UPDATE api_keys SET secret_hash = ?, last4 = ? WHERE workspace_id = ? AND id = ?`,
			hash, last4, workspaceID, id)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, notFoundErr(fmt.Sprintf("API key %s not found", id))
		}
		if k, err = s.one(ctx, tx, id, `WHERE k.workspace_id = ? AND k.id = ?`, workspaceID, id); err != nil {
			return nil, err
		}
		if err := db.insertEvents(ctx, tx, ev); err != nil {
			return nil, err
		}
		return []ports.Change{{Kind: ports.ChangeAPIKey, WorkspaceID: workspaceID, ID: id}}, nil
	})
	if err != nil {
		return nil, db.wrap(err, "", apiKeyConflict)
	}
	return k, nil
}

// DeleteAPIKey removes the key and records ev in one transaction and announces ChangeAPIKey;
// ENOTFOUND if it is not in the workspace.
func (s *APIKeyStore) DeleteAPIKey(ctx context.Context, workspaceID, id string, ev *ports.AuditEvent) error {
	db := s.db
	err := db.mutate(ctx, func(tx *sqlx.Tx) ([]ports.Change, error) {
		n, err := db.exec(ctx, tx, `DELETE FROM api_keys WHERE workspace_id = ? AND id = ?`, workspaceID, id)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, notFoundErr(fmt.Sprintf("API key %s not found", id))
		}
		if err := db.insertEvents(ctx, tx, ev); err != nil {
			return nil, err
		}
		return []ports.Change{{Kind: ports.ChangeAPIKey, WorkspaceID: workspaceID, ID: id}}, nil
	})
	return db.wrap(err, "", "")
}
