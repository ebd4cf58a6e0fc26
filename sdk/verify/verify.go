package verify

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Verifier verifies Tooken access tokens offline against one issuer. It is safe for concurrent use.
type Verifier struct {
	cfg                         config
	issuer                      string
	jwksURI, feedURI, streamURI string

	keys      *keyStore
	cache     *valueCache
	revs      revocations
	lastHeard atomic.Int64 // unix nanos, on cfg.now's clock, of the last successful feed contact
	streamUp  atomic.Bool
	cursor    string // owned by the feed goroutine once New has returned

	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

// discovery is the part of the issuer's OpenID configuration the verifier uses.
type discovery struct {
	Issuer    string `json:"issuer"`
	JWKSURI   string `json:"jwks_uri"`
	FeedURI   string `json:"revocation_feed_uri"`
	StreamURI string `json:"revocation_stream_uri"`
}

// New returns a Verifier for issuerURL ({public_url}/w/{workspace_id}). It fetches the discovery
// document and the JWKS and reads the revocation feed to its end, failing if any of them cannot be
// fetched; then it follows the revocation stream in the background (polling the feed while the
// stream is down) until Close. ctx bounds the start-up only.
func New(ctx context.Context, issuerURL string, opts ...Option) (*Verifier, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	base, err := url.Parse(issuerURL)
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return nil, fmt.Errorf("verify: issuer URL %q is not an absolute http(s) URL", issuerURL)
	}
	v := &Verifier{cfg: cfg, issuer: issuerURL, cache: newValueCache(cfg.cacheSize)}
	v.keys = &keyStore{v: v}
	v.ctx, v.cancel = context.WithCancel(context.WithoutCancel(ctx))
	if err := v.start(ctx, base); err != nil {
		v.Close()
		return nil, fmt.Errorf("verify: %w", err)
	}
	return v, nil
}

func (v *Verifier) start(ctx context.Context, base *url.URL) error {
	discURL := strings.TrimSuffix(v.issuer, "/") + "/.well-known/openid-configuration"
	var d discovery
	if _, err := v.getJSON(ctx, discURL, false, 1<<20, &d); err != nil {
		return fmt.Errorf("discovery: %w", err)
	}
	if d.Issuer != v.issuer {
		return fmt.Errorf("discovery: issuer is %q, want %q", d.Issuer, v.issuer)
	}
	resolve := func(s string) string {
		if s == "" {
			return ""
		}
		u, err := base.Parse(s)
		if err != nil {
			return ""
		}
		return u.String()
	}
	if v.jwksURI = resolve(d.JWKSURI); v.jwksURI == "" {
		return errors.New("discovery: no usable jwks_uri")
	}
	ks, err := v.fetchJWKS(ctx, false)
	if err != nil {
		return err
	}
	if len(ks.keys) == 0 {
		return errors.New("JWKS: no usable signing key")
	}
	v.keys.install(ks)
	if v.cfg.noFeed {
		return nil
	}
	if v.feedURI = resolve(d.FeedURI); v.feedURI == "" {
		return errors.New("discovery: no revocation_feed_uri (use WithoutRevocationFeed to verify without revocation)")
	}
	v.streamURI = resolve(d.StreamURI)
	if err := v.fetchFeed(ctx); err != nil {
		return fmt.Errorf("revocation feed: %w", err)
	}
	v.goBackground(v.follow)
	return nil
}

// Close stops the background work and waits for it to end. Verify keeps working afterwards with the
// keys and revocations known at that moment, but nothing is refreshed any more.
func (v *Verifier) Close() error {
	v.mu.Lock()
	v.closed = true
	v.mu.Unlock()
	v.cancel()
	v.wg.Wait()
	return nil
}

// goBackground runs fn in a goroutine that Close waits for; false once the Verifier is closed.
func (v *Verifier) goBackground(fn func(ctx context.Context)) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		return false
	}
	v.wg.Add(1)
	go func() {
		defer v.wg.Done()
		fn(v.ctx)
	}()
	return true
}

// Verify checks token and returns its claims: header (alg pinned by the key, typ at+jwt), key by
// kid, signature, iss, aud (when configured), exp/nbf/iat with the leeway, revocation and feed
// staleness, in that order. A value verified before skips the signature check; the time, revocation
// and staleness checks run on every call. Errors wrap the Err* values of this package.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	if len(token) == 0 || len(token) > maxTokenLen {
		return nil, wrap(ErrMalformed, "empty or longer than %d bytes", maxTokenLen)
	}
	if !compactChars(token) {
		return nil, wrap(ErrMalformed, "holds a character outside base64url and '.'")
	}
	now := v.cfg.now()
	b := []byte(token)
	h := sha256.Sum256(b)
	e, hit := v.cache.get(&h)
	if ks := v.keys.set.Load(); hit && ks.keys[e.key.kid] == e.key {
		v.keys.refreshIfStale(ks, now)
	} else {
		var err error
		if e, err = v.verifyValue(ctx, b, now); err != nil {
			return nil, err
		}
		v.cache.put(&h, e)
	}
	if err := v.checkLive(e.claims, now); err != nil {
		return nil, err
	}
	c := *e.claims
	return &c, nil
}

// verifyValue does the checks whose outcome cannot change while the key stays published.
func (v *Verifier) verifyValue(ctx context.Context, b []byte, now time.Time) (cacheEntry, error) {
	dot1, dot2, ok := splitToken(b)
	if !ok {
		return cacheEntry{}, wrap(ErrMalformed, "not a compact JWS")
	}
	hdr, err := parseHeader(b[:dot1])
	if err != nil {
		return cacheEntry{}, err
	}
	switch {
	case hdr.alg != "ES256" && hdr.alg != "EdDSA" && hdr.alg != "RS256":
		return cacheEntry{}, wrap(ErrAlgorithm, "%.32q", hdr.alg)
	case !typOK(hdr.typ):
		return cacheEntry{}, wrap(ErrWrongType, "typ %.32q", hdr.typ)
	case hdr.crit:
		return cacheEntry{}, wrap(ErrMalformed, "crit header not supported")
	case hdr.kid == "":
		return cacheEntry{}, wrap(ErrMalformed, "no kid")
	}
	k, err := v.keys.lookup(ctx, hdr.kid, now)
	if err != nil {
		return cacheEntry{}, err
	}
	if k.alg != hdr.alg {
		return cacheEntry{}, wrap(ErrAlgorithm, "token alg %s, key alg %s", hdr.alg, k.alg)
	}
	var sig [512]byte
	sigSeg := b[dot2+1:]
	if b64.DecodedLen(len(sigSeg)) > len(sig) {
		return cacheEntry{}, wrap(ErrMalformed, "signature too long")
	}
	n, err := b64.Decode(sig[:], sigSeg)
	if err != nil {
		return cacheEntry{}, wrap(ErrMalformed, "signature is not base64url")
	}
	if !k.verify(b[:dot2], sig[:n]) {
		return cacheEntry{}, ErrBadSignature
	}
	rc, err := parsePayload(b[dot1+1 : dot2])
	if err != nil {
		return cacheEntry{}, err
	}
	switch {
	case rc.iss != v.issuer:
		return cacheEntry{}, wrap(ErrWrongIssuer, "iss %.200q", rc.iss)
	case rc.jti == "" || rc.sub == "":
		return cacheEntry{}, wrap(ErrMalformed, "missing jti or sub")
	case rc.clientID != "" && rc.clientID != rc.sub:
		return cacheEntry{}, wrap(ErrMalformed, "client_id differs from sub")
	case len(v.cfg.audience) > 0 && !slices.ContainsFunc(rc.aud, func(a string) bool {
		return slices.Contains(v.cfg.audience, a)
	}):
		return cacheEntry{}, ErrWrongAudience
	}
	return cacheEntry{claims: rc.claims(hdr.kid), key: k}, nil
}

// checkLive does the checks that can change from one call to the next.
func (v *Verifier) checkLive(c *Claims, now time.Time) error {
	l := v.cfg.leeway
	switch {
	case c.ExpiresAt != nil && !now.Before(c.ExpiresAt.Add(l)):
		return ErrExpired
	case now.Add(l).Before(c.NotBefore) || now.Add(l).Before(c.IssuedAt):
		return ErrNotYetValid
	case v.cfg.noFeed:
		return nil
	case v.revs.revoked(c.JTI, now):
		return ErrRevoked
	case v.stale(now):
		return ErrStaleFeed
	}
	return nil
}

// fetchJWKS fetches and parses the JWKS; its expiry follows the response's Cache-Control.
func (v *Verifier) fetchJWKS(ctx context.Context, bypassCache bool) (*keySet, error) {
	started := v.cfg.now()
	body, hdr, err := v.get(ctx, v.jwksURI, bypassCache, 1<<20)
	if err != nil {
		return nil, fmt.Errorf("JWKS: %w", err)
	}
	keys, err := parseKeySet(body, v.cfg.logger)
	if err != nil {
		return nil, err
	}
	return &keySet{keys: keys, expires: started.Add(maxAge(hdr.Get("Cache-Control"), v.cfg.defaultMaxAge))}, nil
}

func (v *Verifier) getJSON(ctx context.Context, u string, bypassCache bool, limit int64, out any) (http.Header, error) {
	body, hdr, err := v.get(ctx, u, bypassCache, limit)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(body, out); err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	return hdr, nil
}

func (v *Verifier) get(ctx context.Context, u string, bypassCache bool, limit int64) ([]byte, http.Header, error) {
	ctx, cancel := context.WithTimeout(ctx, v.cfg.fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", "application/json")
	if bypassCache {
		req.Header.Set("Cache-Control", "no-cache")
	}
	resp, err := v.cfg.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	switch {
	case err != nil:
		return nil, nil, fmt.Errorf("GET %s: %w", u, err)
	case resp.StatusCode != http.StatusOK:
		return nil, nil, fmt.Errorf("GET %s: HTTP %d", u, resp.StatusCode)
	case int64(len(body)) > limit:
		return nil, nil, fmt.Errorf("GET %s: response larger than %d bytes", u, limit)
	}
	return body, resp.Header, nil
}
