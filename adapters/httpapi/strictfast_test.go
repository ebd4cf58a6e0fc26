package httpapi

import (
	"encoding/json"
	"maps"
	"strings"
	"sync"
	"testing"
)

var testSchemas = sync.OnceValue(bodySchemas)

// strictSeeds are bodies strictBody sees: the routes' usual ones, and each kind of refusal.
var strictSeeds = []string{
	`{"token":"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ0b2tfMSJ9.c2ln"}`,
	`{"token":"v","scopes":["tokens:read","audit:read"]}`,
	`{"name":"billing","scopes":["tokens:read"],"expires_at":"2030-01-01T00:00:00Z","metadata":{"team":"x","n":null}}`,
	`{"NAME":"a","scopes":["tokens:read"]}`, `{"Token":"v","TOKEN":"w"}`, `{"name":null,"scopes":[null,"x",null]}`,
	`{"name":"a","name":null}`, `{"name":null,"name":"a"}`, `{"grace_period":null}`, `null`, ` null `, `[]`, `[{"name":null}]`,
	`"text"`, `42`, `true`, `{}`, `{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"name":null,"name":"x","NAME":1}`,
	`{"url":"https://example.com/hook","events":["token.created",null],"description":null}`,
	`{"role":"admin"}`, `{"custom":[{"name":"x:read","description":null}]}`, `{"default_lifetime":null,"max_lifetime":3600}`,
	`{"name":"a"}{}`, `{"name":"a",`, `{"name":"\u0041"}`, `{"n\u0061me":null}`, "{\"name\":\"\xff\"}", `{"a":01}`, `{"a":1.}`,
	`{"a":"tab	in string"}`, `[1,2,]`, `{"a":[[[[[[[[[[null]]]]]]]]]]}`, `  {"token" : "v" }  `,
}

// checkStrictFastAgrees fails when strictFast, where it judges a body, judges it unlike strictDetails
// (encoding/json), for the body schema of every route.
func checkStrictFastAgrees(t *testing.T, body []byte) {
	for route, schema := range testSchemas() {
		fast, value, ok := strictFast(body, schema)
		if !ok {
			continue
		}
		if value != nil {
			checkBindingAgrees(t, route, body, value)
		}
		slow, err := strictDetails(body, schema)
		if err != nil || !json.Valid(body) {
			t.Fatalf("%s: strictFast judged %q, which encoding/json refuses: %v", route, body, err)
		}
		if !maps.Equal(fast, slow) && (len(fast) < 10 || len(slow) < 10) { // beyond ten, which ten is arbitrary
			t.Fatalf("%s, body %q:\nstrictFast    %v\nstrictDetails %v", route, body, fast, slow)
		}
	}
}

// TestStrictFastAgreesWithEncodingJSON: the fast strict check refuses exactly what the encoding/json
// one refuses, with the same details, on every body it takes on — and takes on the routes' usual
// bodies (otherwise it would speed up nothing).
func TestStrictFastAgreesWithEncodingJSON(t *testing.T) {
	for _, b := range strictSeeds {
		checkStrictFastAgrees(t, []byte(b))
	}
	schemas := testSchemas()
	for _, c := range []struct{ route, body string }{
		{"POST /v1/tokens/verify", strictSeeds[0]}, {"POST /v1/tokens", strictSeeds[2]}, {"POST /v1/tokens", strictSeeds[5]},
	} {
		if _, _, ok := strictFast([]byte(c.body), schemas[c.route]); !ok {
			t.Errorf("%s: strictFast passed %s to the slow path", c.route, c.body)
		}
	}
	for _, body := range []string{strings.Repeat("[", maxFastDepth+1) + strings.Repeat("]", maxFastDepth+1),
		`{"metadata":{"x":` + strings.Repeat(`{"a":`, 100_000), `{"a":"\"[[[["}`} {
		if _, _, ok := strictFast([]byte(body), schemas["POST /v1/tokens"]); ok {
			t.Errorf("%.40q…: nesting beyond maxFastDepth and escapes must go to the slow path", body)
		}
	}
	deep := strings.Repeat("[", maxFastDepth-1) + strings.Repeat("]", maxFastDepth-1) // inside the object: maxFastDepth
	if _, _, ok := strictFast([]byte(`{"a":"[[[[","b":`+deep+`}`), schemas["POST /v1/tokens"]); !ok {
		t.Error("brackets inside strings must not count as nesting")
	}
}

// FuzzStrictFastAgrees is TestStrictFastAgreesWithEncodingJSON and
// TestBoundBodiesAreWhatEncodingJSONDecodes on any body (`make fuzz`).
func FuzzStrictFastAgrees(f *testing.F) {
	for _, b := range append(strictSeeds, bindSeeds...) {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkStrictFastAgrees(t, body) })
}
