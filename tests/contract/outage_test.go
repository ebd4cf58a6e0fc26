package contract

import (
	"context"
	"net/http"
	"strconv"
	"testing"

	"github.com/tooken/tooken/sdk"
)

// The spec's description promises that "503 unavailable (database unreachable, with Retry-After) may
// answer any operation". Every operation that touches the database must then answer 503 with the
// error body and Retry-After — and the spec must document it, or the answer is undocumented.
func TestEveryOperationAnswers503WithRetryAfterWhenTheDatabaseIsDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	tok := mint(t, ws.Owner, "unverified", "tokens:read") // also puts the owner key in the auth cache
	e.closeDB(t)

	ops := append(authenticatedOperations(tok.Id, "key_any0000000000000000000"),
		operation{"verifyToken", func(ctx context.Context, c *sdk.ClientWithResponses) (*http.Response, error) {
			return c.VerifyToken(ctx, sdk.VerifyRequest{Token: tok.Token})
		}},
		operation{"getDiscovery", func(ctx context.Context, c *sdk.ClientWithResponses) (*http.Response, error) {
			return c.GetDiscovery(ctx, ws.ID)
		}},
	)
	for _, op := range ops {
		t.Run(op.id, func(t *testing.T) {
			resp, err := op.call(t.Context(), ws.Owner)
			wantHTTP(t, resp, err, http.StatusServiceUnavailable)
			if n, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || n < 1 {
				t.Errorf("Retry-After = %q", resp.Header.Get("Retry-After"))
			}
		})
	}
}
