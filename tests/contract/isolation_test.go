package contract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tooken/tooken/ports"
	"github.com/tooken/tooken/sdk"
)

// fixture creates, in workspace ws, the resource a path addresses and returns the values of the
// path's parameters naming it.
type fixture func(t *testing.T, e *env, ws workspace) map[string]string

// fixtures covers every spec path that takes an id (public /w/{workspace_id} paths aside). A new
// id-taking operation fails TestIsolationMatrix until its path has an entry here.
var fixtures = map[string]fixture{
	"/v1/tokens/{id}":                                      tokenFixture,
	"/v1/tokens/{id}/rotate":                               tokenFixture,
	"/v1/signing-keys/{kid}/revoke":                        signingKeyFixture,
	"/v1/api-keys/{id}":                                    apiKeyFixture,
	"/v1/api-keys/{id}/regenerate":                         apiKeyFixture,
	"/v1/webhooks/{id}":                                    webhookFixture,
	"/v1/webhooks/{id}/deliveries":                         webhookFixture,
	"/v1/webhooks/{id}/test":                               webhookFixture,
	"/v1/webhooks/{id}/rotate-secret":                      webhookFixture,
	"/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver": deliveryFixture,
	"/v1/members/{id}":                                     memberFixture,
	"/v1/invitations/{id}":                                 invitationFixture,
}

// memberFixture addresses the workspace's owner membership.
func memberFixture(t *testing.T, _ *env, ws workspace) map[string]string {
	res, err := ws.Owner.ListMembersWithResponse(t.Context(), nil)
	want(t, res, err, http.StatusOK)
	return map[string]string{"id": res.JSON200.Data[0].Id}
}

func invitationFixture(t *testing.T, _ *env, ws workspace) map[string]string {
	res, err := ws.Owner.CreateInvitationWithResponse(t.Context(), sdk.CreateInvitationRequest{Email: "iso-" + newSuffix() + "@example.com", Role: "viewer"})
	want(t, res, err, http.StatusCreated)
	return map[string]string{"id": res.JSON201.Id}
}

func tokenFixture(t *testing.T, _ *env, ws workspace) map[string]string {
	return map[string]string{"id": mint(t, ws.Owner, "isolated-"+newSuffix(), "tokens:read").Id}
}

func signingKeyFixture(t *testing.T, _ *env, ws workspace) map[string]string {
	res, err := ws.Owner.ListSigningKeysWithResponse(t.Context())
	want(t, res, err, http.StatusOK)
	return map[string]string{"kid": res.JSON200.Data[0].Kid}
}

func apiKeyFixture(t *testing.T, _ *env, ws workspace) map[string]string {
	res, err := ws.Owner.CreateAPIKeyWithResponse(t.Context(), sdk.CreateAPIKeyRequest{Name: "isolated", Kind: "team"})
	want(t, res, err, http.StatusCreated)
	return map[string]string{"id": res.JSON201.Id}
}

func webhookFixture(t *testing.T, _ *env, ws workspace) map[string]string {
	return map[string]string{"id": createWebhook(t, ws.Owner, sdk.CreateWebhookRequest{Url: publicHookURL, Events: hookEvents("token.created")}).Id}
}

// deliveryFixture records a delivery attempt of a new webhook, as the delivery worker would.
func deliveryFixture(t *testing.T, e *env, ws workspace) map[string]string {
	p := webhookFixture(t, e, ws)
	id := "dlv_iso" + newSuffix()
	a := &ports.DeliveryAttempt{DeliveryID: id, WorkspaceID: ws.ID, WebhookID: p["id"], EventID: "evt_iso" + newSuffix(),
		Event: "token.created", Attempt: 1, StatusCode: 200, At: time.Now(), Payload: []byte(`{}`)}
	if err := e.Main.Stores().Deliveries.RecordAttempt(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	p["delivery_id"] = id
	return p
}

var suffixes atomic.Int64

// newSuffix makes names and ids unique within the run.
func newSuffix() string { return fmt.Sprintf("%06d", suffixes.Add(1)) }

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// TestIsolationMatrix calls every id-taking operation of openapi.yaml with workspace A's owner key
// on workspace B's resource: each must answer 404 with the error body and leave B exactly as it was.
// The public /w/{workspace_id} documents must not carry B's private values.
func TestIsolationMatrix(t *testing.T) {
	t.Parallel()
	s, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, limits{})
	a, b := e.bootstrap(t, "Iso A"), e.bootstrap(t, "Iso B")

	type call struct{ method, path string }
	var calls []call
	var missing []string
	for path, item := range s.doc.Paths.Map() {
		if !strings.Contains(path, "{") || strings.HasPrefix(path, "/w/{workspace_id}/") {
			continue
		}
		if fixtures[path] == nil {
			missing = append(missing, path)
			continue
		}
		for method := range item.Operations() {
			calls = append(calls, call{method, path})
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		t.Fatalf("no isolation fixture for %s: add an entry to fixtures in isolation_test.go", strings.Join(missing, ", "))
	}
	sort.Slice(calls, func(i, j int) bool { return calls[i].path+calls[i].method < calls[j].path+calls[j].method })

	params := map[string]map[string]string{}
	for _, c := range calls {
		if params[c.path] == nil {
			params[c.path] = fixtures[c.path](t, e, b)
		}
	}
	before := e.stateOf(t, b, params)
	for _, c := range calls {
		target := pathParam.ReplaceAllStringFunc(c.path, func(m string) string { return params[c.path][m[1:len(m)-1]] })
		op := s.doc.Paths.Find(c.path).GetOperation(c.method)
		var body io.Reader
		if op.RequestBody != nil {
			if mt := op.RequestBody.Value.Content.Get("application/json"); mt != nil && mt.Example != nil {
				raw, _ := json.Marshal(mt.Example)
				body = bytes.NewReader(raw)
			}
		}
		req, _ := http.NewRequestWithContext(t.Context(), c.method, e.URL+target, body)
		req.Header.Set("Authorization", "Bearer "+a.Key)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := e.http.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", c.method, target, err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(raw), `"error":"not_found"`) {
			t.Errorf("%s %s with workspace A's key: %d %s, want 404 not_found", c.method, target, resp.StatusCode, truncate(raw))
		}
	}
	if after := e.stateOf(t, b, params); after != before {
		t.Errorf("workspace B changed under A's calls:\nbefore %s\nafter  %s", before, after)
	}
	e.publicDocumentsHoldNoSecrets(t, b, params)
}

// stateOf is everything B's owner can read about its resources, as one string.
func (e *env) stateOf(t *testing.T, ws workspace, params map[string]map[string]string) string {
	t.Helper()
	paths := []string{"/v1/tokens?per_page=100", "/v1/api-keys", "/v1/webhooks", "/v1/signing-keys", "/v1/audit-logs?per_page=100", "/v1/workspace", "/v1/members", "/v1/invitations"}
	for _, p := range params {
		if strings.HasPrefix(p["id"], "wh_") {
			paths = append(paths, "/v1/webhooks/"+p["id"]+"/deliveries")
		}
	}
	slices.Sort(paths)
	var out strings.Builder
	for _, p := range slices.Compact(paths) {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", e.URL+p, nil)
		req.Header.Set("Authorization", "Bearer "+ws.Key)
		resp, err := e.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", p, resp.StatusCode, raw)
		}
		out.WriteString(p + " " + string(raw) + "\n")
	}
	return out.String()
}

// publicDocumentsHoldNoSecrets reads B's public issuer documents and feed: they must not name B's
// tokens, keys, webhooks or deliveries, nor hold its API key.
func (e *env) publicDocumentsHoldNoSecrets(t *testing.T, ws workspace, params map[string]map[string]string) {
	t.Helper()
	private := []string{ws.Key, ws.Email}
	for _, p := range params { // signing key ids are public (the JWKS names them)
		private = append(private, p["id"], p["delivery_id"])
	}
	for _, doc := range []string{"/.well-known/openid-configuration", "/.well-known/jwks.json", "/revocations"} {
		resp, err := e.http.Get(e.URL + "/w/" + ws.ID + doc)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, v := range private {
			if v != "" && strings.Contains(string(raw), v) {
				t.Errorf("public %s of workspace B holds the private value %q", doc, v)
			}
		}
	}
}
