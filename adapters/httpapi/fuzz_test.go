package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzBearerHeader sends arbitrary Authorization headers: the answer is never a server error, and
// only the credentials that exist authenticate.
func FuzzBearerHeader(f *testing.F) {
	a := newAPI(f)
	for _, s := range []string{
		"Bearer " + a.apiKey, "bearer  " + a.apiKey + " ", "Bearer " + a.token, "BEARER " + a.token,
		"Bearer " + a.apiKey[:len(a.apiKey)-1] + "x", "Bearer " + a.apiKey + "0", "Bearer " + a.token[:len(a.token)-2],
		"Bearer " + a.token + "A", "Bearer " + strings.Replace(a.token, ".", "..", 1), "Basic " + a.apiKey,
		"Bearer tok_live_", "Bearer tok_live_00000000000000000000000000000000", "Bearer a.b.c", "Bearer ..",
		"Bearer eyJhbGciOiJub25lIn0.e30.", "Bearer", "Bearer ", " Bearer x", "Bearer\t" + a.apiKey,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		rec := a.serve("GET", "/v1/workspace", "", header, nil)
		wantNo5xx(t, "Authorization: "+header, rec)
		if rec.Code == http.StatusOK && !oneOf(presented(header), a.apiKey, a.token) {
			t.Fatalf("Authorization %q authenticated, but it presents no issued credential", header)
		}
		if rec.Code != http.StatusOK && oneOf(presented(header), a.apiKey, a.token) {
			t.Fatalf("Authorization %q presents an issued credential but got %d: %s", header, rec.Code, rec.Body)
		}
	})
}

// presented is the credential of an RFC 6750 "Bearer <value>" header (scheme case-insensitive,
// surrounding blanks ignored), or "".
func presented(h string) string {
	scheme, value, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return ""
	}
	return strings.TrimSpace(value)
}

func oneOf(s string, set ...string) bool {
	for _, v := range set {
		if s != "" && s == v {
			return true
		}
	}
	return false
}

// FuzzCreateTokenBody posts arbitrary bodies to POST /v1/tokens through the real handler: never a
// server error, and never a 201 for a body that breaks the CreateTokenRequest schema.
func FuzzCreateTokenBody(f *testing.F) {
	a := newAPI(f)
	for _, s := range []string{
		`{"name":"a","scopes":["tokens:read"]}`,
		`{"name":"b","scopes":["tokens:read","tokens:read"],"expires_at":"2031-01-01T00:00:00Z","audience":["x"],"metadata":{"k":[1,{"z":null}]},"rotation_period":300}`,
		`{"name":"c","scopes":["tokens:admin"]}`, `{"name":"","scopes":[]}`, `{"name":"d","scopes":"tokens:read"}`,
		`{"name":"e","scopes":["tokens:read"],"expires_at":"yesterday"}`, `{"name":"f","scopes":["tokens:read"],"rotation_period":1e3}`,
		`{"name":"g","scopes":["tokens:read"],"metadata":[]}`, `{"name":"h","scopes":["tokens:read"],"audience":[""]}`,
		`{"NAME":"i","Scopes":["tokens:read"]}`, `{"name":"j","scopes":["tokens:read"],"audience":null}`,
		`[]`, `null`, `{`, `{"name":"k","scopes":["tokens:read"]}{}`, "\xff", `{"name":"\u0000","scopes":["tokens:read"]}`,
		`{"name":"l","scopes":["tokens:read"],"metadata":{"a":{"a":{"a":{"a":{}}}}}}`, `{"name":"m","scopes":["tokens:read"],"rotation_period":-1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := a.serve("POST", "/v1/tokens", "", "Bearer "+a.apiKey, body)
		wantNo5xx(t, "POST /v1/tokens "+string(body), rec)
		if rec.Code == http.StatusCreated {
			if err := violatesSpec(t, "POST", "/v1/tokens", body); err != nil {
				t.Fatalf("201 for a body that breaks the schema: %s\nbody: %q", err, body)
			}
		}
	})
}

// FuzzListQuery sends arbitrary query strings to the list endpoints: never a server error, and a 200
// only for a query the spec allows.
func FuzzListQuery(f *testing.F) {
	a := newAPI(f)
	for _, s := range []struct {
		path  uint8
		query string
	}{
		{0, "page=2&per_page=10&status=active&name=se"}, {0, "per_page=1000"}, {0, "page=-1"}, {0, "page=99999999999999999999"},
		{0, "status=bogus"}, {0, "name=%ff%fe"}, {0, "page=1&page=x"}, {0, "per_page=1e2"}, {0, "%"}, {0, ";;&&=="},
		{1, "action=token.created&since=2030-01-01T00:00:00Z&until=2031-01-01T00:00:00Z"}, {1, "since=not-a-time"},
		{1, "actor_id=key_x&target_id=tok_y&per_page=100&page=1000000"}, {1, "until=9999-12-31T23:59:59Z&since=0001-01-01T00:00:00Z"},
		{2, "after=0&limit=1000"}, {2, "after=-5"}, {2, "limit=0"}, {2, "after=99999999999999999999"}, {2, "after=abc&limit=x"},
	} {
		f.Add(s.path, s.query)
	}
	paths := []string{"/v1/tokens", "/v1/audit-logs", "/w/" + a.wsID + "/revocations"}
	f.Fuzz(func(t *testing.T, which uint8, query string) {
		path := paths[int(which)%len(paths)]
		rec := a.serve("GET", path, query, "Bearer "+a.apiKey, nil)
		wantNo5xx(t, path+"?"+query, rec)
	})
}
