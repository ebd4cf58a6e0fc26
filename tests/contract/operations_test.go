package contract

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/tooken/tooken/sdk"
)

// operation is one call, with a valid request, of an operation that authenticates its caller.
type operation struct {
	id   string // operationId in openapi.yaml
	call func(ctx context.Context, c *sdk.ClientWithResponses) (*http.Response, error)
}

var nameSeq atomic.Int64

func uniqueName(prefix string) string { return fmt.Sprintf("%s-%d", prefix, nameSeq.Add(1)) }

// authenticatedOperations calls every operation that needs a credential; tokenID, keyID and kid name
// the token, API key and signing key the calls read or change.
func authenticatedOperations(tokenID, keyID, kid string) []operation {
	type c = sdk.ClientWithResponses
	return []operation{
		{"createToken", func(ctx context.Context, c *c) (*http.Response, error) {
			return c.CreateToken(ctx, sdk.CreateTokenRequest{Name: uniqueName("op"), Scopes: []string{"tokens:read"}})
		}},
		{"listTokens", func(ctx context.Context, c *c) (*http.Response, error) { return c.ListTokens(ctx, nil) }},
		{"getToken", func(ctx context.Context, c *c) (*http.Response, error) { return c.GetToken(ctx, tokenID) }},
		{"revokeToken", func(ctx context.Context, c *c) (*http.Response, error) { return c.RevokeToken(ctx, tokenID) }},
		{"rotateToken", func(ctx context.Context, c *c) (*http.Response, error) {
			return c.RotateToken(ctx, tokenID, sdk.RotateTokenRequest{})
		}},
		{"listAuditLogs", func(ctx context.Context, c *c) (*http.Response, error) { return c.ListAuditLogs(ctx, nil) }},
		{"getWorkspace", func(ctx context.Context, c *c) (*http.Response, error) { return c.GetWorkspace(ctx) }},
		{"listAPIKeys", func(ctx context.Context, c *c) (*http.Response, error) { return c.ListAPIKeys(ctx) }},
		{"createAPIKey", func(ctx context.Context, c *c) (*http.Response, error) {
			return c.CreateAPIKey(ctx, sdk.CreateAPIKeyRequest{Name: uniqueName("key"), Kind: "team"})
		}},
		{"regenerateAPIKey", func(ctx context.Context, c *c) (*http.Response, error) { return c.RegenerateAPIKey(ctx, keyID) }},
		{"deleteAPIKey", func(ctx context.Context, c *c) (*http.Response, error) { return c.DeleteAPIKey(ctx, keyID) }},
		{"updateWorkspace", func(ctx context.Context, c *c) (*http.Response, error) {
			return c.UpdateWorkspace(ctx, sdk.UpdateWorkspaceRequest{Timezone: ptr("Europe/Paris")})
		}},
		{"getScopes", func(ctx context.Context, c *c) (*http.Response, error) { return c.GetScopes(ctx) }},
		{"setScopes", func(ctx context.Context, c *c) (*http.Response, error) {
			return c.SetScopes(ctx, sdk.SetScopesRequest{Custom: []sdk.CustomScope{{Name: "orders:read", Description: ptr("Read orders")}}})
		}},
		{"getPolicy", func(ctx context.Context, c *c) (*http.Response, error) { return c.GetPolicy(ctx) }},
		{"setPolicy", func(ctx context.Context, c *c) (*http.Response, error) {
			return c.SetPolicy(ctx, sdk.Policy{MaxLifetime: ptr[int64](90 * 86400)})
		}},
		{"listSigningKeys", func(ctx context.Context, c *c) (*http.Response, error) { return c.ListSigningKeys(ctx) }},
		{"rotateSigningKey", func(ctx context.Context, c *c) (*http.Response, error) { return c.RotateSigningKey(ctx) }},
		{"revokeSigningKey", func(ctx context.Context, c *c) (*http.Response, error) { return c.RevokeSigningKey(ctx, kid) }},
		{"listWebhooks", func(ctx context.Context, c *c) (*http.Response, error) { return c.ListWebhooks(ctx) }},
		{"createWebhook", func(ctx context.Context, c *c) (*http.Response, error) {
			return c.CreateWebhook(ctx, sdk.CreateWebhookRequest{Url: publicHookURL, Events: []sdk.WebhookEvent{"token.created"}})
		}},
		{"getWebhook", func(ctx context.Context, c *c) (*http.Response, error) { return c.GetWebhook(ctx, anyWebhookID) }},
		{"updateWebhook", func(ctx context.Context, c *c) (*http.Response, error) {
			return c.UpdateWebhook(ctx, anyWebhookID, sdk.UpdateWebhookRequest{Enabled: ptr(false)})
		}},
		{"deleteWebhook", func(ctx context.Context, c *c) (*http.Response, error) { return c.DeleteWebhook(ctx, anyWebhookID) }},
		{"listWebhookDeliveries", func(ctx context.Context, c *c) (*http.Response, error) {
			return c.ListWebhookDeliveries(ctx, anyWebhookID)
		}},
		{"redeliverWebhookDelivery", func(ctx context.Context, c *c) (*http.Response, error) {
			return c.RedeliverWebhookDelivery(ctx, anyWebhookID, "dlv_any00000000000000000000")
		}},
		{"testWebhook", func(ctx context.Context, c *c) (*http.Response, error) { return c.TestWebhook(ctx, anyWebhookID) }},
		{"rotateWebhookSecret", func(ctx context.Context, c *c) (*http.Response, error) {
			return c.RotateWebhookSecret(ctx, anyWebhookID)
		}},
		{"listMembers", func(ctx context.Context, c *c) (*http.Response, error) { return c.ListMembers(ctx, nil) }},
		{"updateMember", func(ctx context.Context, c *c) (*http.Response, error) {
			return c.UpdateMember(ctx, anyMemberID, sdk.UpdateMemberRequest{Role: "viewer"})
		}},
		{"removeMember", func(ctx context.Context, c *c) (*http.Response, error) { return c.RemoveMember(ctx, anyMemberID) }},
		{"listInvitations", func(ctx context.Context, c *c) (*http.Response, error) { return c.ListInvitations(ctx) }},
		{"createInvitation", func(ctx context.Context, c *c) (*http.Response, error) {
			return c.CreateInvitation(ctx, sdk.CreateInvitationRequest{Email: uniqueName("op") + "@example.com", Role: "viewer"})
		}},
		{"revokeInvitation", func(ctx context.Context, c *c) (*http.Response, error) {
			return c.RevokeInvitation(ctx, anyInvitationID)
		}},
	}
}

// publicHookURL is a webhook URL on a public address literal, so that the URL guard needs no DNS;
// anyWebhookID names no webhook (the tables only need the calls to reach their checks).
const (
	publicHookURL = "https://93.184.215.14/tooken-hook"
	anyWebhookID  = "wh_any00000000000000000000"
	// anyMemberID and anyInvitationID name no member or invitation, likewise.
	anyMemberID     = "mem_any00000000000000000000"
	anyInvitationID = "inv_any00000000000000000000"
)

// webhookReads are the operations that a token holding webhooks:read may call.
var webhookReads = []string{"listWebhooks", "getWebhook", "listWebhookDeliveries"}

// readableByAnyCredential are the authenticated operations every credential of the workspace may
// call: they document no 403.
var readableByAnyCredential = []string{"getWorkspace", "getScopes"}

// permissionedOperations are the authenticated operations that need a scope or a role.
func permissionedOperations(tokenID, keyID, kid string) []operation {
	return slices.DeleteFunc(authenticatedOperations(tokenID, keyID, kid), func(op operation) bool {
		return slices.Contains(readableByAnyCredential, op.id)
	})
}

// requireOperationsFor fails the test unless ops calls exactly the operations of the spec that need a
// credential and document status, so a new operation cannot slip past these tables.
func requireOperationsFor(t *testing.T, ops []operation, status int) {
	t.Helper()
	s, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	var want, got []string
	for _, item := range s.doc.Paths.Map() {
		for _, op := range item.Operations() {
			security := s.doc.Security
			if op.Security != nil {
				security = *op.Security
			}
			authenticated := slices.ContainsFunc(security, func(r openapi3.SecurityRequirement) bool { return len(r) > 0 })
			if authenticated && op.Responses.Status(status) != nil {
				want = append(want, op.OperationID)
			}
		}
	}
	for _, op := range ops {
		got = append(got, op.id)
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("the table calls %v, but the authenticated operations documenting %d are %v", got, status, want)
	}
}
