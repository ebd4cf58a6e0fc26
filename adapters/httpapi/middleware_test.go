package httpapi

import (
	"net/http"
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
