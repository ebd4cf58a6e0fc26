package e2e

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
)

// discovery is the issuer metadata document.
type discovery struct {
	Issuer     string   `json:"issuer"`
	JWKSURI    string   `json:"jwks_uri"`
	Algorithms []string `json:"token_signing_alg_values_supported"`
}

// fetchJWKS follows discovery to the workspace's key set, as an independent verifier would: no
// credential, only the public documents.
func (s *server) fetchJWKS(t *testing.T, workspaceID string) (discovery, jose.JSONWebKeySet) {
	t.Helper()
	var d discovery
	r := s.do(t, "GET", "/w/"+workspaceID+"/.well-known/openid-configuration", "", nil).want(t, http.StatusOK)
	r.decode(t, &d)
	if d.Issuer != s.URL+"/w/"+workspaceID || !slices.Contains(d.Algorithms, "ES256") {
		t.Fatalf("discovery = %+v, want issuer %s/w/%s and ES256", d, s.URL, workspaceID)
	}
	u, err := url.Parse(d.JWKSURI)
	if err != nil || !strings.HasPrefix(d.JWKSURI, s.URL+"/") {
		t.Fatalf("jwks_uri %q is not a URL of this server (%v)", d.JWKSURI, err)
	}
	r = s.do(t, "GET", u.RequestURI(), "", nil).want(t, http.StatusOK)
	if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "public") || !strings.Contains(cc, "max-age=") {
		t.Errorf("JWKS Cache-Control = %q, want public with a max-age", cc)
	}
	var set jose.JSONWebKeySet
	r.decode(t, &set)
	if len(set.Keys) == 0 {
		t.Fatalf("the JWKS has no keys: %s", r.Body)
	}
	for _, k := range set.Keys {
		if !k.Valid() || !k.IsPublic() || k.Algorithm != "ES256" || k.Use != "sig" || k.KeyID == "" {
			t.Errorf("published JWK %+v: want a valid public ES256 signing key with a kid", k)
		}
	}
	return d, set
}

// accessClaims are the claims Tooken adds to the registered ones.
type accessClaims struct {
	ClientID string `json:"client_id"`
	Scope    string `json:"scope"`
	WID      string `json:"wid"`
}

// verifyWithGoJose verifies value against set with go-jose only (ES256 pinned), returning its claims.
func verifyWithGoJose(t *testing.T, value string, set jose.JSONWebKeySet) (jose.Header, josejwt.Claims, accessClaims, error) {
	t.Helper()
	tok, err := josejwt.ParseSigned(value, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return jose.Header{}, josejwt.Claims{}, accessClaims{}, err
	}
	h := tok.Headers[0]
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		return h, josejwt.Claims{}, accessClaims{}, errUnknownKID
	}
	var std josejwt.Claims
	var extra accessClaims
	err = tok.Claims(keys[0].Key, &std, &extra)
	return h, std, extra, err
}

var errUnknownKID = errors.New("kid not in the JWKS")

// TestTokenVerifiesWithTheDiscoveredJWKSUsingGoJose verifies issued values with go-jose, an
// independent JOSE library, against keys found only through the public discovery document: the
// signature, the at+jwt header, the kid, and every claim (iss, sub, client_id, aud, jti, iat, nbf, exp,
// scope, wid). A rotated value verifies too, with a new jti; another workspace's keys do not verify it.
func TestTokenVerifiesWithTheDiscoveredJWKSUsingGoJose(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ws := s.bootstrap(t, "Acme")
	other := s.bootstrap(t, "Globex")
	exp := t0.Add(24 * time.Hour)
	tok := s.createToken(t, ws.APIKey, map[string]any{"name": "orders", "scopes": []string{"tokens:read", "audit:read"},
		"expires_at": rfc3339(exp)})

	d, set := s.fetchJWKS(t, ws.ID)
	h, std, extra, err := verifyWithGoJose(t, tok.Token, set)
	if err != nil {
		t.Fatalf("go-jose does not verify the token with the published JWKS: %v", err)
	}
	if h.Algorithm != "ES256" || h.ExtraHeaders["typ"] != "at+jwt" || h.KeyID == "" {
		t.Errorf("header = alg %q typ %v kid %q, want ES256, at+jwt and a kid", h.Algorithm, h.ExtraHeaders["typ"], h.KeyID)
	}
	err = std.ValidateWithLeeway(josejwt.Expected{
		Issuer: d.Issuer, Subject: tok.ID, AnyAudience: josejwt.Audience{ws.ID}, Time: s.Clock.Now(),
	}, 0)
	if err != nil {
		t.Errorf("go-jose claim validation: %v (claims %+v)", err, std)
	}
	if std.ID == "" || std.IssuedAt == nil || !std.IssuedAt.Time().Equal(t0) || std.NotBefore == nil ||
		!std.NotBefore.Time().Equal(t0) || std.Expiry == nil || !std.Expiry.Time().Equal(exp) {
		t.Errorf("registered claims = %+v, want a jti, iat = nbf = %s and exp = %s", std, t0, exp)
	}
	if extra.Scope != "tokens:read audit:read" || extra.WID != ws.ID || extra.ClientID != tok.ID {
		t.Errorf("claims scope/wid/client_id = %+v, want %q, %s, %s", extra, "tokens:read audit:read", ws.ID, tok.ID)
	}
	if !slices.Equal(tok.Audience, []string{ws.ID}) {
		t.Errorf("token audience = %v, want the workspace default [%s]", tok.Audience, ws.ID)
	}

	// Past exp, go-jose refuses it too.
	if err := std.ValidateWithLeeway(josejwt.Expected{Time: exp.Add(time.Second)}, 0); err == nil {
		t.Error("go-jose accepts the token after its exp")
	}

	// A rotated value is signed by a published key and carries a new jti for the same subject.
	rotated := s.rotate(t, ws.APIKey, tok.ID, nil)
	_, set = s.fetchJWKS(t, ws.ID)
	_, std2, _, err := verifyWithGoJose(t, rotated.Token, set)
	if err != nil {
		t.Fatalf("go-jose does not verify the rotated value: %v", err)
	}
	if std2.Subject != tok.ID || std2.ID == "" || std2.ID == std.ID {
		t.Errorf("rotated value: sub %q jti %q (old jti %q), want the same sub and a new jti", std2.Subject, std2.ID, std.ID)
	}

	// The other workspace's published keys do not verify this workspace's token.
	_, otherSet := s.fetchJWKS(t, other.ID)
	if _, _, _, err := verifyWithGoJose(t, tok.Token, otherSet); err == nil {
		t.Error("workspace B's JWKS verifies workspace A's token")
	}
}

// TestIssuerDocumentsOfAnUnknownWorkspaceAre404 checks that discovery and JWKS do not invent
// workspaces.
func TestIssuerDocumentsOfAnUnknownWorkspaceAre404(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.bootstrap(t, "Acme")
	for _, p := range []string{"/w/ws_000000000000000000000000/.well-known/openid-configuration",
		"/w/ws_000000000000000000000000/.well-known/jwks.json", "/w/..%2f..%2fetc/.well-known/jwks.json"} {
		requireError(t, s.do(t, "GET", p, "", nil), http.StatusNotFound, "not_found", "")
	}
}
