package contract

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tooken/tooken/sdk"
)

var publicCache = regexp.MustCompile(`^public, max-age=[1-9][0-9]*$`)

func TestDiscoveryDocumentNamesTheIssuerAndItsKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	res, err := e.client(t, "").GetDiscoveryWithResponse(t.Context(), ws.ID)
	want(t, res, err, http.StatusOK)
	d := res.JSON200
	issuer := e.URL + "/w/" + ws.ID
	if d.Issuer != issuer || d.JwksUri != issuer+"/.well-known/jwks.json" || !slices.Contains(d.TokenSigningAlgValuesSupported, "ES256") ||
		d.RevocationFeedUri != issuer+"/revocations" || d.RevocationStreamUri != issuer+"/revocations/stream" {
		t.Errorf("discovery = %+v, want issuer %s", d, issuer)
	}
	if cc := res.HTTPResponse.Header.Get("Cache-Control"); !publicCache.MatchString(cc) {
		t.Errorf("Cache-Control = %q, want public, max-age=…", cc)
	}
}

func TestJWKSPublishesTheKeyThatSignsTheWorkspaceTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	tok := mint(t, ws.Owner, "signed", "tokens:read")
	res, err := e.client(t, "").GetJWKSWithResponse(t.Context(), ws.ID)
	want(t, res, err, http.StatusOK)
	if cc := res.HTTPResponse.Header.Get("Cache-Control"); !publicCache.MatchString(cc) {
		t.Errorf("Cache-Control = %q, want public, max-age=…", cc)
	}
	var kids []string
	for _, k := range res.JSON200.Keys {
		kids = append(kids, k.Kid)
		if k.Kty != "EC" || k.Alg != "ES256" || k.Use != "sig" || k.Crv == nil || *k.Crv != "P-256" || k.X == nil || k.Y == nil {
			t.Errorf("key = %+v, want a P-256 ES256 signing key", k)
		}
	}
	if kid := jwtKid(t, tok.Token); !slices.Contains(kids, kid) {
		t.Errorf("the token's kid %q is not among the published keys %v", kid, kids)
	}
}

func jwtKid(t *testing.T, jwt string) string {
	t.Helper()
	var h struct{ Kid string }
	jwtPart(t, jwt, 0, &h)
	return h.Kid
}

// jwtClaims are the claims of a token value the feed speaks of.
type jwtClaims struct {
	JTI string `json:"jti"`
	Exp *int64 `json:"exp"`
}

func claimsOf(t *testing.T, jwt string) jwtClaims {
	t.Helper()
	var c jwtClaims
	jwtPart(t, jwt, 1, &c)
	if c.JTI == "" {
		t.Fatalf("the token value has no jti")
	}
	return c
}

// jwtPart decodes part i (0 header, 1 claims) of a compact JWT into v.
func jwtPart(t *testing.T, jwt string, i int, v any) {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWT: %q", jwt)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatalf("JWT part %d: %v", i, err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("JWT part %d: %v", i, err)
	}
}

// jwksKids lists the kids a workspace's JWKS publishes.
func jwksKids(t *testing.T, e *env, workspaceID string) []string {
	t.Helper()
	res, err := e.client(t, "").GetJWKSWithResponse(t.Context(), workspaceID)
	want(t, res, err, http.StatusOK)
	var kids []string
	for _, k := range res.JSON200.Keys {
		kids = append(kids, k.Kid)
	}
	return kids
}

func hasKid(keys []sdk.JWK, kid string) bool {
	return slices.ContainsFunc(keys, func(k sdk.JWK) bool { return k.Kid == kid })
}

func TestIssuerEndpointsOfAnUnknownWorkspaceAreNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	e.bootstrap(t, "Acme")
	anon := e.client(t, "")
	for _, id := range []string{"ws_doesnotexist0000000000", "nope", "acme"} {
		d, err := anon.GetDiscoveryWithResponse(t.Context(), id)
		want(t, d, err, http.StatusNotFound)
		k, err := anon.GetJWKSWithResponse(t.Context(), id)
		want(t, k, err, http.StatusNotFound)
		f, err := anon.GetRevocationsWithResponse(t.Context(), id, nil)
		want(t, f, err, http.StatusNotFound)
		s, err := anon.StreamRevocations(t.Context(), id, &sdk.StreamRevocationsParams{LastEventID: ptr("1")})
		wantHTTP(t, s, err, http.StatusNotFound)
	}
}

func TestHealthAndReadinessAnswerOK(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	anon := e.client(t, "")
	h, err := anon.HealthzWithResponse(t.Context())
	want(t, h, err, http.StatusOK)
	r, err := anon.ReadyzWithResponse(t.Context())
	want(t, r, err, http.StatusOK)
	if h.JSON200.Status != "ok" || r.JSON200.Status != "ok" {
		t.Errorf("healthz = %+v, readyz = %+v", h.JSON200, r.JSON200)
	}
}

func TestReadyzAnswers503WhenTheDatabaseIsClosed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	e.closeDB(t)
	anon := e.client(t, "")
	r, err := anon.ReadyzWithResponse(t.Context())
	want(t, r, err, http.StatusServiceUnavailable)
	if r.Headers503 == nil || r.Headers503.RetryAfter == nil || *r.Headers503.RetryAfter < 1 {
		t.Errorf("503 Retry-After = %q, want a positive number of seconds", r.HTTPResponse.Header.Get("Retry-After"))
	}
	// The process itself is still up.
	h, err := anon.HealthzWithResponse(t.Context())
	want(t, h, err, http.StatusOK)
}
