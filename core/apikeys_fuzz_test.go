package core_test

import (
	"strings"
	"testing"

	"github.com/tooken/tooken/core"
)

// FuzzAPIKeyChecksum changes one character of a fresh API key: the offline checksum must refuse
// every such typo, and no input panics the format check.
func FuzzAPIKeyChecksum(f *testing.F) {
	f.Add(0, byte('x'), "")
	f.Add(40, byte('0'), "")
	f.Add(9, byte('A'), "tok_live_")
	f.Add(20, byte('-'), "tok_live_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
	f.Fuzz(func(t *testing.T, pos int, c byte, arbitrary string) {
		_ = core.ValidAPIKeyFormat(arbitrary)
		key := core.NewAPIKeySecret()
		if !core.ValidAPIKeyFormat(key) {
			t.Fatalf("fresh key %q fails its own check", key)
		}
		pos = (pos%len(key) + len(key)) % len(key)
		typo := key[:pos] + string(c) + key[pos+1:]
		if typo != key && core.ValidAPIKeyFormat(typo) {
			t.Fatalf("%q (a typo of %q) passes the checksum", typo, key)
		}
		if core.ValidAPIKeyFormat(strings.ToUpper(key[:9]) + key[9:]) {
			t.Fatal("the prefix is case-sensitive")
		}
	})
}

// The base64 decoder skips line breaks, so a token value with one inside its signature would decode
// to the same signed bytes: it must still be refused, as must every other spelling of a value.
func TestTokenValueSpelledWithALineBreakIsRefused(t *testing.T) {
	e := newEnv(t)
	owner := e.workspace("acme")
	it, err := e.svc.CreateToken(e.ctx, owner, core.CreateTokenInput{Name: "t", Scopes: []string{core.ScopeTokensRead}})
	if err != nil {
		t.Fatal(err)
	}
	n := len(it.Value) - 10
	for _, v := range []string{it.Value[:n] + "\n" + it.Value[n:], it.Value[:n] + "\r\n" + it.Value[n:], it.Value + "\n"} {
		if _, err := e.svc.Authenticate(e.ctx, v); err == nil {
			t.Errorf("%q authenticated", v)
		}
		if res, err := e.svc.VerifyToken(e.ctx, v, nil); err == nil && res.Valid {
			t.Errorf("%q verified", v)
		}
	}
}
