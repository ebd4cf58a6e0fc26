package browser

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/tooken/tooken/sdk"
)

const password = "violet-harbor-lantern-42"

type id = chromedp.ID
type css = chromedp.CSS

// signUp creates an account through the sign-up form and lands on the first-workspace prompt.
func signUp(t *testing.T, ctx context.Context, base, email string) {
	t.Helper()
	run(t, ctx, "sign up", chromedp.Navigate(base+"/signup"),
		chromedp.SetValue(id("email"), email), chromedp.SetValue(id("password"), password),
		chromedp.SetValue(id("password_confirm"), password), chromedp.Click(css("main form button[type=submit]")),
		chromedp.WaitVisible(id("ws-name")))
}

func signIn(t *testing.T, ctx context.Context, base, email string) {
	t.Helper()
	run(t, ctx, "sign in", chromedp.Navigate(base+"/signin"),
		chromedp.SetValue(id("email"), email), chromedp.SetValue(id("password"), password),
		chromedp.Click(css("main form button[type=submit]")), chromedp.WaitVisible(css("main h1")))
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return get(t, ctx, "text of "+sel, chromedp.Text(css(sel)))
}

// The quickstart journey: sign up → create a workspace → generate an API key in Settings → use it
// with the SDK to create a token → see it in the table → revoke it through the confirm dialog → the
// token now gets 401 → the audit log shows token.created and token.revoked. Then a viewer of that
// workspace sees no create/revoke buttons, and a forged POST with their own CSRF token is refused.
func TestQuickstartJourneyAndViewerJourney(t *testing.T) {
	s := startServer(t)
	ctx := newBrowser(t)

	run(t, ctx, "sign-in page", chromedp.Navigate(s.URL+"/signin"), chromedp.WaitVisible(id("email")))
	screenshot(t, ctx, "signin")
	signUp(t, ctx, s.URL, "ada@example.test")
	run(t, ctx, "create workspace", chromedp.SetValue(id("ws-name"), "Acme"),
		chromedp.Click(css("main form button[type=submit]")), chromedp.WaitVisible(css("table")))
	loc := get(t, ctx, "location", chromedp.Location())
	ws := strings.TrimSuffix(strings.TrimPrefix(loc, s.URL+"/app/"), "/tokens")
	if !strings.HasPrefix(ws, "ws_") {
		t.Fatalf("after creating a workspace the browser is at %s", loc)
	}
	app := s.URL + "/app/" + ws

	run(t, ctx, "new API key", chromedp.Navigate(app+"/settings/api-keys"),
		chromedp.Click(css(`[data-open-dialog="#new-key"]`)), chromedp.WaitVisible(id("key-name")),
		chromedp.SetValue(id("key-name"), "deploy"), chromedp.Click(css("#new-key button[type=submit]")),
		chromedp.WaitVisible(id("secret-value")))
	apiKey := get(t, ctx, "API key value", chromedp.Value(id("secret-value")))
	if !strings.HasPrefix(apiKey, "tok_live_") {
		t.Fatalf("the dialog shows %q, want an API key", apiKey)
	}
	screenshot(t, ctx, "api-keys")

	client, err := sdk.NewClientWithResponses(s.URL, sdk.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "Bearer "+apiKey)
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	created, err := client.CreateTokenWithResponse(context.Background(), sdk.CreateTokenJSONRequestBody{
		Name: "ci-deploy", Scopes: []string{"tokens:read"}})
	if err != nil || created.JSON201 == nil {
		t.Fatalf("creating a token with the dashboard's API key: %v %s", err, created.Body)
	}
	value := created.JSON201.Token
	if got := status(t, "GET", s.URL+"/v1/tokens", value); got != http.StatusOK {
		t.Fatalf("the new token lists tokens: %d, want 200", got)
	}

	run(t, ctx, "tokens table", chromedp.Navigate(app+"/tokens"), chromedp.WaitVisible(css("table")))
	if table := text(t, ctx, "table"); !strings.Contains(table, "ci-deploy") {
		t.Fatalf("the tokens table does not show ci-deploy:\n%s", table)
	}
	run(t, ctx, "new token form", chromedp.Click(css(`[data-open-dialog="#new-token"]`)), chromedp.WaitVisible(id("token-name")),
		chromedp.SetValue(id("token-name"), "orders-service"), chromedp.Click(css(`input[value="audit:read"]`)),
		chromedp.Click(css("#new-token button[type=submit]")), chromedp.WaitVisible(id("secret-value")))
	if v := get(t, ctx, "token value", chromedp.Value(id("secret-value"))); strings.Count(v, ".") != 2 {
		t.Errorf("the value dialog shows %q, want a JWT", v)
	}
	if !strings.Contains(text(t, ctx, "#secret-dialog"), "you will not see this again") {
		t.Error(`the value dialog does not say "you will not see this again"`)
	}
	screenshot(t, ctx, "tokens-value-dialog")

	run(t, ctx, "token detail", chromedp.Navigate(app+"/tokens/"+created.JSON201.Id), chromedp.WaitVisible(css(".details")))
	screenshot(t, ctx, "token-detail")
	run(t, ctx, "revoke", chromedp.Click(css(`[data-open-dialog="#revoke"]`)), chromedp.WaitVisible(id("confirm-revoke")))
	if !strings.Contains(text(t, ctx, "#revoke"), "permanent") {
		t.Error("the revoke dialog does not say it is permanent")
	}
	run(t, ctx, "confirm revoke", chromedp.Click(id("confirm-revoke")), chromedp.WaitVisible(css(".head .status.revoked")))
	if got := status(t, "GET", s.URL+"/v1/tokens", value); got != http.StatusUnauthorized {
		t.Errorf("the revoked token lists tokens: %d, want 401", got)
	}

	run(t, ctx, "audit log", chromedp.Navigate(app+"/audit"), chromedp.WaitVisible(css("table")))
	audit := text(t, ctx, "table")
	for _, action := range []string{"token.created", "token.revoked", "api_key.created", "workspace.created"} {
		if !strings.Contains(audit, action) {
			t.Errorf("the audit log does not show %s", action)
		}
	}
	screenshot(t, ctx, "audit-log")
	run(t, ctx, "settings", chromedp.Navigate(app+"/settings/general"), chromedp.WaitVisible(id("timezone")))
	screenshot(t, ctx, "settings-general")

	// The viewer journey, in the same browser after signing out.
	run(t, ctx, "sign out", chromedp.Click(css(".top form button")), chromedp.WaitVisible(id("email")))
	signUp(t, ctx, s.URL, "vic@example.test")
	s.addMember(t, ws, "vic@example.test", "viewer")
	run(t, ctx, "viewer tokens", chromedp.Navigate(app+"/tokens"), chromedp.WaitVisible(css("table")))
	if table := text(t, ctx, "table"); !strings.Contains(table, "orders-service") {
		t.Fatalf("the viewer's table does not show the workspace's tokens:\n%s", table)
	}
	ordersID := get(t, ctx, "token link", chromedp.Evaluate[string](
		`[...document.querySelectorAll("table a")].find(a => a.textContent === "orders-service").pathname.split("/").pop()`))
	if n := get(t, ctx, "buttons", chromedp.Evaluate[int](`document.querySelectorAll("[data-open-dialog]").length`)); n != 0 {
		t.Errorf("a viewer sees %d create buttons on the tokens page, want 0", n)
	}
	run(t, ctx, "viewer detail", chromedp.Navigate(app+"/tokens/"+ordersID), chromedp.WaitVisible(css(".details")))
	if n := get(t, ctx, "buttons", chromedp.Evaluate[int](`document.querySelectorAll("[data-open-dialog], form[action$=rotate]").length`)); n != 0 {
		t.Errorf("a viewer sees %d revoke/rotate controls, want 0", n)
	}
	forge := func(path, body string) int {
		return get(t, ctx, "forged POST "+path, chromedp.Evaluate[int](`fetch("`+path+`", {method: "POST",
			headers: {"Content-Type": "application/x-www-form-urlencoded"},
			body: "csrf_token=" + encodeURIComponent(document.querySelector("input[name=csrf_token]").value) + "`+body+`"})
			.then(r => r.status)`, chromedp.EvalAwaitPromise))
	}
	if got := forge("/app/"+ws+"/tokens/"+ordersID+"/revoke", ""); got != http.StatusForbidden {
		t.Errorf("a viewer's forged revoke: %d, want 403", got)
	}
	if got := forge("/app/"+ws+"/tokens", "&name=forged&scopes=tokens:read"); got != http.StatusForbidden {
		t.Errorf("a viewer's forged create: %d, want 403", got)
	}
	run(t, ctx, "viewer detail again", chromedp.Navigate(app+"/tokens/"+ordersID), chromedp.WaitVisible(css(".head .status.active")))
}
