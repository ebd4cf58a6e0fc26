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
// getDiscovery and getJWKS are exempt: the signer serves them from memory (checked below).
func TestEveryOperationAnswers503WithRetryAfterWhenTheDatabaseIsDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	tok := mint(t, ws.Owner, "unverified", "tokens:read") // also puts the owner key in the auth cache
	// With a rule in force, reading the policy looks up the tokens that break it (with none, the
	// answer needs no database).
	setPolicy(t, ws, sdk.Policy{MaxRotationPeriod: seconds(3600)})
	e.closeDB(t)

	ops := append(authenticatedOperations(tok.Id, "key_any0000000000000000000", "kid_any"),
		operation{"verifyToken", func(ctx context.Context, c *sdk.ClientWithResponses) (*http.Response, error) {
			return c.VerifyToken(ctx, sdk.VerifyRequest{Token: tok.Token})
		}},
		operation{"getRevocations", func(ctx context.Context, c *sdk.ClientWithResponses) (*http.Response, error) {
			return c.GetRevocations(ctx, ws.ID, nil)
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

// Verifiers must keep working through an outage: the discovery document and the JWKS of a workspace
// the signer has loaded come from its memory.
func TestIssuerDocumentsAreServedFromMemoryWhileTheDatabaseIsDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	tok := mint(t, ws.Owner, "signed", "tokens:read") // loads the workspace's keys into the signer
	e.closeDB(t)
	anon := e.client(t, "")
	d, err := anon.GetDiscoveryWithResponse(t.Context(), ws.ID)
	want(t, d, err, http.StatusOK)
	if d.JSON200.Issuer != e.URL+"/w/"+ws.ID {
		t.Errorf("discovery = %+v", d.JSON200)
	}
	k, err := anon.GetJWKSWithResponse(t.Context(), ws.ID)
	want(t, k, err, http.StatusOK)
	if kid := jwtKid(t, tok.Token); !hasKid(k.JSON200.Keys, kid) {
		t.Errorf("the JWKS served during the outage lacks the signing key %s", kid)
	}
}
