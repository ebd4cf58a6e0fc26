package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/tooken/tooken/ports"
)

// changeJSON is the wire form of a ports.Change in a database notification.
type changeJSON struct {
	Kind        string `json:"k"`
	WorkspaceID string `json:"w,omitempty"`
	ID          string `json:"i,omitempty"`
}

// EncodeChange returns the JSON announcing c (well under NOTIFY's 8000-byte payload limit).
func EncodeChange(c ports.Change) (string, error) {
	b, err := json.Marshal(changeJSON{Kind: c.Kind, WorkspaceID: c.WorkspaceID, ID: c.ID})
	return string(b), err
}

// DecodeChange parses what EncodeChange returned; an error for anything else.
func DecodeChange(payload string) (ports.Change, error) {
	var j changeJSON
	if err := json.Unmarshal([]byte(payload), &j); err != nil {
		return ports.Change{}, err
	}
	if j.Kind == "" {
		return ports.Change{}, fmt.Errorf("change %q has no kind", payload)
	}
	return ports.Change{Kind: j.Kind, WorkspaceID: j.WorkspaceID, ID: j.ID}, nil
}

// mutate runs fn in a write transaction, like inTx, and announces the changes fn returns once they
// are committed: with the dialect's Notify statement inside the transaction (the database delivers
// it on commit only), or to the in-process hub after the commit. A failed transaction announces
// nothing.
func (db *DB) mutate(ctx context.Context, fn func(tx *sqlx.Tx) ([]ports.Change, error)) error {
	var changes []ports.Change
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if changes, err = fn(tx); err != nil || db.d.Notify == "" {
			return err
		}
		for _, c := range changes {
			payload, err := EncodeChange(c)
			if err != nil {
				return ports.Internal(err)
			}
			if _, err := db.exec(ctx, tx, db.d.Notify, payload); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil && db.hub != nil {
		db.hub.Publish(changes...)
	}
	return err
}

// lockWorkspace locks the workspace's row until commit (where the dialect needs it), so that
// read-check-write sequences on its children cannot interleave across replicas; ENOTFOUND if the
// workspace does not exist.
func (db *DB) lockWorkspace(ctx context.Context, tx *sqlx.Tx, id string) error {
	var got string
	err := db.get(ctx, tx, &got, `SELECT id FROM workspaces WHERE id = ?`+db.d.ForUpdate, id)
	return db.wrap(err, workspaceNotFound(id), "")
}
