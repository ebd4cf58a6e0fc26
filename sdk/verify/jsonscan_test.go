package verify

import (
	"encoding/json"
	"slices"
	"testing"
)

var claimSeeds = []string{
	`{"iss":"https://t.example/w/ws_1","sub":"tok_1","aud":["a","b"],"client_id":"tok_1","jti":"jti_1","iat":1700000000,"nbf":1700000000,"exp":1893456000,"scope":"tokens:read orders:read","wid":"ws_1"}`,
	` { "iss" : "x" , "aud" : "one" , "exp" : 1 , "extra" : [ ] , "t" : true , "f" : false , "n" : null , "num" : -1.5e+3 } `,
	`{"aud":[],"exp":null}`,
	`{"exp":1.5}`,
	`{"iss":"caf\u00e9"}`,
	`{"iss":"a","iss":"b"}`,
	`{"ISS":"a"}`,
	`{"nested":{"a":1}}`,
	`{"aud":[1]}`,
	`{}`,
	`{"exp":01}`,
	`{"a":"b",}`,
	`[]`,
	`{"exp":99999999999999999}`,
}

func sameClaims(a, b *rawClaims) bool {
	return a.iss == b.iss && a.sub == b.sub && a.clientID == b.clientID && a.jti == b.jti &&
		a.scope == b.scope && a.wid == b.wid && slices.Equal(a.aud, b.aud) &&
		a.hasIat == b.hasIat && a.hasNbf == b.hasNbf && a.hasExp == b.hasExp &&
		a.iat.Equal(b.iat) && a.nbf.Equal(b.nbf) && a.exp.Equal(b.exp)
}

// checkParsers fails when the fast path accepts s differently from encoding/json.
func checkParsers(t *testing.T, s string) {
	if scanFlat(s, func(string, byte, string) bool { return true }) && !json.Valid([]byte(s)) {
		t.Fatalf("scanFlat accepted invalid JSON %q", s)
	}
	fast, ok := parseClaimsFast(s)
	if !ok {
		return
	}
	slow, err := parseClaimsSlow(s)
	if err != nil {
		t.Fatalf("fast path accepted %q, encoding/json path refused it: %v", s, err)
	}
	if !sameClaims(&fast, &slow) {
		t.Fatalf("parsers disagree on %q:\nfast %+v\nslow %+v", s, fast, slow)
	}
}

func TestClaimsParsersAgree(t *testing.T) {
	t.Parallel()
	for _, s := range claimSeeds {
		checkParsers(t, s)
	}
	if _, ok := parseClaimsFast(claimSeeds[0]); !ok {
		t.Error("the common claims shape does not take the fast path")
	}
	for _, s := range []string{claimSeeds[4], claimSeeds[5], claimSeeds[7], `{"exp":1.5}`} {
		if _, ok := parseClaimsFast(s); ok {
			t.Errorf("%q took the fast path", s)
		}
	}
	c, err := parseClaimsSlow(`{"iss":"a","iss":"b","exp":1.5,"aud":"x"}`)
	if err != nil || c.iss != "b" || c.exp.UnixMilli() != 1500 || !slices.Equal(c.aud, []string{"x"}) {
		t.Errorf("slow path: %+v %v", c, err)
	}
}

func FuzzClaimsParsers(f *testing.F) {
	for _, s := range claimSeeds {
		f.Add(s)
	}
	f.Fuzz(checkParsers)
}
