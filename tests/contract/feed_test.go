package contract

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tooken/tooken/sdk"
)

// revokeToken revokes a token.
func revokeToken(t *testing.T, c *sdk.ClientWithResponses, id string) {
	t.Helper()
	res, err := c.RevokeTokenWithResponse(t.Context(), id)
	want(t, res, err, http.StatusNoContent)
}

// feedPage reads a page of a workspace's revocation feed, as any verifier does, and checks its
// Cache-Control.
func feedPage(t *testing.T, e *env, workspaceID string, params *sdk.GetRevocationsParams) *sdk.RevocationPage {
	t.Helper()
	res, err := e.client(t, "").GetRevocationsWithResponse(t.Context(), workspaceID, params)
	want(t, res, err, http.StatusOK)
	if res.HTTPResponse.Header.Get("Cache-Control") == "" {
		t.Errorf("the feed answered without Cache-Control")
	}
	return res.JSON200
}

// entryOf returns the feed entry refusing value jti.
func entryOf(page *sdk.RevocationPage, jti string) (sdk.Revocation, bool) {
	i := slices.IndexFunc(page.Data, func(r sdk.Revocation) bool { return r.Jti == jti })
	if i < 0 {
		return sdk.Revocation{}, false
	}
	return page.Data[i], true
}

func TestRevocationFeedListsRevokedAndRotatedOutValuesWithTheirExpiryAndStart(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws, other := e.bootstrap(t, "Acme"), e.bootstrap(t, "Globex")
	ctx := t.Context()
	forever := mint(t, ws.Owner, "forever", "tokens:read")
	expiring := mintReq(t, ws.Owner, sdk.CreateTokenRequest{Name: "expiring", Scopes: []string{"tokens:read"},
		ExpiresAt: rfc3339(e.Clock.Now().Add(time.Hour))})
	graced := mint(t, ws.Owner, "graced", "tokens:read")
	live := mint(t, ws.Owner, "live", "tokens:read")
	theirs := mint(t, other.Owner, "theirs", "tokens:read")

	before := e.Clock.Now().Unix()
	revokeToken(t, ws.Owner, forever.Id)
	revokeToken(t, ws.Owner, forever.Id) // idempotent: no second entry
	rot, err := ws.Owner.RotateTokenWithResponse(ctx, expiring.Id, sdk.RotateTokenRequest{})
	want(t, rot, err, http.StatusOK)
	grace, err := ws.Owner.RotateTokenWithResponse(ctx, graced.Id, sdk.RotateTokenRequest{GracePeriod: ptr(300)})
	want(t, grace, err, http.StatusOK)
	revokeToken(t, other.Owner, theirs.Id)
	after := e.Clock.Now().Unix()

	page := feedPage(t, e, ws.ID, nil)
	if len(page.Data) != 3 || page.HasMore || page.NextCursor != page.Data[len(page.Data)-1].Cursor {
		t.Fatalf("feed = %+v, want 3 entries, has_more false, next_cursor the last cursor", page)
	}
	for _, tc := range []struct {
		name            string
		value           string
		revokedAt, upTo int64
	}{
		{"revoked", forever.Token, before, after},
		{"rotated out", expiring.Token, before, after},
		{"rotated out with a 300 s grace period", graced.Token, before + 300, after + 300},
	} {
		claims := claimsOf(t, tc.value)
		got, ok := entryOf(page, claims.JTI)
		switch {
		case !ok:
			t.Errorf("%s: no entry for jti %s in %+v", tc.name, claims.JTI, page.Data)
		case (got.Exp == nil) != (claims.Exp == nil) || (got.Exp != nil && *got.Exp != *claims.Exp):
			t.Errorf("%s: exp = %v, want the value's exp %v", tc.name, got.Exp, claims.Exp)
		case got.RevokedAt < tc.revokedAt || got.RevokedAt > tc.upTo:
			t.Errorf("%s: revoked_at = %d, want within [%d, %d]", tc.name, got.RevokedAt, tc.revokedAt, tc.upTo)
		}
	}
	if page.Data[0].Jti != claimsOf(t, forever.Token).JTI || page.Data[2].Jti != claimsOf(t, graced.Token).JTI {
		t.Errorf("feed order = %+v, want commit order", page.Data)
	}
	// Live values are not in it: the untouched token, the rotations' new values, other workspaces'.
	for _, value := range []string{live.Token, rot.JSON200.Token, grace.JSON200.Token, theirs.Token} {
		if _, ok := entryOf(page, claimsOf(t, value).JTI); ok {
			t.Errorf("the feed lists a value it must not: jti %s", claimsOf(t, value).JTI)
		}
	}
	if their := feedPage(t, e, other.ID, nil); len(their.Data) != 1 || their.Data[0].Jti != claimsOf(t, theirs.Token).JTI {
		t.Errorf("the other workspace's feed = %+v, want only its own entry", their.Data)
	}
}

func TestRevocationFeedDropsEntriesOnceTheValueHasExpired(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	short := mintReq(t, ws.Owner, sdk.CreateTokenRequest{Name: "short", Scopes: []string{"tokens:read"},
		ExpiresAt: rfc3339(e.Clock.Now().Add(time.Minute))})
	forever := mint(t, ws.Owner, "forever", "tokens:read")
	revokeToken(t, ws.Owner, short.Id)
	revokeToken(t, ws.Owner, forever.Id)
	if n := len(feedPage(t, e, ws.ID, nil).Data); n != 2 {
		t.Fatalf("feed has %d entries, want 2", n)
	}
	e.Clock.Advance(2 * time.Minute)
	page := feedPage(t, e, ws.ID, nil)
	if len(page.Data) != 1 || page.Data[0].Jti != claimsOf(t, forever.Token).JTI {
		t.Errorf("feed after the short value expired = %+v, want only the never-expiring one", page.Data)
	}
}

func TestRevocationFeedPagesWithAfterAndLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	var wantJTIs []string
	for i := range 5 {
		tok := mint(t, ws.Owner, "t"+strconv.Itoa(i), "tokens:read")
		revokeToken(t, ws.Owner, tok.Id)
		wantJTIs = append(wantJTIs, claimsOf(t, tok.Token).JTI)
	}
	var got []string
	var after *string
	for range wantJTIs {
		page := feedPage(t, e, ws.ID, &sdk.GetRevocationsParams{After: after, Limit: ptr(2)})
		if len(page.Data) > 2 || len(page.Data) == 0 {
			t.Fatalf("page after %v = %+v, want 1 or 2 entries", after, page)
		}
		for _, r := range page.Data {
			got = append(got, r.Jti)
		}
		if page.NextCursor != page.Data[len(page.Data)-1].Cursor {
			t.Errorf("next_cursor = %q, want the page's last cursor %q", page.NextCursor, page.Data[len(page.Data)-1].Cursor)
		}
		after = &page.NextCursor
		if !page.HasMore {
			break
		}
	}
	if !slices.Equal(got, wantJTIs) {
		t.Errorf("paged jtis = %v, want %v", got, wantJTIs)
	}
	// Past the end: nothing, and the cursor stays put.
	end := feedPage(t, e, ws.ID, &sdk.GetRevocationsParams{After: after, Limit: ptr(1000)})
	if len(end.Data) != 0 || end.HasMore || end.NextCursor != *after {
		t.Errorf("page past the end = %+v, want empty with next_cursor %q", end, *after)
	}
	// The bounds of limit are inclusive.
	if one := feedPage(t, e, ws.ID, &sdk.GetRevocationsParams{Limit: ptr(1)}); len(one.Data) != 1 || !one.HasMore {
		t.Errorf("limit=1: %+v, want one entry and has_more", one)
	}
}

// has_more says whether entries follow the page: a page that takes exactly the last entries has none
// after it.
func TestRevocationFeedPageEndingExactlyAtTheEndHasNoMore(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	for _, name := range []string{"a", "b"} {
		revokeToken(t, ws.Owner, mint(t, ws.Owner, name, "tokens:read").Id)
	}
	page := feedPage(t, e, ws.ID, &sdk.GetRevocationsParams{Limit: ptr(2)})
	if len(page.Data) != 2 || page.HasMore {
		t.Errorf("limit=2 over 2 entries: %d entries, has_more %v; want both and has_more false", len(page.Data), page.HasMore)
	}
}

func TestRevocationFeedRejectsABadCursorOrLimitWith400(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	anon := e.client(t, "")
	for name, tc := range map[string]struct {
		params sdk.GetRevocationsParams
		detail string
	}{
		"after not a cursor":      {sdk.GetRevocationsParams{After: ptr("abc")}, "after"},
		"after negative":          {sdk.GetRevocationsParams{After: ptr("-1")}, "after"},
		"after of 21 characters":  {sdk.GetRevocationsParams{After: ptr(strings.Repeat("9", 21))}, ""},
		"limit=0":                 {sdk.GetRevocationsParams{Limit: ptr(0)}, "limit"},
		"limit=1001":              {sdk.GetRevocationsParams{Limit: ptr(1001)}, "limit"},
		"limit=-5 and good after": {sdk.GetRevocationsParams{After: ptr("0"), Limit: ptr(-5)}, "limit"},
	} {
		t.Run(name, func(t *testing.T) {
			res, err := anon.GetRevocationsWithResponse(invalidRequest(t.Context()), ws.ID, &tc.params)
			got := want(t, res, err, http.StatusBadRequest)
			if tc.detail != "" {
				wantDetail(t, got, tc.detail)
			}
		})
	}
	t.Run("limit not a number", func(t *testing.T) {
		res, err := anon.GetRevocations(invalidRequest(t.Context()), ws.ID, nil, func(_ context.Context, req *http.Request) error {
			req.URL.RawQuery = "limit=all"
			return nil
		})
		wantHTTP(t, res, err, http.StatusBadRequest)
	})
}

// Revoking a token refuses at once the old value its rotation left alive for a grace period.
func TestRevokingATokenDuringItsRotationGraceRefusesTheOldValueAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	tok := mint(t, ws.Owner, "graced", "tokens:read")
	rot, err := ws.Owner.RotateTokenWithResponse(t.Context(), tok.Id, sdk.RotateTokenRequest{GracePeriod: ptr(3600)})
	want(t, rot, err, http.StatusOK)
	revokeToken(t, ws.Owner, tok.Id)
	now := e.Clock.Now().Unix()
	wantVerdict(t, verify(t, e, tok.Token), "REVOKED", tok.Id)

	// What an offline verifier applies: the earliest revoked_at of the value's entries.
	page := feedPage(t, e, ws.ID, nil)
	for _, value := range []string{tok.Token, rot.JSON200.Token} {
		jti := claimsOf(t, value).JTI
		earliest := int64(-1)
		for _, r := range page.Data {
			if r.Jti == jti && (earliest < 0 || r.RevokedAt < earliest) {
				earliest = r.RevokedAt
			}
		}
		if earliest < 0 || earliest > now {
			t.Errorf("jti %s: earliest revoked_at = %d, want at or before %d; feed %+v", jti, earliest, now, page.Data)
		}
	}
}
