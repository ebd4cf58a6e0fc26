package contract

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tooken/tooken/sdk"
)

func TestRevokedTokenStaysReadableAndRevokeIsIdempotent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	ctx := t.Context()
	tok := mint(t, ws.Owner, "svc", "tokens:read")
	for range 2 {
		res, err := ws.Owner.RevokeTokenWithResponse(ctx, tok.Id)
		want(t, res, err, http.StatusNoContent)
		if res.Headers204 == nil || res.Headers204.XRateLimitRemaining == nil {
			t.Errorf("204 without X-RateLimit headers: %v", res.HTTPResponse.Header)
		}
	}
	res, err := ws.Owner.GetTokenWithResponse(ctx, tok.Id)
	want(t, res, err, http.StatusOK)
	if res.JSON200.Status != "revoked" || res.JSON200.RevokedAt == nil {
		t.Errorf("after revoke: status = %q, revoked_at = %v", res.JSON200.Status, res.JSON200.RevokedAt)
	}
}

func TestUnknownTokenAndTokenOfAnotherWorkspaceAreNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	acme, globex := e.bootstrap(t, "Acme"), e.bootstrap(t, "Globex")
	ctx := t.Context()
	foreign := mint(t, globex.Owner, "theirs", "tokens:read")
	for _, id := range []string{foreign.Id, "tok_doesnotexist0000000000", "nope"} {
		get, err := acme.Owner.GetTokenWithResponse(ctx, id)
		want(t, get, err, http.StatusNotFound)
		rev, err := acme.Owner.RevokeTokenWithResponse(ctx, id)
		want(t, rev, err, http.StatusNotFound)
		rot, err := acme.Owner.RotateTokenWithResponse(ctx, id, sdk.RotateTokenRequest{})
		want(t, rot, err, http.StatusNotFound)
	}
	res, err := globex.Owner.GetTokenWithResponse(ctx, foreign.Id)
	want(t, res, err, http.StatusOK)
	if res.JSON200.Status != "active" || res.JSON200.RotatedAt != nil {
		t.Errorf("another workspace changed the token: %+v", res.JSON200)
	}
}

// verify asks the verify endpoint about value and returns the verdict.
func verify(t *testing.T, e *env, value string, scopes ...string) *sdk.VerifyResponse {
	t.Helper()
	req := sdk.VerifyRequest{Token: value}
	if scopes != nil {
		req.Scopes = &scopes
	}
	res, err := e.client(t, "").VerifyTokenWithResponse(t.Context(), req)
	want(t, res, err, http.StatusOK)
	return res.JSON200
}

// wantVerdict checks a verdict and the token it names: none for "", tokenID, or — with "?" before
// the id — either none or that one (the spec makes the token optional).
func wantVerdict(t *testing.T, v *sdk.VerifyResponse, code string, tokenID string) {
	t.Helper()
	if string(v.Code) != code || v.Valid != (code == "VALID") {
		t.Errorf("verdict = %s (valid %v), want %s", v.Code, v.Valid, code)
	}
	optional := strings.HasPrefix(tokenID, "?")
	tokenID = strings.TrimPrefix(tokenID, "?")
	switch {
	case tokenID == "" && v.Token != nil:
		t.Errorf("verdict %s carries token %s", v.Code, v.Token.Id)
	case optional && v.Token == nil:
	case tokenID != "" && (v.Token == nil || v.Token.Id != tokenID):
		t.Errorf("verdict %s: token = %+v, want %s", v.Code, v.Token, tokenID)
	}
}

func TestRotateTokenIssuesANewValueAndKillsTheOldOne(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	ctx := t.Context()
	tok := mint(t, ws.Owner, "svc", "tokens:read", "audit:read")
	res, err := ws.Owner.RotateTokenWithResponse(ctx, tok.Id, sdk.RotateTokenRequest{})
	want(t, res, err, http.StatusOK)
	rot := res.JSON200
	if rot.Id != tok.Id || rot.Name != tok.Name || !reflect.DeepEqual(rot.Scopes, tok.Scopes) || rot.RotatedAt == nil {
		t.Errorf("rotated = %+v, want the same id, name and scopes with rotated_at", rot)
	}
	if rot.Token == "" || rot.Token == tok.Token {
		t.Fatalf("rotation kept the value")
	}
	wantVerdict(t, verify(t, e, rot.Token), "VALID", tok.Id)
	wantVerdict(t, verify(t, e, tok.Token), "REVOKED", tok.Id)
	old, err := e.client(t, tok.Token).ListTokensWithResponse(ctx, nil)
	want(t, old, err, http.StatusUnauthorized)
}

func TestRotateTokenWithGracePeriodKeepsTheOldValueAliveUntilItEnds(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	tok := mint(t, ws.Owner, "svc", "tokens:read")
	res, err := ws.Owner.RotateTokenWithResponse(t.Context(), tok.Id, sdk.RotateTokenRequest{GracePeriod: ptr(300)})
	want(t, res, err, http.StatusOK)
	wantVerdict(t, verify(t, e, tok.Token), "VALID", tok.Id)
	e.Clock.Advance(301 * time.Second)
	wantVerdict(t, verify(t, e, tok.Token), "REVOKED", tok.Id)
	wantVerdict(t, verify(t, e, res.JSON200.Token), "VALID", tok.Id)
}

func TestRotateRevokedOrExpiredTokenConflictsWith409(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	ctx := t.Context()
	revoked := mint(t, ws.Owner, "revoked", "tokens:read")
	expiring := mintReq(t, ws.Owner, sdk.CreateTokenRequest{Name: "expiring", Scopes: []string{"tokens:read"},
		ExpiresAt: rfc3339(e.Clock.Now().Add(time.Minute))})
	rev, err := ws.Owner.RevokeTokenWithResponse(ctx, revoked.Id)
	want(t, rev, err, http.StatusNoContent)
	res, err := ws.Owner.RotateTokenWithResponse(ctx, revoked.Id, sdk.RotateTokenRequest{})
	want(t, res, err, http.StatusConflict)

	e.Clock.Advance(2 * time.Minute)
	res, err = ws.Owner.RotateTokenWithResponse(ctx, expiring.Id, sdk.RotateTokenRequest{})
	want(t, res, err, http.StatusConflict)
}

func TestRotateTokenRejectsAnInvalidBodyWith400(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	tok := mint(t, ws.Owner, "svc", "tokens:read")
	for name, tc := range map[string]struct{ body, detail string }{
		"grace_period 90000": {`{"grace_period": 90000}`, "grace_period"},
		"grace_period -1":    {`{"grace_period": -1}`, "grace_period"},
		"grace_period text":  {`{"grace_period": "5m"}`, ""},
		"malformed JSON":     {`{"grace_period": `, ""},
	} {
		t.Run(name, func(t *testing.T) {
			res, err := ws.Owner.RotateTokenWithBodyWithResponse(invalidRequest(t.Context()), tok.Id, "application/json", strings.NewReader(tc.body))
			got := want(t, res, err, http.StatusBadRequest)
			if tc.detail != "" {
				wantDetail(t, got, tc.detail)
			}
		})
	}
	wantVerdict(t, verify(t, e, tok.Token), "VALID", tok.Id)
}

func TestVerifyTokenReportsEachVerdict(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	ctx := t.Context()
	good := mint(t, ws.Owner, "good", "tokens:read", "audit:read")
	revoked := mint(t, ws.Owner, "revoked", "tokens:read")
	expiring := mintReq(t, ws.Owner, sdk.CreateTokenRequest{Name: "expiring", Scopes: []string{"tokens:read"},
		ExpiresAt: rfc3339(e.Clock.Now().Add(time.Minute))})
	rev, err := ws.Owner.RevokeTokenWithResponse(ctx, revoked.Id)
	want(t, rev, err, http.StatusNoContent)

	wantVerdict(t, verify(t, e, good.Token), "VALID", good.Id)
	wantVerdict(t, verify(t, e, good.Token, "tokens:read", "audit:read"), "VALID", good.Id)
	wantVerdict(t, verify(t, e, good.Token, "tokens:write"), "INSUFFICIENT_SCOPE", good.Id)
	wantVerdict(t, verify(t, e, revoked.Token), "REVOKED", revoked.Id)
	wantVerdict(t, verify(t, e, "not-a-jwt"), "INVALID", "")
	wantVerdict(t, verify(t, e, good.Token[:len(good.Token)-4]+"AAAA"), "INVALID", "")
	e.Clock.Advance(2 * time.Minute)
	wantVerdict(t, verify(t, e, expiring.Token), "EXPIRED", "?"+expiring.Id)

	// A valid verification counts as a use.
	if err := e.Main.Service.FlushUsage(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := ws.Owner.GetTokenWithResponse(ctx, good.Id)
	want(t, res, err, http.StatusOK)
	if res.JSON200.LastUsedAt == nil {
		t.Errorf("last_used_at = null after a valid verification")
	}
}

func TestVerifyTokenRejectsMalformedRequestsWith400(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	anon := e.client(t, "")
	for name, body := range map[string]string{
		"empty token":    `{"token": ""}`,
		"missing token":  `{"scopes": ["tokens:read"]}`,
		"wrong type":     `{"token": 42}`,
		"malformed JSON": `{"token": "abc`,
	} {
		t.Run(name, func(t *testing.T) {
			res, err := anon.VerifyTokenWithBodyWithResponse(invalidRequest(t.Context()), "application/json", strings.NewReader(body))
			want(t, res, err, http.StatusBadRequest)
		})
	}
}
