package contract

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tooken/tooken/cmd/tooken/app"
	"github.com/tooken/tooken/sdk"
)

// createWebhook creates a webhook and returns it with its secret.
func createWebhook(t *testing.T, c *sdk.ClientWithResponses, req sdk.CreateWebhookRequest) *sdk.WebhookWithSecret {
	t.Helper()
	res, err := c.CreateWebhookWithResponse(t.Context(), req)
	want(t, res, err, http.StatusCreated)
	return res.JSON201
}

func hookEvents(e ...sdk.WebhookEvent) []sdk.WebhookEvent { return e }

func TestWebhookLifecycleCreateListGetUpdateDeleteWithAuditEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	ctx := t.Context()

	w := createWebhook(t, ws.Owner, sdk.CreateWebhookRequest{Url: publicHookURL,
		Events: hookEvents("token.created", "token.revoked", "token.created"), Description: ptr("relay")})
	if !strings.HasPrefix(w.Id, "wh_") || !strings.HasPrefix(w.Secret, "whsec_") || len(w.Secret) < 38 {
		t.Errorf("created webhook = %+v", w)
	}
	if !w.Enabled || w.Url != publicHookURL || w.Description != "relay" || len(w.Events) != 2 {
		t.Errorf("created webhook = %+v, want enabled (the default), the URL, the description and the events once each", w)
	}

	list, err := ws.Owner.ListWebhooksWithResponse(ctx)
	want(t, list, err, http.StatusOK)
	if len(list.JSON200.Data) != 1 || list.JSON200.Data[0].Id != w.Id {
		t.Errorf("list = %+v", list.JSON200.Data)
	}
	if strings.Contains(string(list.Body), w.Secret) || strings.Contains(string(list.Body), `"secret"`) {
		t.Errorf("the list shows the secret: %s", list.Body)
	}

	// A token with webhooks:read may read; one with webhooks:write may change.
	reader := e.client(t, mint(t, ws.Owner, "reader", "webhooks:read").Token)
	got, err := reader.GetWebhookWithResponse(ctx, w.Id)
	want(t, got, err, http.StatusOK)
	if strings.Contains(string(got.Body), w.Secret) || got.JSON200.Url != publicHookURL {
		t.Errorf("get = %s", got.Body)
	}
	writer := e.client(t, mint(t, ws.Owner, "writer", "webhooks:write").Token)
	upd, err := writer.UpdateWebhookWithResponse(ctx, w.Id, sdk.UpdateWebhookRequest{
		Enabled: ptr(false), Events: ptr(hookEvents("token.expiring")), Url: ptr("https://[2606:4700::1111]/hook")})
	want(t, upd, err, http.StatusOK)
	if u := upd.JSON200; u.Enabled || len(u.Events) != 1 || u.Events[0] != "token.expiring" ||
		u.Url != "https://[2606:4700::1111]/hook" || u.Description != "relay" {
		t.Errorf("updated = %+v, want disabled, one event, the new URL and the description kept", u)
	}

	del, err := writer.DeleteWebhookWithResponse(ctx, w.Id)
	want(t, del, err, http.StatusNoContent)
	gone, err := ws.Owner.GetWebhookWithResponse(ctx, w.Id)
	want(t, gone, err, http.StatusNotFound)

	for _, action := range []string{"webhook.created", "webhook.updated", "webhook.deleted"} {
		res, err := ws.Owner.ListAuditLogsWithResponse(ctx, &sdk.ListAuditLogsParams{Action: ptr(action)})
		want(t, res, err, http.StatusOK)
		if len(res.JSON200.Data) != 1 || res.JSON200.Data[0].Target.Id != w.Id {
			t.Errorf("%s events = %+v", action, res.JSON200.Data)
		}
		if strings.Contains(string(res.Body), w.Secret) {
			t.Errorf("the audit log shows the secret: %s", res.Body)
		}
	}
}

func TestWebhookRequestsWithInvalidFieldsGet400(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	w := createWebhook(t, ws.Owner, sdk.CreateWebhookRequest{Url: publicHookURL, Events: hookEvents("token.created")})
	for name, tc := range map[string]struct{ body, detail string }{
		"missing url":          {`{"events": ["token.created"]}`, "url"},
		"url without host":     {`{"url": "hooks", "events": ["token.created"]}`, "url"},
		"url with credentials": {`{"url": "https://u:p@93.184.215.14/", "events": ["token.created"]}`, "url"},
		"url too long":         {`{"url": "https://93.184.215.14/` + strings.Repeat("a", 2048) + `", "events": ["token.created"]}`, "url"},
		"missing events":       {`{"url": "https://93.184.215.14/"}`, "events"},
		"no events":            {`{"url": "https://93.184.215.14/", "events": []}`, "events"},
		"unknown event":        {`{"url": "https://93.184.215.14/", "events": ["token.exploded"]}`, "events"},
		"description too long": {`{"url": "https://93.184.215.14/", "events": ["token.created"], "description": "` + strings.Repeat("d", 501) + `"}`, "description"},
		"wrong types":          {`{"url": 1, "events": "token.created"}`, ""},
		"malformed JSON":       {`{"url": "https://93.184.215.14/"`, ""},
	} {
		t.Run("create "+name, func(t *testing.T) {
			res, err := ws.Owner.CreateWebhookWithBodyWithResponse(invalidRequest(t.Context()), "application/json", strings.NewReader(tc.body))
			got := want(t, res, err, http.StatusBadRequest)
			if tc.detail != "" {
				wantDetail(t, got, tc.detail)
			}
		})
	}
	for name, tc := range map[string]struct{ body, detail string }{
		"empty url":     {`{"url": ""}`, "url"},
		"unknown event": {`{"events": ["nope"]}`, "events"},
		"wrong types":   {`{"enabled": "yes"}`, ""},
	} {
		t.Run("update "+name, func(t *testing.T) {
			res, err := ws.Owner.UpdateWebhookWithBodyWithResponse(invalidRequest(t.Context()), w.Id, "application/json", strings.NewReader(tc.body))
			got := want(t, res, err, http.StatusBadRequest)
			if tc.detail != "" {
				wantDetail(t, got, tc.detail)
			}
		})
	}
}

// The SSRF guard refuses, at validation and without connecting, every target that is not a public
// https address; with TOOKEN_WEBHOOK_ALLOW_PRIVATE the same targets are accepted.
func TestWebhookURLsThatAreNotPublicHTTPSGet422UnlessPrivateTargetsAreAllowed(t *testing.T) {
	t.Parallel()
	refused := []string{
		"http://127.0.0.1/hook", "https://127.0.0.1/hook", "https://169.254.169.254/latest/meta-data",
		"https://10.0.0.1/hook", "https://192.168.0.10/", "https://[::1]/", "https://[fd00::1]/",
		"https://0.0.0.0/", "https://localhost/hook", "http://93.184.215.14/hook",
	}
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	w := createWebhook(t, ws.Owner, sdk.CreateWebhookRequest{Url: publicHookURL, Events: hookEvents("token.created")})
	for _, u := range refused {
		res, err := ws.Owner.CreateWebhookWithResponse(t.Context(), sdk.CreateWebhookRequest{Url: u, Events: hookEvents("token.created")})
		wantDetail(t, want(t, res, err, http.StatusUnprocessableEntity), "url")
		upd, err := ws.Owner.UpdateWebhookWithResponse(t.Context(), w.Id, sdk.UpdateWebhookRequest{Url: ptr(u)})
		wantDetail(t, want(t, upd, err, http.StatusUnprocessableEntity), "url")
	}
	list, err := ws.Owner.ListWebhooksWithResponse(t.Context())
	want(t, list, err, http.StatusOK)
	if len(list.JSON200.Data) != 1 || list.JSON200.Data[0].Url != publicHookURL {
		t.Errorf("refused requests changed the webhooks: %+v", list.JSON200.Data)
	}

	open := newEnv(t, limits{}, func(c *app.Config) { c.WebhookAllowPrivate = true })
	ows := open.bootstrap(t, "Local")
	for _, u := range refused[:len(refused)-1] {
		createWebhook(t, ows.Owner, sdk.CreateWebhookRequest{Url: u, Events: hookEvents("token.created")})
	}
}

func TestUnknownWebhookAndWebhookOfAnotherWorkspaceAreNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	acme, globex := e.bootstrap(t, "Acme"), e.bootstrap(t, "Globex")
	ctx := t.Context()
	theirs := createWebhook(t, globex.Owner, sdk.CreateWebhookRequest{Url: publicHookURL, Events: hookEvents("token.created")})
	for _, id := range []string{theirs.Id, anyWebhookID, "nope"} {
		get, err := acme.Owner.GetWebhookWithResponse(ctx, id)
		want(t, get, err, http.StatusNotFound)
		upd, err := acme.Owner.UpdateWebhookWithResponse(ctx, id, sdk.UpdateWebhookRequest{Enabled: ptr(false)})
		want(t, upd, err, http.StatusNotFound)
		del, err := acme.Owner.DeleteWebhookWithResponse(ctx, id)
		want(t, del, err, http.StatusNotFound)
	}
	list, err := acme.Owner.ListWebhooksWithResponse(ctx)
	want(t, list, err, http.StatusOK)
	if len(list.JSON200.Data) != 0 {
		t.Errorf("Acme lists %+v", list.JSON200.Data)
	}
	res, err := globex.Owner.GetWebhookWithResponse(ctx, theirs.Id)
	want(t, res, err, http.StatusOK)
	if !res.JSON200.Enabled {
		t.Error("another workspace's call changed the webhook")
	}
}
