package memory

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/tooken/tooken/ports"
)

// AccountStore implements ports.AccountStore.
type AccountStore struct{ db *DB }

var _ ports.AccountStore = (*AccountStore)(nil)

// CreateAccount stores a with its email in lower case; ECONFLICT if the email (any case) is taken.
func (s *AccountStore) CreateAccount(ctx context.Context, a *ports.Account) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	email := strings.ToLower(a.Email)
	if _, ok := db.emails[email]; ok {
		return ports.Errorf(ports.ECONFLICT, "An account with this email already exists")
	}
	if _, ok := db.accounts[a.ID]; ok {
		return ports.Errorf(ports.ECONFLICT, "Account %s already exists", a.ID)
	}
	c := *a
	c.Email = email
	c.CreatedAt = normTime(a.CreatedAt)
	db.accounts[c.ID] = &c
	db.emails[email] = c.ID
	return nil
}

// AccountByEmail returns the account with that email, in any case; ENOTFOUND if none.
func (s *AccountStore) AccountByEmail(ctx context.Context, email string) (*ports.Account, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	id, ok := db.emails[strings.ToLower(email)]
	if !ok {
		return nil, ports.Errorf(ports.ENOTFOUND, "Account not found")
	}
	c := *db.accounts[id]
	return &c, nil
}

// WorkspaceStore implements ports.WorkspaceStore.
type WorkspaceStore struct{ db *DB }

var _ ports.WorkspaceStore = (*WorkspaceStore)(nil)

// CreateWorkspace stores ws, its owner, its signing key and ev together; ECONFLICT if the slug (or an
// id) is taken, in which case nothing is stored. An empty SigningAlgorithm is stored as ES256.
func (s *WorkspaceStore) CreateWorkspace(ctx context.Context, ws *ports.Workspace, owner *ports.Member, key *ports.SigningKey, ev *ports.AuditEvent) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if ws == nil || owner == nil || key == nil {
		return ports.Errorf(ports.EINVALID, "a workspace needs an owner and a signing key")
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	switch {
	case db.slugs[ws.Slug] != "":
		return ports.Errorf(ports.ECONFLICT, "Slug %q is already taken", ws.Slug)
	case db.workspaces[ws.ID] != nil:
		return ports.Errorf(ports.ECONFLICT, "Workspace %s already exists", ws.ID)
	case db.members[owner.ID] != nil:
		return ports.Errorf(ports.ECONFLICT, "Member %s already exists", owner.ID)
	case db.signingKeys[key.KID] != nil:
		return ports.Errorf(ports.ECONFLICT, "Signing key %s already exists", key.KID)
	}
	events, err := db.prepareEvents(ev)
	if err != nil {
		return err
	}
	w := *copyWorkspace(ws)
	w.CreatedAt = normTime(ws.CreatedAt)
	w.SigningAlgorithm = cmp.Or(ws.SigningAlgorithm, ports.AlgES256)
	m := *owner
	m.WorkspaceID = ws.ID
	m.CreatedAt = normTime(owner.CreatedAt)
	k := storedSigningKey(key)
	k.WorkspaceID = ws.ID

	db.workspaces[w.ID] = &w
	db.slugs[w.Slug] = w.ID
	db.members[m.ID] = &m
	db.signingKeys[k.KID] = &signingKeyRow{SigningKey: *k, seq: db.next()}
	db.appendEvents(events)
	return nil
}

// Workspace returns the workspace; ENOTFOUND if it does not exist.
func (s *WorkspaceStore) Workspace(ctx context.Context, id string) (*ports.Workspace, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	ws, ok := db.workspaces[id]
	if !ok {
		return nil, ports.Errorf(ports.ENOTFOUND, "Workspace %s not found", id)
	}
	return copyWorkspace(ws), nil
}

// Member returns a member of the workspace with its account's email; ENOTFOUND if none.
func (s *WorkspaceStore) Member(ctx context.Context, workspaceID, memberID string) (*ports.Member, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	m, ok := db.members[memberID]
	if !ok || m.WorkspaceID != workspaceID {
		return nil, ports.Errorf(ports.ENOTFOUND, "Member %s not found", memberID)
	}
	return db.memberOut(m), nil
}

// MemberByAccount returns the membership of an account in the workspace; ENOTFOUND if none.
func (s *WorkspaceStore) MemberByAccount(ctx context.Context, workspaceID, accountID string) (*ports.Member, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	for _, m := range db.members {
		if m.WorkspaceID == workspaceID && m.AccountID == accountID {
			return db.memberOut(m), nil
		}
	}
	return nil, ports.Errorf(ports.ENOTFOUND, "Member not found")
}

// memberOut copies m with its account's email joined in.
func (db *DB) memberOut(m *ports.Member) *ports.Member {
	c := *m
	c.Email = db.memberEmail(m.ID, m.Email)
	return &c
}

// memberEmail returns the email of the member's account, or fallback when either is unknown.
func (db *DB) memberEmail(memberID, fallback string) string {
	if m, ok := db.members[memberID]; ok {
		if a, ok := db.accounts[m.AccountID]; ok {
			return a.Email
		}
	}
	return fallback
}

// UpdateWorkspace stores ws's Name, Slug, Timezone, SigningAlgorithm, AuditRetentionDays and Policy
// and ev together and announces ChangeWorkspace; ENOTFOUND if it does not exist, ECONFLICT if the slug is taken by another workspace.
func (s *WorkspaceStore) UpdateWorkspace(ctx context.Context, ws *ports.Workspace, ev *ports.AuditEvent) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	w, ok := db.workspaces[ws.ID]
	if !ok {
		return ports.Errorf(ports.ENOTFOUND, "Workspace %s not found", ws.ID)
	}
	if owner := db.slugs[ws.Slug]; owner != "" && owner != ws.ID {
		return ports.Errorf(ports.ECONFLICT, "Slug %q is already taken", ws.Slug)
	}
	events, err := db.prepareEvents(ev)
	if err != nil {
		return err
	}
	delete(db.slugs, w.Slug)
	w.Name, w.Slug, w.Timezone, w.SigningAlgorithm = ws.Name, ws.Slug, ws.Timezone, ws.SigningAlgorithm
	w.AuditRetentionDays, w.Policy = copyPtr(ws.AuditRetentionDays), copyPolicy(ws.Policy)
	db.slugs[w.Slug] = w.ID
	db.appendEvents(events)
	db.hub.Publish(ports.Change{Kind: ports.ChangeWorkspace, WorkspaceID: w.ID})
	return nil
}

// WorkspaceIDs lists workspace ids greater than after, ascending, at most limit.
func (s *WorkspaceStore) WorkspaceIDs(ctx context.Context, after string, limit int) ([]string, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	ids := []string{}
	for id := range db.workspaces {
		if id > after {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids[:min(len(ids), max(limit, 0))], nil
}

// CustomScopes lists the workspace's custom scopes by name; empty when none.
func (s *WorkspaceStore) CustomScopes(ctx context.Context, workspaceID string) ([]ports.Scope, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	return append([]ports.Scope{}, db.scopes[workspaceID]...), nil
}

// SetCustomScopes replaces the workspace's custom scopes with scopes and records ev, together, and
// announces ChangeWorkspace; ENOTFOUND if the workspace does not exist, ECONFLICT if a name is given
// twice.
func (s *WorkspaceStore) SetCustomScopes(ctx context.Context, workspaceID string, scopes []ports.Scope, ev *ports.AuditEvent) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	if _, ok := db.workspaces[workspaceID]; !ok {
		return ports.Errorf(ports.ENOTFOUND, "Workspace %s not found", workspaceID)
	}
	sorted := slices.Clone(scopes)
	slices.SortFunc(sorted, func(a, b ports.Scope) int { return strings.Compare(a.Name, b.Name) })
	for i := 1; i < len(sorted); i++ {
		if sorted[i].Name == sorted[i-1].Name {
			return ports.Errorf(ports.ECONFLICT, "Custom scope %q is given twice", sorted[i].Name)
		}
	}
	events, err := db.prepareEvents(ev)
	if err != nil {
		return err
	}
	db.scopes[workspaceID] = sorted
	db.appendEvents(events)
	db.hub.Publish(ports.Change{Kind: ports.ChangeWorkspace, WorkspaceID: workspaceID})
	return nil
}
