package jwks

import (
	"context"
	"crypto/cipher"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tooken/tooken/ports"
)

// keySet is the cached view of one workspace's signing keys.
type keySet struct {
	keys   map[string]*cachedKey // published keys by kid
	active *cachedKey            // the newest active key; nil if none
	jwks   []byte                // the JWKS document of the published keys
	stored int                   // number of keys in the store, published or not

	activeSince time.Time
}

// cachedKey is a published key, parsed once. Its private half is decrypted on first use for signing.
type cachedKey struct {
	kid         string
	workspaceID string
	alg         string
	method      jwt.SigningMethod
	public      *ecdsa.PublicKey
	parser      *jwt.Parser
	validator   *jwt.Validator

	sealed     []byte
	once       sync.Once
	private    *ecdsa.PrivateKey
	privateErr error
}

// privateKey decrypts the private half once.
func (k *cachedKey) privateKey(aead cipher.AEAD) (*ecdsa.PrivateKey, error) {
	k.once.Do(func() {
		k.private, k.privateErr = decryptPrivateKey(aead, k.workspaceID, k.kid, k.sealed, k.public)
		k.sealed = nil
	})
	return k.private, k.privateErr
}

// published reports whether a key in state is in the JWKS and verifies values. Signing-key rotation
// extends it (pending and retiring keys).
func published(state string) bool { return state == StateActive }

// keySet returns the workspace's keys from the cache, loading them on a miss; loaded tells whether
// they were just read from the store.
func (s *Signer) keySet(ctx context.Context, workspaceID string) (set *keySet, loaded bool, err error) {
	s.mu.RLock()
	set, epoch := s.sets[workspaceID], s.epoch
	s.mu.RUnlock()
	if set != nil {
		return set, false, nil
	}
	v, err, _ := s.loads.Do(workspaceID+"\x00"+strconv.FormatUint(epoch, 10), func() (any, error) {
		set, err := s.fetch(ctx, workspaceID)
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		if s.epoch == epoch && set.stored > 0 {
			s.sets[workspaceID] = set
		}
		s.mu.Unlock()
		return set, nil
	})
	if err != nil {
		return nil, false, err
	}
	return v.(*keySet), true, nil
}

// drop removes set from the cache if it is still the workspace's entry, so the next read reloads.
func (s *Signer) drop(workspaceID string, set *keySet) {
	s.mu.Lock()
	if s.sets[workspaceID] == set {
		delete(s.sets, workspaceID)
		s.epoch++
	}
	s.mu.Unlock()
}

// Forget drops the cached keys of a workspace; the next use reloads them from the store. Signing-key
// rotation calls it after changing a workspace's keys.
func (s *Signer) Forget(workspaceID string) {
	s.mu.Lock()
	delete(s.sets, workspaceID)
	s.epoch++
	s.mu.Unlock()
}

// fetch reads and parses the workspace's keys from the store.
func (s *Signer) fetch(ctx context.Context, workspaceID string) (*keySet, error) {
	rows, err := s.keys.SigningKeys(ctx, workspaceID)
	if err != nil {
		return nil, storeError(err)
	}
	set := &keySet{keys: make(map[string]*cachedKey, len(rows)), stored: len(rows)}
	doc := struct {
		Keys []ecJWK `json:"keys"`
	}{Keys: []ecJWK{}}
	for i := range rows {
		row := &rows[i]
		if row.WorkspaceID != workspaceID {
			return nil, ports.Internal(fmt.Errorf("jwks: store returned key %s of another workspace", row.KID))
		}
		if !published(row.State) || set.keys[row.KID] != nil {
			continue
		}
		key, jwk, err := s.parseKey(row)
		if err != nil {
			return nil, ports.Internal(fmt.Errorf("jwks: signing key %s of workspace %s: %w", row.KID, workspaceID, err))
		}
		set.keys[key.kid] = key
		doc.Keys = append(doc.Keys, jwk)
		if row.State == StateActive && (set.active == nil || activeSince(row).After(set.activeSince)) {
			set.active, set.activeSince = key, activeSince(row)
		}
	}
	if set.jwks, err = json.Marshal(doc); err != nil {
		return nil, ports.Internal(err)
	}
	return set, nil
}

// activeSince is when a key became active, or its creation time if that is unknown.
func activeSince(k *ports.SigningKey) time.Time {
	if k.ActivatedAt != nil {
		return *k.ActivatedAt
	}
	return k.CreatedAt
}

// parseKey turns a stored key into a cachedKey with its JWK.
func (s *Signer) parseKey(row *ports.SigningKey) (*cachedKey, ecJWK, error) {
	if row.Algorithm != AlgES256 {
		return nil, ecJWK{}, fmt.Errorf("unsupported algorithm %q", row.Algorithm)
	}
	jwk, pub, err := parsePublicJWK(row.PublicJWK, row.KID)
	if err != nil {
		return nil, ecJWK{}, err
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{row.Algorithm}),
		jwt.WithIssuer(ports.IssuerURL(s.publicURL, row.WorkspaceID)),
		jwt.WithTimeFunc(s.clock.Now),
		jwt.WithLeeway(0),
		jwt.WithStrictDecoding(),
	}
	return &cachedKey{
		kid:         row.KID,
		workspaceID: row.WorkspaceID,
		alg:         row.Algorithm,
		method:      jwt.SigningMethodES256,
		public:      pub,
		parser:      jwt.NewParser(opts...),
		validator:   jwt.NewValidator(opts...),
		sealed:      row.PrivateKeyEncrypted,
	}, jwk, nil
}

// storeError passes ports errors through and wraps anything else as EINTERNAL.
func storeError(err error) error {
	var pe *ports.Error
	if errors.As(err, &pe) {
		return err
	}
	return ports.Internal(err)
}
