package verify

import (
	"context"
	"strings"
	"testing"
)

// FuzzVerifyMutatedToken verifies arbitrary changes of a valid token against a verifier trusting
// only the test key: nothing panics, and nothing but the exact signed value is accepted.
func FuzzVerifyMutatedToken(f *testing.F) {
	k := newTestKey(f, "ES256")
	iss := newFakeIssuer(f, k)
	v := iss.verifier(WithoutRevocationFeed())
	good := iss.token(k, nil)
	other := newTestKey(f, "ES256")
	forged := iss.token(other, func(h, _ map[string]any) { h["kid"] = k.kid })
	none := iss.token(k, func(h, _ map[string]any) { h["alg"] = "none" })
	f.Add(0, 0, "")
	f.Add(len(good)-1, 1, "A")
	f.Add(10, 3, "=")
	f.Add(strings.IndexByte(good, '.'), 1, "..")
	f.Add(5, 0, forged)
	f.Add(0, len(good), none)
	f.Add(len(good), 0, ".x")
	f.Add(20, 4, "eyJhbGciOiJub25lIn0")
	f.Fuzz(func(t *testing.T, at, cut int, insert string) {
		at = clamp(at, len(good))
		end := clamp(at+clamp(cut, len(good)), len(good))
		value := good[:at] + insert + good[end:]
		c, err := v.Verify(context.Background(), value)
		if value == good {
			if err != nil {
				t.Fatalf("the signed value is refused: %v", err)
			}
			return
		}
		if err == nil {
			t.Fatalf("accepted %q, which is not the signed value %q (claims %+v)", value, good, c)
		}
	})
}

func clamp(n, max int) int {
	if n < 0 {
		n = -(n + 1)
	}
	return n % (max + 1)
}
