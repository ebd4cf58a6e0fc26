package httpapi

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// The headers assigned without Header.Set must be in canonical form, or Header.Get (and a client
// reading them) would not find them.
func TestDirectlyAssignedHeadersAreCanonical(t *testing.T) {
	for _, k := range []string{headerRequestID, headerLimit, headerLimitRemaining, headerLimitReset} {
		if c := http.CanonicalHeaderKey(k); c != k {
			t.Errorf("%q is not canonical: %q", k, c)
		}
	}
}

func TestRequestIDsAreTwentyBase32CharactersAndDistinct(t *testing.T) {
	format := regexp.MustCompile(`^req_[a-z2-7]{20}$`)
	seen := map[string]bool{}
	var used [32]bool
	for range 10_000 {
		id := newRequestID()
		if !format.MatchString(id) {
			t.Fatalf("request id %q does not match %s", id, format)
		}
		if seen[id] {
			t.Fatalf("request id %q made twice", id)
		}
		seen[id] = true
		for _, c := range id[4:] {
			used[strings.IndexRune(requestIDAlphabet, c)] = true
		}
	}
	for i, u := range used {
		if !u {
			t.Errorf("character %q never used: the bits are not spread over the alphabet", requestIDAlphabet[i])
		}
	}
}
