// Package jwks implements ports.Signer: per-workspace signing keys (ES256 on P-256, EdDSA on
// Ed25519, RS256 with RSA 2048) whose private halves are encrypted at rest under the installation
// master key (AES-256-GCM), RFC 9068 access-token JWTs signed and verified with golang-jwt, the
// algorithm pinned per key, and the JWKS documents that publish the keys.
//
// Parsed public keys and decrypted private keys are cached in memory per workspace, so signing and
// verifying for a known workspace never touch the store. Key states are derived from the cached
// keys' times at every call (a pending key starts signing when its time comes, without a reload).
// An unknown kid reloads the workspace's keys once; Forget drops a workspace's entry after its keys
// change.
package jwks

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/sync/singleflight"

	"github.com/tooken/tooken/ports"
)

// MasterKeySize is the size in bytes of the master key (AES-256).
const MasterKeySize = 32

// TokenType is the typ header of every token value (RFC 9068).
const TokenType = "at+jwt"

// Signer implements ports.Signer. It is safe for concurrent use.
type Signer struct {
	keys      ports.SigningKeyStore
	aead      cipher.AEAD
	publicURL string
	clock     ports.Clock

	mu    sync.RWMutex
	sets  map[string]*keySet
	epoch uint64 // bumped by every invalidation, so loads that raced with one are not cached
	loads singleflight.Group
}

var _ ports.Signer = (*Signer)(nil)

// New returns a Signer that reads keys from keys, encrypts and decrypts private keys with the 32-byte
// masterKey, issues tokens for ports.IssuerURL(publicURL, workspaceID) and tells the time with clock.
func New(keys ports.SigningKeyStore, masterKey []byte, publicURL string, clock ports.Clock) (*Signer, error) {
	switch {
	case keys == nil:
		return nil, errors.New("jwks: a signing key store is required")
	case clock == nil:
		return nil, errors.New("jwks: a clock is required")
	case publicURL == "":
		return nil, errors.New("jwks: a public URL is required")
	case len(masterKey) != MasterKeySize:
		return nil, fmt.Errorf("jwks: the master key must be %d bytes, got %d", MasterKeySize, len(masterKey))
	}
	block, err := aes.NewCipher(masterKey)
	if err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	return &Signer{keys: keys, aead: aead, publicURL: publicURL, clock: clock, sets: map[string]*keySet{}}, nil
}

// NewSigningKey generates a key of the given algorithm (ES256, EdDSA or RS256; EINVALID otherwise)
// for the workspace, its private half encrypted under the master key and bound to its kid and
// workspace, with CreatedAt = ActivatesAt = now. The key is not stored.
func (s *Signer) NewSigningKey(_ context.Context, workspaceID, algorithm string) (*ports.SigningKey, error) {
	a, err := lookupAlgorithm(algorithm)
	if err != nil {
		return nil, err
	}
	if workspaceID == "" {
		return nil, ports.Internal(errors.New("jwks: NewSigningKey needs a workspace id"))
	}
	priv, err := a.generate()
	if err != nil {
		return nil, ports.Internal(err)
	}
	kid := newKID()
	j, err := publicJWK(a, priv.Public(), kid)
	if err != nil {
		return nil, ports.Internal(err)
	}
	pub, err := json.Marshal(j)
	if err != nil {
		return nil, ports.Internal(err)
	}
	sealed, err := encryptPrivateKey(s.aead, workspaceID, kid, priv)
	if err != nil {
		return nil, ports.Internal(err)
	}
	now := s.clock.Now()
	return &ports.SigningKey{
		KID:                 kid,
		WorkspaceID:         workspaceID,
		Algorithm:           a.name,
		PublicJWK:           pub,
		PrivateKeyEncrypted: sealed,
		CreatedAt:           now,
		ActivatesAt:         now,
	}, nil
}

// Sign returns the compact JWT of c signed with the workspace's active key at now (see
// ports.ActiveKey), and that key's kid. An empty Issuer defaults to the workspace's issuer URL; any
// other issuer is refused, since it could never verify; zero IssuedAt and NotBefore default to now.
// A workspace without an active key is an internal error (after one reload, in case its keys
// changed on another replica).
func (s *Signer) Sign(ctx context.Context, c ports.Claims) (value, kid string, err error) {
	if c.WorkspaceID == "" || c.Subject == "" || c.JTI == "" {
		return "", "", ports.Internal(errors.New("jwks: Sign needs a workspace id, a subject and a jti"))
	}
	iss := ports.IssuerURL(s.publicURL, c.WorkspaceID)
	if c.Issuer != "" && c.Issuer != iss {
		return "", "", ports.Internal(errors.New("jwks: Sign was given an issuer other than the workspace's"))
	}
	set, loaded, err := s.keySet(ctx, c.WorkspaceID)
	if err != nil {
		return "", "", err
	}
	now := s.clock.Now()
	key := set.active(now)
	if key == nil && !loaded {
		if set, err = s.reload(ctx, c.WorkspaceID, set); err != nil {
			return "", "", err
		}
		key = set.active(now)
	}
	if key == nil {
		return "", "", ports.Internal(fmt.Errorf("jwks: workspace %s has no active signing key", c.WorkspaceID))
	}
	if key.err != nil {
		return "", "", ports.Internal(key.err)
	}
	priv, err := key.privateKey(s.aead)
	if err != nil {
		return "", "", ports.Internal(fmt.Errorf("jwks: signing key %s: %w", key.kid, err))
	}

	iat := c.IssuedAt
	if iat.IsZero() {
		iat = now
	}
	nbf := c.NotBefore
	if nbf.IsZero() {
		nbf = iat
	}
	claims := &accessClaims{
		Issuer:    iss,
		Subject:   c.Subject,
		ClientID:  c.Subject,
		Audience:  audience(c.Audience),
		JTI:       c.JTI,
		IssuedAt:  jwt.NewNumericDate(iat),
		NotBefore: jwt.NewNumericDate(nbf),
		Scope:     scopeString(c.Scopes),
		WID:       c.WorkspaceID,
	}
	if c.ExpiresAt != nil {
		claims.ExpiresAt = jwt.NewNumericDate(*c.ExpiresAt)
	}
	body, err := json.Marshal(claims)
	if err != nil {
		return "", "", ports.Internal(fmt.Errorf("jwks: encoding the claims: %w", err))
	}
	// What jwt.Token.SignedString does, with the key's header encoded once rather than per token.
	signing := key.header + "." + base64.RawURLEncoding.EncodeToString(body)
	sig, err := key.alg.method.Sign(signing, priv)
	if err != nil {
		return "", "", ports.Internal(fmt.Errorf("jwks: signing with key %s: %w", key.kid, err))
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), key.kid, nil
}

// JWKS returns the workspace's JSON Web Key Set, {"keys":[…]} with the keys published at now
// (pending, active and retiring), newest first, and the distinct algorithms they use in the order
// of ports.SigningAlgorithms. It returns ENOTFOUND if the workspace has no keys at all.
func (s *Signer) JWKS(ctx context.Context, workspaceID string) (doc []byte, algs []string, err error) {
	if !validID(workspaceID) {
		return nil, nil, ports.Errorf(ports.ENOTFOUND, "Workspace not found")
	}
	set, _, err := s.keySet(ctx, workspaceID)
	if err != nil {
		return nil, nil, err
	}
	if len(set.rows) == 0 {
		return nil, nil, ports.Errorf(ports.ENOTFOUND, "Workspace not found")
	}
	d, err := set.jwks(s.clock.Now())
	if err != nil {
		return nil, nil, err
	}
	return slices.Clone(d.body), slices.Clone(d.algs), nil
}
