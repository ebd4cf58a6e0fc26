package core

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"sync"
	"time"

	"github.com/tooken/tooken/ports"
)

// SessionLifetime is how long a dashboard session lasts after sign-in.
const SessionLifetime = 7 * 24 * time.Hour

// ErrBadCredentials is the one answer to a failed sign-in, whatever was wrong.
var ErrBadCredentials = &ports.Error{Code: ports.EUNAUTHORIZED, Message: "Incorrect email or password"}

// errNoSession answers a missing, unknown or expired session.
var errNoSession = &ports.Error{Code: ports.EUNAUTHORIZED, Message: "Please sign in"}

// SignUp creates an account with a password that passes CheckPassword.
func (s *Service) SignUp(ctx context.Context, email, password string) (*ports.Account, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if len(email) > 254 || !emailRE.MatchString(email) {
		return nil, invalid("email", "a valid email address is required")
	}
	if err := CheckPassword(email, password); err != nil {
		return nil, err
	}
	hash, err := s.hasher.Hash(password)
	if err != nil {
		return nil, err
	}
	acc := &ports.Account{ID: newID("acc_"), Email: email, PasswordHash: hash, CreatedAt: s.Now()}
	if err := s.stores.Accounts.CreateAccount(ctx, acc); err != nil {
		if ports.ErrorCode(err) == ports.ECONFLICT {
			return nil, &ports.Error{Code: ports.ECONFLICT, Message: "An account with this email already exists; sign in instead",
				Details: map[string]string{"email": "already registered"}}
		}
		return nil, err
	}
	return acc, nil
}

// SignedIn is a new session and the secret its cookie carries (never stored).
type SignedIn struct {
	Session ports.Session
	Secret  string
}

// dummyHash is verified against when the email is unknown, so both failures take as long.
var (
	dummyOnce sync.Once
	dummyHash string
)

// SignIn checks an email and password and opens a session, recording auth.signed_in in each of the
// account's workspaces. Failures return ErrBadCredentials and join the sampled auth.failed events.
func (s *Service) SignIn(ctx context.Context, email, password string) (*SignedIn, error) {
	acc, err := s.stores.Accounts.AccountByEmail(ctx, strings.TrimSpace(email))
	if err != nil && ports.ErrorCode(err) != ports.ENOTFOUND {
		return nil, err
	}
	ok := false
	if acc != nil && acc.PasswordHash != "" {
		ok, err = s.hasher.Verify(acc.PasswordHash, password)
	} else {
		dummyOnce.Do(func() { dummyHash, _ = s.hasher.Hash("tooken-dummy-password") })
		_, err = s.hasher.Verify(dummyHash, password)
	}
	if err != nil {
		return nil, err
	}
	if !ok {
		s.recordAuthFailure(ctx, ErrBadCredentials, nil)
		return nil, ErrBadCredentials
	}
	secret := randomToken()
	now := s.Now()
	sess := ports.Session{ID: SessionID(secret), AccountID: acc.ID, Email: acc.Email, CSRFToken: randomToken(),
		CreatedAt: now, ExpiresAt: now.Add(SessionLifetime)}
	if err := s.stores.Sessions.CreateSession(ctx, &sess); err != nil {
		return nil, err
	}
	mems, err := s.stores.Members.AccountWorkspaces(ctx, acc.ID)
	if err != nil {
		return nil, err
	}
	actor := ports.Actor{Type: KindUser, ID: acc.ID, Email: acc.Email}
	events := make([]*ports.AuditEvent, 0, len(mems))
	for _, m := range mems {
		events = append(events, s.event(ctx, actor, m.Workspace.ID, "auth.signed_in", ports.Target{Type: "account", ID: acc.ID}, nil))
	}
	if len(events) > 0 {
		if err := s.stores.Audit.AppendAuditEvents(ctx, events...); err != nil {
			return nil, err
		}
	}
	return &SignedIn{Session: sess, Secret: secret}, nil
}

// SessionID is the stored id of the session whose cookie carries secret.
func SessionID(secret string) string {
	h := sum256(secret)
	return hex.EncodeToString(h[:])
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Session returns the live session whose cookie carries secret; EUNAUTHORIZED if it is unknown or
// expired (an expired one is deleted).
func (s *Service) Session(ctx context.Context, secret string) (*ports.Session, error) {
	if secret == "" || len(secret) > 100 {
		return nil, errNoSession
	}
	sess, err := s.stores.Sessions.Session(ctx, SessionID(secret))
	if ports.ErrorCode(err) == ports.ENOTFOUND {
		return nil, errNoSession
	} else if err != nil {
		return nil, err
	}
	if !s.Now().Before(sess.ExpiresAt) {
		_ = s.stores.Sessions.DeleteSession(ctx, sess.ID)
		return nil, errNoSession
	}
	return sess, nil
}

// SignOut ends the session whose cookie carries secret.
func (s *Service) SignOut(ctx context.Context, secret string) error {
	return s.stores.Sessions.DeleteSession(ctx, SessionID(secret))
}

// SessionPrincipal is the principal the session's account acts as in a workspace; ENOTFOUND when
// it is not a member (another workspace's id reads as unknown).
func (s *Service) SessionPrincipal(ctx context.Context, sess *ports.Session, workspaceID string) (*Principal, error) {
	m, err := s.stores.Workspaces.MemberByAccount(ctx, workspaceID, sess.AccountID)
	if ports.ErrorCode(err) == ports.ENOTFOUND {
		return nil, ports.Errorf(ports.ENOTFOUND, "Workspace %s not found", workspaceID)
	} else if err != nil {
		return nil, err
	}
	return &Principal{Kind: KindUser, ID: sess.AccountID, Email: sess.Email, MemberID: m.ID, Role: m.Role,
		WorkspaceID: workspaceID}, nil
}

// CreateSessionWorkspace creates a workspace owned by the session's account.
func (s *Service) CreateSessionWorkspace(ctx context.Context, sess *ports.Session, name string) (*ports.Workspace, error) {
	ws, _, err := s.CreateWorkspace(ctx, &ports.Account{ID: sess.AccountID, Email: sess.Email}, strings.TrimSpace(name))
	return ws, err
}
