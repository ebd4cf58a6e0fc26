package jwks

import (
	"context"
	"crypto"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tooken/tooken/ports"
)

// keySet is the cached view of one workspace's signing keys: every stored key, parsed once. Which
// of them are published and which one signs is derived from their times at each call (see
// ports.KeyStates), so a pending key starts signing when its ActivatesAt comes, without a reload.
type keySet struct {
	rows []ports.SigningKey    // as stored, newest (by CreatedAt) first; never modified
	keys map[string]*cachedKey // every stored key by kid
	doc  atomic.Pointer[jwksDoc]
}

// jwksDoc is a JWKS document built for one set of published keys.
type jwksDoc struct {
	kids []string // the published kids it holds, in order
	body []byte
	algs []string
}

// cachedKey is a stored key, parsed once. Its private half is decrypted on first use for signing.
type cachedKey struct {
	kid         string
	workspaceID string
	alg         *algorithm
	public      crypto.PublicKey
	jwk         jwk
	parser      *jwt.Parser
	validator   *jwt.Validator
	// header is the token header's encoded segment, the same for every token the key signs.
	header string
	// err is why the stored key is unusable; such a key never verifies or signs, and a workspace
	// that would publish it fails with EINTERNAL.
	err error

	sealed     []byte
	once       sync.Once
	private    crypto.Signer
	privateErr error
}

// privateKey decrypts the private half once.
func (k *cachedKey) privateKey(aead cipher.AEAD) (crypto.Signer, error) {
	k.once.Do(func() {
		k.private, k.privateErr = decryptPrivateKey(aead, k.workspaceID, k.kid, k.sealed, k.alg, k.public)
		k.sealed = nil
	})
	return k.private, k.privateErr
}

// published returns the key kid if it is published at now (pending, active or retiring); nil if it
// is unknown, retired or revoked.
func (set *keySet) published(kid string, now time.Time) *cachedKey {
	key := set.keys[kid]
	if key == nil || !ports.Published(ports.KeyStates(set.rows, now)[kid]) {
		return nil
	}
	return key
}

// active returns the key that signs at now; nil if none.
func (set *keySet) active(now time.Time) *cachedKey {
	if k := ports.ActiveKey(set.rows, now); k != nil {
		return set.keys[k.KID]
	}
	return nil
}

// jwks returns the JWKS document of the keys published at now, newest first, building it only when
// that set changed since the last call.
func (set *keySet) jwks(now time.Time) (*jwksDoc, error) {
	states := ports.KeyStates(set.rows, now)
	kids := make([]string, 0, len(set.rows))
	for i := range set.rows {
		if kid := set.rows[i].KID; ports.Published(states[kid]) {
			kids = append(kids, kid)
		}
	}
	if d := set.doc.Load(); d != nil && slices.Equal(d.kids, kids) {
		return d, nil
	}
	d := &jwksDoc{kids: kids, algs: []string{}}
	body := struct {
		Keys []jwk `json:"keys"`
	}{Keys: make([]jwk, 0, len(kids))}
	used := map[string]bool{}
	for _, kid := range kids {
		key := set.keys[kid]
		if key.err != nil {
			return nil, ports.Internal(key.err)
		}
		body.Keys = append(body.Keys, key.jwk)
		used[key.alg.name] = true
	}
	for _, alg := range ports.SigningAlgorithms {
		if used[alg] {
			d.algs = append(d.algs, alg)
		}
	}
	var err error
	if d.body, err = json.Marshal(body); err != nil {
		return nil, ports.Internal(err)
	}
	set.doc.Store(d)
	return d, nil
}

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
		if s.epoch == epoch && len(set.rows) > 0 {
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

// reload drops set from the cache if it is still the workspace's entry and loads the keys again.
func (s *Signer) reload(ctx context.Context, workspaceID string, set *keySet) (*keySet, error) {
	s.mu.Lock()
	if s.sets[workspaceID] == set {
		delete(s.sets, workspaceID)
		s.epoch++
	}
	s.mu.Unlock()
	set, _, err := s.keySet(ctx, workspaceID)
	return set, err
}

// Forget drops the cached keys of a workspace, or of every workspace when workspaceID is empty; the
// next use reloads them from the store. It is called after a signing-key change on any replica.
// Loads in flight when it is called are not cached.
func (s *Signer) Forget(workspaceID string) {
	s.mu.Lock()
	if workspaceID == "" {
		clear(s.sets)
	} else {
		delete(s.sets, workspaceID)
	}
	s.epoch++
	s.mu.Unlock()
}

// fetch reads and parses the workspace's keys from the store. A key that does not parse is kept,
// marked unusable, so that one bad retired key does not take its workspace down.
func (s *Signer) fetch(ctx context.Context, workspaceID string) (*keySet, error) {
	rows, err := s.keys.SigningKeys(ctx, workspaceID)
	if err != nil {
		return nil, storeError(err)
	}
	set := &keySet{keys: make(map[string]*cachedKey, len(rows))}
	for i := range rows {
		row := &rows[i]
		if row.WorkspaceID != workspaceID {
			return nil, ports.Internal(fmt.Errorf("jwks: store returned key %s of another workspace", row.KID))
		}
		if set.keys[row.KID] != nil {
			continue
		}
		set.keys[row.KID] = s.parseKey(row)
		set.rows = append(set.rows, *row)
	}
	slices.SortStableFunc(set.rows, func(a, b ports.SigningKey) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return set, nil
}

// parseKey turns a stored key into a cachedKey whose parser pins the key's algorithm.
func (s *Signer) parseKey(row *ports.SigningKey) *cachedKey {
	key := &cachedKey{kid: row.KID, workspaceID: row.WorkspaceID}
	fail := func(err error) *cachedKey {
		key.err = fmt.Errorf("jwks: signing key %s of workspace %s: %w", row.KID, row.WorkspaceID, err)
		return key
	}
	a := algorithms[row.Algorithm]
	if a == nil {
		return fail(errors.New("unsupported algorithm"))
	}
	j, pub, err := parsePublicJWK(a, row.PublicJWK, row.KID)
	if err != nil {
		return fail(err)
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{a.name}),
		jwt.WithIssuer(ports.IssuerURL(s.publicURL, row.WorkspaceID)),
		jwt.WithTimeFunc(s.clock.Now),
		jwt.WithLeeway(0),
		jwt.WithStrictDecoding(),
	}
	h, err := json.Marshal(map[string]string{"alg": a.name, "kid": row.KID, "typ": TokenType})
	if err != nil {
		return fail(err)
	}
	key.alg, key.public, key.jwk, key.header = a, pub, j, base64.RawURLEncoding.EncodeToString(h)
	key.parser, key.validator = jwt.NewParser(opts...), jwt.NewValidator(opts...)
	key.sealed = row.PrivateKeyEncrypted
	return key
}

// storeError passes ports errors through and wraps anything else as EINTERNAL.
func storeError(err error) error {
	var pe *ports.Error
	if errors.As(err, &pe) {
		return err
	}
	return ports.Internal(err)
}
