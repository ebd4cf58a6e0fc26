package core

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"hash/crc32"
	"strings"
	"unsafe"

	"github.com/tooken/tooken/ports"
)

// APIKeyPrefix starts every API key.
const APIKeyPrefix = "tok_live_"

const (
	apiKeyBodyLen  = 32 // base62 characters after the prefix
	apiKeyCheckLen = 6  // trailing base62 CRC32 of the first 26
)

// NewAPIKeySecret returns a fresh API key: the prefix, 26 random base62 characters and a 6-character
// base62 CRC32 checksum of those 26, so typos and random strings are refused offline.
func NewAPIKeySecret() string {
	body := randomBase62(apiKeyBodyLen - apiKeyCheckLen)
	return APIKeyPrefix + body + encodeBase62(uint64(crc32.ChecksumIEEE([]byte(body))), apiKeyCheckLen)
}

// ValidAPIKeyFormat reports whether s is shaped like an API key and its checksum matches.
func ValidAPIKeyFormat(s string) bool {
	body, ok := strings.CutPrefix(s, APIKeyPrefix)
	if !ok || len(body) != apiKeyBodyLen {
		return false
	}
	for i := 0; i < len(body); i++ {
		if strings.IndexByte(base62, body[i]) < 0 {
			return false
		}
	}
	random := body[:apiKeyBodyLen-apiKeyCheckLen]
	return body[apiKeyBodyLen-apiKeyCheckLen:] == encodeBase62(uint64(crc32.ChecksumIEEE([]byte(random))), apiKeyCheckLen)
}

// hashSecret is the SHA-256 of secret, as stored and looked up.
func hashSecret(secret string) []byte {
	h := sum256(secret)
	return h[:]
}

// sum256 is the SHA-256 of s, read from the string in place: converting a string longer than 32
// bytes to []byte copies it to the heap (a token value is ~600 bytes, hashed on every authenticated
// read), and Sum256 only reads its input.
func sum256(s string) [sha256.Size]byte {
	return sha256.Sum256(unsafe.Slice(unsafe.StringData(s), len(s)))
}

// cachedKey is an authenticated API key with its role and accountable email resolved.
type cachedKey struct {
	key   ports.APIKey
	role  ports.Role
	email string
}

// authenticateAPIKey resolves a well-formed API key; unknown keys are ErrMissingCredential. Keys are
// found by the SHA-256 of the whole secret, so no secret is ever compared directly.
func (s *Service) authenticateAPIKey(ctx context.Context, secret string) (*Principal, error) {
	h := hashSecret(secret)
	ck := hex.EncodeToString(h)
	c, ok := s.keys.get(ck)
	if !ok {
		gen := s.keyGen.Load()
		k, err := s.stores.APIKeys.APIKeyByHash(ctx, h)
		if ports.ErrorCode(err) == ports.ENOTFOUND {
			return nil, ports.ErrMissingCredential
		} else if err != nil {
			return nil, err
		}
		m, err := s.stores.Workspaces.Member(ctx, k.WorkspaceID, k.MemberID)
		switch {
		case ports.ErrorCode(err) == ports.ENOTFOUND && k.Kind == ports.APIKeyPersonal:
			return nil, ports.ErrMissingCredential // a personal key dies with its member
		case ports.ErrorCode(err) == ports.ENOTFOUND:
			m = &ports.Member{Email: k.CreatedBy} // a team key outlives the member who created it
		case err != nil:
			return nil, err
		}
		c = cachedKey{key: *k, role: k.Role, email: m.Email}
		if k.Kind == ports.APIKeyPersonal {
			c.role = m.Role
		}
		if s.keyGen.Load() == gen { // no key changed while we read: the row cannot be stale
			s.keys.put(ck, c)
		}
	}
	s.usage.add(ports.Usage{Kind: KindAPIKey, ID: c.key.ID, At: s.Now()})
	return &Principal{
		WorkspaceID: c.key.WorkspaceID, Kind: KindAPIKey, ID: c.key.ID,
		Email: c.email, MemberID: c.key.MemberID, Role: c.role,
	}, nil
}

// forgetAPIKey drops a key from the cache. Bumping the generation first stops a lookup that read the
// row before the change from caching it afterwards.
func (s *Service) forgetAPIKey(id string) {
	s.keyGen.Add(1)
	s.keys.delWhere(func(c cachedKey) bool { return c.key.ID == id })
}

// CreateAPIKeyInput is the request to create an API key.
type CreateAPIKeyInput struct {
	Name string
	Kind ports.APIKeyKind
	// Role is the role of a team key (admin or owner; default admin); must be empty for personal keys.
	Role ports.Role
}

// CreateAPIKey creates a key for p's workspace and returns it with its secret, shown this once.
func (s *Service) CreateAPIKey(ctx context.Context, p *Principal, in CreateAPIKeyInput) (*ports.APIKey, string, error) {
	if err := p.requireOwner(); err != nil {
		return nil, "", err
	}
	if err := validateName("name", in.Name); err != nil {
		return nil, "", err
	}
	switch in.Kind {
	case ports.APIKeyPersonal:
		if in.Role != "" {
			return nil, "", invalid("role", "personal keys act with their member's role; omit role")
		}
	case ports.APIKeyTeam:
		if in.Role == "" {
			in.Role = ports.RoleAdmin
		}
		if in.Role != ports.RoleAdmin && in.Role != ports.RoleOwner {
			return nil, "", invalid("role", "team keys have the role admin or owner")
		}
	default:
		return nil, "", invalid("kind", "kind must be personal or team")
	}
	return s.createAPIKey(ctx, p.actor(), p.WorkspaceID, p.MemberID, p.Email, in)
}

func (s *Service) createAPIKey(ctx context.Context, actor ports.Actor, workspaceID, memberID, email string, in CreateAPIKeyInput) (*ports.APIKey, string, error) {
	secret := NewAPIKeySecret()
	k := &ports.APIKey{
		ID: newID("key_"), WorkspaceID: workspaceID, Name: in.Name, Kind: in.Kind, Role: in.Role,
		MemberID: memberID, CreatedBy: email, SecretHash: hashSecret(secret),
		Last4: secret[len(secret)-4:], CreatedAt: s.Now(),
	}
	ev := s.event(ctx, actor, workspaceID, "api_key.created", keyTarget(k), map[string]any{"kind": string(k.Kind)})
	if err := s.stores.APIKeys.CreateAPIKey(ctx, k, ev); err != nil {
		return nil, "", err
	}
	return k, secret, nil
}

// ListAPIKeys lists p's workspace's keys, newest first.
func (s *Service) ListAPIKeys(ctx context.Context, p *Principal) ([]ports.APIKey, error) {
	if err := p.requireOwner(); err != nil {
		return nil, err
	}
	return s.stores.APIKeys.APIKeys(ctx, p.WorkspaceID)
}

// RegenerateAPIKey gives the key a new secret (same id, name and permissions); the old secret stops
// working at once.
func (s *Service) RegenerateAPIKey(ctx context.Context, p *Principal, id string) (*ports.APIKey, string, error) {
	if err := p.requireOwner(); err != nil {
		return nil, "", err
	}
	k, err := s.stores.APIKeys.APIKey(ctx, p.WorkspaceID, id)
	if err != nil {
		return nil, "", keyNotFound(err, id)
	}
	secret := NewAPIKeySecret()
	ev := s.event(ctx, p.actor(), p.WorkspaceID, "api_key.regenerated", keyTarget(k), nil)
	k, err = s.stores.APIKeys.RegenerateAPIKey(ctx, p.WorkspaceID, id, hashSecret(secret), secret[len(secret)-4:], ev)
	if err != nil {
		return nil, "", keyNotFound(err, id)
	}
	s.forgetAPIKey(id)
	return k, secret, nil
}

// DeleteAPIKey deletes the key; anyone still using it gets 401 at once.
func (s *Service) DeleteAPIKey(ctx context.Context, p *Principal, id string) error {
	if err := p.requireOwner(); err != nil {
		return err
	}
	k, err := s.stores.APIKeys.APIKey(ctx, p.WorkspaceID, id)
	if err != nil {
		return keyNotFound(err, id)
	}
	ev := s.event(ctx, p.actor(), p.WorkspaceID, "api_key.deleted", keyTarget(k), nil)
	if err := s.stores.APIKeys.DeleteAPIKey(ctx, p.WorkspaceID, id, ev); err != nil {
		return keyNotFound(err, id)
	}
	s.forgetAPIKey(id)
	return nil
}

func keyTarget(k *ports.APIKey) ports.Target {
	return ports.Target{Type: "api_key", ID: k.ID, Name: k.Name}
}

func keyNotFound(err error, id string) error {
	if ports.ErrorCode(err) == ports.ENOTFOUND {
		return ports.Errorf(ports.ENOTFOUND, "API key %s not found", id)
	}
	return err
}
