// Package jwks implements ports.Signer: per-workspace ES256 signing keys whose private halves are
// encrypted at rest under the installation master key (AES-256-GCM), RFC 9068 access-token JWTs
// signed and verified with golang-jwt, and the JWKS documents that publish the keys.
//
// Parsed public keys and decrypted private keys are cached in memory per workspace, so signing and
// verifying for a known workspace never touch the store. An unknown kid reloads the workspace's keys
// once; Forget drops a workspace's entry after its keys change.
package jwks

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
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

// NewSigningKey generates an active ES256 key for the workspace, its private half encrypted under
// the master key and bound to its kid and workspace. The key is not stored.
func (s *Signer) NewSigningKey(_ context.Context, workspaceID string) (*ports.SigningKey, error) {
	if workspaceID == "" {
		return nil, ports.Internal(errors.New("jwks: NewSigningKey needs a workspace id"))
	}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, ports.Internal(err)
	}
	kid := newKID()
	jwk, err := publicJWK(&priv.PublicKey, kid)
	if err != nil {
		return nil, ports.Internal(err)
	}
	pub, err := json.Marshal(jwk)
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
		Algorithm:           AlgES256,
		State:               StateActive,
		PublicJWK:           pub,
		PrivateKeyEncrypted: sealed,
		CreatedAt:           now,
		ActivatedAt:         &now,
	}, nil
}

// Sign returns the compact JWT of c signed with the workspace's newest active key. An empty Issuer
// defaults to the workspace's issuer URL; any other issuer is refused, since it could never verify;
// zero IssuedAt and NotBefore default to now.
func (s *Signer) Sign(ctx context.Context, c ports.Claims) (string, error) {
	if c.WorkspaceID == "" || c.Subject == "" || c.JTI == "" {
		return "", ports.Internal(errors.New("jwks: Sign needs a workspace id, a subject and a jti"))
	}
	iss := ports.IssuerURL(s.publicURL, c.WorkspaceID)
	if c.Issuer != "" && c.Issuer != iss {
		return "", ports.Internal(errors.New("jwks: Sign was given an issuer other than the workspace's"))
	}
	set, _, err := s.keySet(ctx, c.WorkspaceID)
	if err != nil {
		return "", err
	}
	if set.active == nil {
		return "", ports.Internal(fmt.Errorf("jwks: workspace %s has no active signing key", c.WorkspaceID))
	}
	key := set.active
	priv, err := key.privateKey(s.aead)
	if err != nil {
		return "", ports.Internal(fmt.Errorf("jwks: signing key %s: %w", key.kid, err))
	}

	iat := c.IssuedAt
	if iat.IsZero() {
		iat = s.clock.Now()
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
	tok := &jwt.Token{
		Header: map[string]any{"alg": key.alg, "kid": key.kid, "typ": TokenType},
		Claims: claims,
		Method: key.method,
	}
	value, err := tok.SignedString(priv)
	if err != nil {
		return "", ports.Internal(fmt.Errorf("jwks: signing with key %s: %w", key.kid, err))
	}
	return value, nil
}

// JWKS returns the workspace's JSON Web Key Set: {"keys":[…]} with every published key. It returns
// ENOTFOUND if the workspace has no keys.
func (s *Signer) JWKS(ctx context.Context, workspaceID string) ([]byte, error) {
	if !validID(workspaceID) {
		return nil, ports.Errorf(ports.ENOTFOUND, "Workspace not found")
	}
	set, _, err := s.keySet(ctx, workspaceID)
	if err != nil {
		return nil, err
	}
	if set.stored == 0 {
		return nil, ports.Errorf(ports.ENOTFOUND, "Workspace not found")
	}
	return append([]byte(nil), set.jwks...), nil
}
