package core

import (
	"context"
	"regexp"
	"strings"

	"github.com/tooken/tooken/ports"
)

// BootstrapInput is the request to set up an installation's first (or another) workspace.
type BootstrapInput struct {
	Email     string
	Password  string // optional; sets the password of a new account
	Workspace string // workspace name
}

// Bootstrapped is what Bootstrap created: the workspace and an owner team API key (shown once).
type Bootstrapped struct {
	Workspace ports.Workspace
	APIKey    string
}

var emailRE = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)

// Bootstrap creates (or reuses) the account, creates a workspace it owns and a team API key with the
// owner role. It is the operator's entry point (the CLI), so it needs no principal.
func (s *Service) Bootstrap(ctx context.Context, in BootstrapInput) (*Bootstrapped, error) {
	email := strings.ToLower(strings.TrimSpace(in.Email))
	if len(email) > 254 || !emailRE.MatchString(email) {
		return nil, invalid("email", "a valid email address is required")
	}
	acc, err := s.stores.Accounts.AccountByEmail(ctx, email)
	if ports.ErrorCode(err) == ports.ENOTFOUND {
		acc = &ports.Account{ID: newID("acc_"), Email: email, CreatedAt: s.Now()}
		if in.Password != "" {
			if acc.PasswordHash, err = s.hashPassword(in.Password); err != nil {
				return nil, err
			}
		}
		if err = s.stores.Accounts.CreateAccount(ctx, acc); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	ws, owner, err := s.CreateWorkspace(ctx, acc, in.Workspace)
	if err != nil {
		return nil, err
	}
	system := ports.Actor{Type: "system", ID: acc.ID, Email: acc.Email}
	_, secret, err := s.createAPIKey(ctx, system, ws.ID, owner.ID, acc.Email,
		CreateAPIKeyInput{Name: "bootstrap", Kind: ports.APIKeyTeam, Role: ports.RoleOwner})
	if err != nil {
		return nil, err
	}
	return &Bootstrapped{Workspace: *ws, APIKey: secret}, nil
}

func (s *Service) hashPassword(pw string) (string, error) {
	if len(pw) < 12 || len(pw) > 256 {
		return "", invalid("password", "password must be 12 to 256 characters")
	}
	return s.hasher.Hash(pw)
}

// CreateWorkspace creates a workspace owned by acc, with its first signing key.
func (s *Service) CreateWorkspace(ctx context.Context, acc *ports.Account, name string) (*ports.Workspace, *ports.Member, error) {
	if err := validateName("workspace", name); err != nil {
		return nil, nil, err
	}
	now := s.Now()
	ws := &ports.Workspace{ID: newID("ws_"), Name: name, Timezone: "UTC", SigningAlgorithm: ports.AlgES256, CreatedAt: now}
	ws.DefaultAudience = ws.ID
	owner := &ports.Member{ID: newID("mem_"), WorkspaceID: ws.ID, AccountID: acc.ID, Email: acc.Email,
		Role: ports.RoleOwner, CreatedAt: now}
	key, err := s.signer.NewSigningKey(ctx, ws.ID, ws.SigningAlgorithm)
	if err != nil {
		return nil, nil, err
	}
	actor := ports.Actor{Type: KindUser, ID: acc.ID, Email: acc.Email}
	for attempt := 0; ; attempt++ {
		ws.Slug = slugify(name)
		if attempt > 0 {
			ws.Slug += "-" + strings.ToLower(randomBase62(6))
		}
		ev := s.event(ctx, actor, ws.ID, "workspace.created", ports.Target{Type: "workspace", ID: ws.ID, Name: ws.Name}, nil)
		err = s.stores.Workspaces.CreateWorkspace(ctx, ws, owner, key, ev)
		if ports.ErrorCode(err) != ports.ECONFLICT || attempt == 3 {
			break
		}
	}
	if err != nil {
		return nil, nil, err
	}
	return ws, owner, nil
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

func slugify(name string) string {
	s := strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(name), "-"), "-")
	if len(s) > 40 {
		s = strings.TrimRight(s[:40], "-")
	}
	if s == "" {
		s = "workspace"
	}
	return s
}

// GetWorkspace returns p's workspace.
func (s *Service) GetWorkspace(ctx context.Context, p *Principal) (*ports.Workspace, error) {
	return s.stores.Workspaces.Workspace(ctx, p.WorkspaceID)
}

// workspace returns a workspace from the cache, loading it on a miss; for the settings the hot
// paths need (default audience). Workspace updates must drop the entry.
func (s *Service) workspace(ctx context.Context, id string) (*ports.Workspace, error) {
	if ws, ok := s.workspaces.get(id); ok {
		return &ws, nil
	}
	ws, err := s.stores.Workspaces.Workspace(ctx, id)
	if err != nil {
		return nil, err
	}
	s.workspaces.put(id, *ws)
	return ws, nil
}

// Discovery is a workspace's issuer metadata.
type Discovery struct {
	Issuer              string
	JWKSURI             string
	RevocationFeedURI   string
	RevocationStreamURI string
	Algorithms          []string // of the published keys
}

// Discover returns the issuer metadata of a workspace; ENOTFOUND for an unknown workspace.
func (s *Service) Discover(ctx context.Context, workspaceID string) (*Discovery, error) {
	_, algs, err := s.signer.JWKS(ctx, workspaceID)
	if err != nil {
		return nil, workspaceNotFound(err, workspaceID)
	}
	iss := s.Issuer(workspaceID)
	return &Discovery{Issuer: iss, JWKSURI: iss + "/.well-known/jwks.json", RevocationFeedURI: iss + "/revocations",
		RevocationStreamURI: iss + "/revocations/stream", Algorithms: algs}, nil
}

// JWKS returns a workspace's public key set document; ENOTFOUND for an unknown workspace.
func (s *Service) JWKS(ctx context.Context, workspaceID string) ([]byte, error) {
	doc, _, err := s.signer.JWKS(ctx, workspaceID)
	return doc, workspaceNotFound(err, workspaceID)
}

// Ready reports whether the store can serve requests.
func (s *Service) Ready(ctx context.Context) error { return s.stores.Ready.Ready(ctx) }

func workspaceNotFound(err error, id string) error {
	if ports.ErrorCode(err) == ports.ENOTFOUND {
		return ports.Errorf(ports.ENOTFOUND, "Workspace %s not found", id)
	}
	return err
}
