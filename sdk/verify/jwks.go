package verify

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"log/slog"
	"math/big"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// key is one usable public key of the issuer's JWKS, pinned to its algorithm.
type key struct {
	kid, alg string
	ec       *ecdsa.PublicKey
	ed       ed25519.PublicKey
	rsa      *rsa.PublicKey
}

// verify checks sig over input with SHA-256 (ES256, RS256) or Ed25519 (EdDSA).
func (k *key) verify(input, sig []byte) bool {
	switch k.alg {
	case "ES256":
		if len(sig) != 64 {
			return false
		}
		h := sha256.Sum256(input)
		var der [72]byte
		return ecdsa.VerifyASN1(k.ec, h[:], derSignature(der[:0], sig))
	case "EdDSA":
		return ed25519.Verify(k.ed, input, sig)
	case "RS256":
		h := sha256.Sum256(input)
		return rsa.VerifyPKCS1v15(k.rsa, crypto.SHA256, h[:], sig) == nil
	}
	return false
}

// derSignature converts a JWS ECDSA signature r||s into the ASN.1 form crypto/ecdsa reads.
func derSignature(dst, rs []byte) []byte {
	half := len(rs) / 2
	r, s := derInt(rs[:half]), derInt(rs[half:])
	dst = append(dst, 0x30, byte(len(r)+len(s)+4), 0x02, byte(len(r)))
	if len(r) > 0 && r[0]&0x80 != 0 {
		dst[1]++
		dst[3]++
		dst = append(dst, 0)
	}
	dst = append(dst, r...)
	lenAt := len(dst) + 1
	dst = append(dst, 0x02, byte(len(s)))
	if len(s) > 0 && s[0]&0x80 != 0 {
		dst[1]++
		dst[lenAt]++
		dst = append(dst, 0)
	}
	return append(dst, s...)
}

func derInt(b []byte) []byte {
	for len(b) > 1 && b[0] == 0 {
		b = b[1:]
	}
	return b
}

func (k *key) equal(o *key) bool {
	if k.alg != o.alg {
		return false
	}
	switch k.alg {
	case "ES256":
		return k.ec.Equal(o.ec)
	case "EdDSA":
		return k.ed.Equal(o.ed)
	default:
		return k.rsa.Equal(o.rsa)
	}
}

// jwk is one member of a JWKS document.
type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	N   string `json:"n"`
	E   string `json:"e"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

// parseKey returns the usable key j describes, or nil and why it is ignored.
func parseKey(j jwk) (*key, string) {
	if j.Kid == "" {
		return nil, "no kid"
	}
	if j.Use != "" && j.Use != "sig" {
		return nil, "use is not sig"
	}
	dec := func(s string) []byte {
		b, err := b64.DecodeString(s)
		if err != nil {
			return nil
		}
		return b
	}
	k := &key{kid: j.Kid, alg: j.Alg}
	switch {
	case j.Alg == "ES256" && j.Kty == "EC" && j.Crv == "P-256":
		x, y := dec(j.X), dec(j.Y)
		if len(x) != 32 || len(y) != 32 {
			return nil, "bad EC coordinates"
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		if err != nil {
			return nil, "EC point not on P-256"
		}
		k.ec = pub
	case j.Alg == "EdDSA" && j.Kty == "OKP" && j.Crv == "Ed25519":
		x := dec(j.X)
		if len(x) != ed25519.PublicKeySize {
			return nil, "bad Ed25519 key"
		}
		k.ed = ed25519.PublicKey(x)
	case j.Alg == "RS256" && j.Kty == "RSA":
		n, e := dec(j.N), dec(j.E)
		if len(n) == 0 || n[0] == 0 || len(e) == 0 || len(e) > 4 {
			return nil, "bad RSA key"
		}
		nn := new(big.Int).SetBytes(n)
		ee := int(new(big.Int).SetBytes(e).Int64())
		if nn.BitLen() < 2048 || ee < 3 || ee%2 == 0 {
			return nil, "weak or invalid RSA key"
		}
		k.rsa = &rsa.PublicKey{N: nn, E: ee}
	default:
		return nil, "alg missing, not allowed, or not matching kty/crv"
	}
	return k, ""
}

// keySet is one fetched JWKS: immutable once published.
type keySet struct {
	keys    map[string]*key
	expires time.Time
}

// parseKeySet reads a JWKS body, keeping the keys that are usable.
func parseKeySet(body []byte, log *slog.Logger) (map[string]*key, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.Keys == nil {
		return nil, errors.New("JWKS is not a JSON object with a keys array")
	}
	keys := make(map[string]*key, len(doc.Keys))
	for _, raw := range doc.Keys {
		var j jwk
		if err := json.Unmarshal(raw, &j); err != nil {
			log.Warn("verify: ignoring unreadable JWK")
			continue
		}
		k, why := parseKey(j)
		if k == nil {
			log.Debug("verify: ignoring JWK", "kid", j.Kid, "alg", j.Alg, "reason", why)
			continue
		}
		if _, dup := keys[k.kid]; dup {
			log.Warn("verify: ignoring JWK with duplicate kid", "kid", k.kid)
			continue
		}
		keys[k.kid] = k
	}
	return keys, nil
}

// maxAge reads the max-age of a Cache-Control header, def when it has none.
func maxAge(cacheControl string, def time.Duration) time.Duration {
	for _, d := range strings.Split(cacheControl, ",") {
		d = strings.ToLower(strings.TrimSpace(d))
		switch {
		case d == "no-store" || d == "no-cache":
			return 0
		case strings.HasPrefix(d, "max-age="):
			n, err := strconv.Atoi(strings.Trim(d[len("max-age="):], `"`))
			if err != nil || n < 0 {
				return def
			}
			return min(time.Duration(n)*time.Second, 24*time.Hour)
		}
	}
	return def
}

// keyStore holds the current key set and refreshes it: single-flight, with unknown-kid refreshes
// rate-limited, background refresh when the set is stale, and the old set kept when a refresh fails.
type keyStore struct {
	v   *Verifier
	set atomic.Pointer[keySet]

	mu          sync.Mutex
	inflight    chan struct{} // closed when the running refresh ends; nil when none runs
	again       bool          // refresh once more when the running one ends (a jwks event came in)
	bypass      bool          // ask intermediaries not to answer from their caches
	lastUnknown time.Time
	retryAt     time.Time
}

// lookup returns the key named kid, refreshing the set once (rate-limited) when kid is unknown.
func (s *keyStore) lookup(ctx context.Context, kid string, now time.Time) (*key, error) {
	ks := s.set.Load()
	s.refreshIfStale(ks, now)
	if k := ks.keys[kid]; k != nil {
		return k, nil
	}
	s.mu.Lock()
	done := s.inflight
	if done == nil && (s.lastUnknown.IsZero() || now.Sub(s.lastUnknown) >= s.v.cfg.refreshLimit) {
		s.lastUnknown = now
		s.bypass = true
		done = s.start()
	}
	s.mu.Unlock()
	if done != nil {
		select {
		case <-done:
		case <-ctx.Done():
			return nil, errors.Join(wrap(ErrUnknownKey, "kid %.64q", kid), ctx.Err())
		}
		if k := s.set.Load().keys[kid]; k != nil {
			return k, nil
		}
	}
	return nil, wrap(ErrUnknownKey, "kid %.64q", kid)
}

// current reports whether k is still in the published key set.
func (s *keyStore) current(k *key) bool {
	return s.set.Load().keys[k.kid] == k
}

func (s *keyStore) refreshIfStale(ks *keySet, now time.Time) {
	if now.Before(ks.expires) {
		return
	}
	s.mu.Lock()
	if s.inflight == nil && !now.Before(s.retryAt) {
		s.retryAt = now.Add(s.v.cfg.refreshLimit)
		s.start()
	}
	s.mu.Unlock()
}

// force refreshes the set now, bypassing caches and rate limits (a jwks event).
func (s *keyStore) force() {
	s.mu.Lock()
	s.bypass = true
	if s.inflight != nil {
		s.again = true
	} else {
		s.start()
	}
	s.mu.Unlock()
}

// start launches a refresh; s.mu must be held. It returns nil once the verifier is closed.
func (s *keyStore) start() chan struct{} {
	ch := make(chan struct{})
	if !s.v.goBackground(func(ctx context.Context) { s.run(ctx, ch) }) {
		return nil
	}
	s.inflight = ch
	return ch
}

func (s *keyStore) run(ctx context.Context, done chan struct{}) {
	for {
		s.mu.Lock()
		bypass := s.bypass
		s.bypass, s.again = false, false
		s.mu.Unlock()
		ks, err := s.v.fetchJWKS(ctx, bypass)
		if err == nil {
			s.install(ks)
		} else if ctx.Err() == nil {
			s.v.cfg.logger.Warn("verify: JWKS refresh failed; keeping the known keys", "err", err)
		}
		s.mu.Lock()
		if s.again && ctx.Err() == nil {
			s.mu.Unlock()
			continue
		}
		s.inflight = nil
		close(done)
		s.mu.Unlock()
		return
	}
}

// install publishes ks, keeping the identity of unchanged keys so cached values signed by them stay
// valid, and drops cached values of keys that disappeared or changed.
func (s *keyStore) install(ks *keySet) {
	old := s.set.Load()
	if old != nil {
		for kid, k := range ks.keys {
			if o := old.keys[kid]; o != nil && o.equal(k) {
				ks.keys[kid] = o
			}
		}
	}
	s.set.Store(ks)
	if old == nil {
		return
	}
	var removed []*key
	for kid, o := range old.keys {
		if ks.keys[kid] != o {
			removed = append(removed, o)
		}
	}
	if len(removed) > 0 {
		s.v.cache.dropKeys(removed)
		s.v.cfg.logger.Info("verify: signing keys removed from the JWKS", "count", len(removed))
	}
}
