package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/tooken/tooken/ports"
)

// SigningKeyStore implements ports.SigningKeyStore.
type SigningKeyStore struct{ db *DB }

type signingKeyRow struct {
	KID                 string `db:"kid"`
	WorkspaceID         string `db:"workspace_id"`
	Algorithm           string `db:"algorithm"`
	PublicJWK           []byte `db:"public_jwk"`
	PrivateKeyEncrypted []byte `db:"private_key_encrypted"`
	CreatedAt           Time   `db:"created_at"`
	ActivatesAt         Time   `db:"activates_at"`
	RetiredAt           Time   `db:"retired_at"`
	RevokedAt           Time   `db:"revoked_at"`
}

func (r *signingKeyRow) key() ports.SigningKey {
	return ports.SigningKey{KID: r.KID, WorkspaceID: r.WorkspaceID, Algorithm: r.Algorithm,
		PublicJWK: rawJSON(r.PublicJWK), PrivateKeyEncrypted: r.PrivateKeyEncrypted,
		CreatedAt: r.CreatedAt.T, ActivatesAt: r.ActivatesAt.T, RetiredAt: r.RetiredAt.Ptr(), RevokedAt: r.RevokedAt.Ptr()}
}

const signingKeyColumns = `kid, workspace_id, algorithm, public_jwk, private_key_encrypted, created_at,
activates_at, retired_at, revoked_at`

func signingKeyNotFound(kid string) string { return fmt.Sprintf("Signing key %s not found", kid) }

func (db *DB) insertSigningKey(ctx context.Context, tx *sqlx.Tx, k *ports.SigningKey) error {
	_, err := db.exec(ctx, tx, `INSERT INTO signing_keys (`+signingKeyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		k.KID, k.WorkspaceID, k.Algorithm, rawText(k.PublicJWK), k.PrivateKeyEncrypted,
		db.t(k.CreatedAt), db.t(k.ActivatesAt), db.nt(k.RetiredAt), db.nt(k.RevokedAt))
	return db.wrap(err, "", fmt.Sprintf("signing key %s already exists", k.KID))
}

// SigningKeys lists the workspace's keys, newest (by CreatedAt) first; empty if it has none.
func (s *SigningKeyStore) SigningKeys(ctx context.Context, workspaceID string) ([]ports.SigningKey, error) {
	var rows []signingKeyRow
	if err := s.db.sel(ctx, s.db.read, &rows, `SELECT `+signingKeyColumns+` FROM signing_keys
WHERE workspace_id = ? ORDER BY created_at DESC, kid DESC`, workspaceID); err != nil {
		return nil, s.db.wrap(err, "", "")
	}
	keys := make([]ports.SigningKey, len(rows))
	for i := range rows {
		keys[i] = rows[i].key()
	}
	return keys, nil
}

func (s *SigningKeyStore) get(ctx context.Context, q sqlx.QueryerContext, workspaceID, kid string) (*ports.SigningKey, error) {
	var r signingKeyRow
	if err := s.db.get(ctx, q, &r, `SELECT `+signingKeyColumns+` FROM signing_keys WHERE workspace_id = ? AND kid = ?`,
		workspaceID, kid); err != nil {
		return nil, s.db.wrap(err, signingKeyNotFound(kid), "")
	}
	k := r.key()
	return &k, nil
}

// AddSigningKey stores k and ev in one transaction and announces ChangeSigningKey. A pending k
// (ActivatesAt after CreatedAt) is ECONFLICT when the workspace already has an unrevoked key
// activating after k.CreatedAt; the workspace row is locked first, so that concurrent adds on any
// replica are checked one after the other. ENOTFOUND if the workspace does not exist.
func (s *SigningKeyStore) AddSigningKey(ctx context.Context, k *ports.SigningKey, ev *ports.AuditEvent) error {
	db := s.db
	err := db.mutate(ctx, func(tx *sqlx.Tx) ([]ports.Change, error) {
		if err := db.lockWorkspace(ctx, tx, k.WorkspaceID); err != nil {
			return nil, err
		}
		if k.ActivatesAt.After(k.CreatedAt) {
			var pending int
			if err := db.get(ctx, tx, &pending, `SELECT COUNT(*) FROM signing_keys
WHERE workspace_id = ? AND revoked_at IS NULL AND activates_at > ?`, k.WorkspaceID, db.t(k.CreatedAt)); err != nil {
				return nil, err
			}
			if pending > 0 {
				return nil, ports.Errorf(ports.ECONFLICT, "a signing key of workspace %s is already pending", k.WorkspaceID)
			}
		}
		if err := db.insertSigningKey(ctx, tx, k); err != nil {
			return nil, err
		}
		if err := db.insertEvents(ctx, tx, ev); err != nil {
			return nil, err
		}
		return []ports.Change{{Kind: ports.ChangeSigningKey, WorkspaceID: k.WorkspaceID, ID: k.KID}}, nil
	})
	return db.wrap(err, "", "")
}

// RevokeSigningKey sets RevokedAt = at and records ev in one transaction and announces
// ChangeSigningKey, unless the key is already revoked: then it returns it unchanged with
// revoked=false and records nothing. ENOTFOUND if the key is not in the workspace.
func (s *SigningKeyStore) RevokeSigningKey(ctx context.Context, workspaceID, kid string, at time.Time, ev *ports.AuditEvent) (*ports.SigningKey, bool, error) {
	db := s.db
	var k *ports.SigningKey
	var revoked bool
	err := db.mutate(ctx, func(tx *sqlx.Tx) ([]ports.Change, error) {
		n, err := db.exec(ctx, tx, `UPDATE signing_keys SET revoked_at = ?
WHERE workspace_id = ? AND kid = ? AND revoked_at IS NULL`, db.t(at), workspaceID, kid)
		if err != nil {
			return nil, err
		}
		if k, err = s.get(ctx, tx, workspaceID, kid); err != nil {
			return nil, err
		}
		if revoked = n > 0; !revoked {
			return nil, nil
		}
		if err := db.insertEvents(ctx, tx, ev); err != nil {
			return nil, err
		}
		return []ports.Change{{Kind: ports.ChangeSigningKey, WorkspaceID: workspaceID, ID: kid}}, nil
	})
	if err != nil {
		return nil, false, db.wrap(err, "", "")
	}
	return k, revoked, nil
}

// RetireSigningKey sets RetiredAt = at and records ev in one transaction and announces
// ChangeSigningKey, provided the key is neither revoked nor retired and no live value it signed
// remains at `at` (one EXISTS over the workspace's tokens); otherwise ECONFLICT. ENOTFOUND if the key
// is not in the workspace.
func (s *SigningKeyStore) RetireSigningKey(ctx context.Context, workspaceID, kid string, at time.Time, ev *ports.AuditEvent) error {
	db := s.db
	err := db.mutate(ctx, func(tx *sqlx.Tx) ([]ports.Change, error) {
		t := db.t(at)
		n, err := db.exec(ctx, tx, `UPDATE signing_keys SET retired_at = ?
WHERE workspace_id = ? AND kid = ? AND revoked_at IS NULL AND retired_at IS NULL
AND NOT EXISTS (SELECT 1 FROM tokens
    WHERE workspace_id = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)
    AND (current_kid = ? OR (previous_kid = ? AND previous_valid_until > ?)))`,
			t, workspaceID, kid, workspaceID, t, kid, kid, t)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			k, err := s.get(ctx, tx, workspaceID, kid)
			switch {
			case err != nil:
				return nil, err
			case k.RevokedAt != nil:
				return nil, ports.Errorf(ports.ECONFLICT, "signing key %s is revoked", kid)
			case k.RetiredAt != nil:
				return nil, ports.Errorf(ports.ECONFLICT, "signing key %s is already retired", kid)
			}
			return nil, ports.Errorf(ports.ECONFLICT, "signing key %s still signs live token values", kid)
		}
		if err := db.insertEvents(ctx, tx, ev); err != nil {
			return nil, err
		}
		return []ports.Change{{Kind: ports.ChangeSigningKey, WorkspaceID: workspaceID, ID: kid}}, nil
	})
	return db.wrap(err, "", "")
}
