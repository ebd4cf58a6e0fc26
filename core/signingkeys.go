package core

import (
	"context"
	"time"

	"github.com/tooken/tooken/ports"
)

// SigningKeyView is a signing key with its state derived at read time.
type SigningKeyView struct {
	Key   ports.SigningKey
	State string
}

// ListSigningKeys lists p's workspace's signing keys, newest first, with their states (owner).
func (s *Service) ListSigningKeys(ctx context.Context, p *Principal) ([]SigningKeyView, error) {
	if err := p.requireOwner(); err != nil {
		return nil, err
	}
	return s.signingKeys(ctx, p.WorkspaceID)
}

func (s *Service) signingKeys(ctx context.Context, workspaceID string) ([]SigningKeyView, error) {
	keys, err := s.stores.SigningKeys.SigningKeys(ctx, workspaceID)
	if err != nil {
		return nil, err
	}
	states := ports.KeyStates(keys, s.Now())
	out := make([]SigningKeyView, len(keys))
	for i, k := range keys {
		out[i] = SigningKeyView{Key: k, State: states[k.KID]}
	}
	return out, nil
}

// RotateSigningKey adds a pending key in the workspace's signing algorithm. It is published at once
// and signs from KeyAnnounce later, so every verifier knows it before it sees a value it signed; the
// key it replaces then retires once no value it signed remains. ECONFLICT if a key is already pending.
func (s *Service) RotateSigningKey(ctx context.Context, p *Principal) (*SigningKeyView, error) {
	if err := p.requireOwner(); err != nil {
		return nil, err
	}
	return s.rotateKey(ctx, p.actor(), p.WorkspaceID, s.cfg.KeyAnnounce, "signing_key.rotated")
}

func (s *Service) rotateKey(ctx context.Context, actor ports.Actor, workspaceID string, announce time.Duration, action string) (*SigningKeyView, error) {
	ws, err := s.stores.Workspaces.Workspace(ctx, workspaceID)
	if err != nil {
		return nil, err
	}
	k, err := s.signer.NewSigningKey(ctx, workspaceID, ws.SigningAlgorithm)
	if err != nil {
		return nil, err
	}
	k.ActivatesAt = k.CreatedAt.Add(announce)
	ev := s.event(ctx, actor, workspaceID, action, keyTargetOf(k),
		map[string]any{"algorithm": k.Algorithm, "activates_at": k.ActivatesAt.UTC().Format(time.RFC3339)})
	if err := s.stores.SigningKeys.AddSigningKey(ctx, k, ev); err != nil {
		if ports.ErrorCode(err) == ports.ECONFLICT {
			return nil, ports.Errorf(ports.ECONFLICT, "A new signing key is already pending; it activates before another rotation")
		}
		return nil, err
	}
	s.signer.Forget(workspaceID)
	s.watchers.notify(ports.Change{Kind: ports.ChangeSigningKey, WorkspaceID: workspaceID, ID: k.KID})
	state := ports.KeyPending
	if announce == 0 {
		state = ports.KeyActive
	}
	return &SigningKeyView{Key: *k, State: state}, nil
}

// RevokeSigningKey is the emergency revocation of a key (owner): it leaves the JWKS at once, every
// value it signed stops verifying (holders must have their tokens rotated), and verifiers following
// the revocation stream are told to refetch the JWKS. If it was the active key, a replacement that
// signs at once is created first, so signing never stops. Revoking it again changes nothing.
func (s *Service) RevokeSigningKey(ctx context.Context, p *Principal, kid string) (*SigningKeyView, error) {
	if err := p.requireOwner(); err != nil {
		return nil, err
	}
	keys, err := s.signingKeys(ctx, p.WorkspaceID)
	if err != nil {
		return nil, err
	}
	var target *SigningKeyView
	for i := range keys {
		if keys[i].Key.KID == kid {
			target = &keys[i]
		}
	}
	if target == nil {
		return nil, ports.Errorf(ports.ENOTFOUND, "Signing key %s not found", kid)
	}
	if target.State == ports.KeyActive {
		if _, err := s.rotateKey(ctx, p.actor(), p.WorkspaceID, 0, "signing_key.rotated"); err != nil {
			return nil, err
		}
	}
	ev := s.event(ctx, p.actor(), p.WorkspaceID, "signing_key.revoked", keyTargetOf(&target.Key), nil)
	k, _, err := s.stores.SigningKeys.RevokeSigningKey(ctx, p.WorkspaceID, kid, s.Now(), ev)
	if err != nil {
		return nil, err
	}
	s.signer.Forget(p.WorkspaceID)
	s.values.clear()
	s.watchers.notify(ports.Change{Kind: ports.ChangeSigningKey, WorkspaceID: p.WorkspaceID, ID: kid})
	return &SigningKeyView{Key: *k, State: ports.KeyRevoked}, nil
}

func keyTargetOf(k *ports.SigningKey) ports.Target {
	return ports.Target{Type: "signing_key", ID: k.KID, Name: k.Algorithm}
}

// RunMaintenance runs Maintain every interval until ctx ends.
func (s *Service) RunMaintenance(ctx context.Context, interval time.Duration, onError func(error)) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if err := s.Maintain(ctx); err != nil && ctx.Err() == nil {
			onError(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Maintain walks every workspace: it rotates an active key older than KeyRotationPeriod (unless a key
// is pending), retires retiring keys that no live value needs any more, gives a workspace without an
// active key one, deletes audit events past the workspace's retention, and prunes expired
// revocation-feed entries. Safe on several replicas at once: the stores let one rotation win, and
// retirement and pruning are idempotent.
func (s *Service) Maintain(ctx context.Context) error {
	system := ports.Actor{Type: "system", ID: "key-maintenance"}
	err := s.eachWorkspace(ctx, func(id string) error {
		if err := s.maintainWorkspaceKeys(ctx, system, id); err != nil && ports.ErrorCode(err) != ports.ECONFLICT {
			return err
		}
		return s.applyRetention(ctx, id)
	})
	if err != nil {
		return err
	}
	if _, err = s.stores.Feed.PruneRevocations(ctx, s.Now()); err != nil {
		return err
	}
	_, err = s.stores.Sessions.DeleteExpiredSessions(ctx, s.Now())
	return err
}

// eachWorkspace calls fn with every workspace id, in pages, stopping at the first error.
func (s *Service) eachWorkspace(ctx context.Context, fn func(id string) error) error {
	after := ""
	for {
		ids, err := s.stores.Workspaces.WorkspaceIDs(ctx, after, 500)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := fn(id); err != nil {
				return err
			}
			after = id
		}
		if len(ids) < 500 {
			return nil
		}
	}
}

func (s *Service) maintainWorkspaceKeys(ctx context.Context, system ports.Actor, workspaceID string) error {
	keys, err := s.signingKeys(ctx, workspaceID)
	if err != nil {
		return err
	}
	now := s.Now()
	var active *ports.SigningKey
	for i := range keys {
		if keys[i].State == ports.KeyActive {
			active = &keys[i].Key
		}
	}
	pending := false
	for i := range keys {
		switch keys[i].State {
		case ports.KeyPending:
			pending = true
		case ports.KeyRetiring:
			if !keys[i].Key.ActivatesAt.Before(active.ActivatesAt) {
				continue // activated at the same instant as the active key: a replacement, not replaced
			}
			ev := s.event(ctx, system, workspaceID, "signing_key.retired", keyTargetOf(&keys[i].Key), nil)
			err := s.stores.SigningKeys.RetireSigningKey(ctx, workspaceID, keys[i].Key.KID, now, ev)
			if err != nil && ports.ErrorCode(err) != ports.ECONFLICT {
				return err
			}
		}
	}
	switch {
	case active == nil && !pending:
		_, err = s.rotateKey(ctx, system, workspaceID, 0, "signing_key.rotated")
	case active != nil && !pending && now.Sub(active.ActivatesAt) >= s.cfg.KeyRotationPeriod:
		_, err = s.rotateKey(ctx, system, workspaceID, s.cfg.KeyAnnounce, "signing_key.rotated")
	}
	return err
}

// applyRetention deletes a workspace's audit events older than its retention setting, if it has one.
func (s *Service) applyRetention(ctx context.Context, workspaceID string) error {
	ws, err := s.stores.Workspaces.Workspace(ctx, workspaceID)
	if err != nil || ws.AuditRetentionDays == nil {
		return err
	}
	_, err = s.stores.Audit.PruneAuditEvents(ctx, workspaceID, s.Now().AddDate(0, 0, -*ws.AuditRetentionDays))
	return err
}
