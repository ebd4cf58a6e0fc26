package core_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tooken/tooken/core"
	"github.com/tooken/tooken/ports"
)

// refuseHost is a URL guard that refuses one host, to check that the service consults its guard.
type refuseHost string

func (r refuseHost) CheckURL(_ context.Context, raw string) error {
	if strings.Contains(raw, string(r)) {
		return ports.Errorf(ports.EUNPROCESSABLE, "not public")
	}
	return nil
}

func TestCreateWebhookValidatesAndShowsTheSecretOnce(t *testing.T) {
	e := newEnv(t)
	p := e.workspace("acme")
	w, err := e.svc.CreateWebhook(e.ctx, p, core.CreateWebhookInput{URL: "https://hooks.example.com/x",
		Events: []string{"token.created", "token.created", "token.rotated"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(w.Secret, core.WebhookSecretPrefix) || !w.Enabled || len(w.Events) != 2 {
		t.Errorf("webhook = %+v", w)
	}
	for name, in := range map[string]core.CreateWebhookInput{
		"no url":        {Events: []string{"token.created"}},
		"relative url":  {URL: "/hook", Events: []string{"token.created"}},
		"no events":     {URL: "https://hooks.example.com/x"},
		"unknown event": {URL: "https://hooks.example.com/x", Events: []string{"token.used"}},
		"long text":     {URL: "https://hooks.example.com/x", Events: []string{"token.created"}, Description: strings.Repeat("x", 501)},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := e.svc.CreateWebhook(e.ctx, p, in)
			wantCode(t, err, ports.EINVALID)
		})
	}
}

func TestWebhookURLsGoThroughTheGuardOnCreateAndUpdate(t *testing.T) {
	e := newEnv(t)
	svc := core.New(core.Config{PublicURL: "https://tooken.test", WebhookGuard: refuseHost("internal")},
		e.stores, nil, e.clock, nil)
	p := e.workspace("acme")
	_, err := svc.CreateWebhook(e.ctx, p, core.CreateWebhookInput{URL: "https://internal/x", Events: []string{"token.created"}})
	wantCode(t, err, ports.EUNPROCESSABLE)
	w, err := svc.CreateWebhook(e.ctx, p, core.CreateWebhookInput{URL: "https://public/x", Events: []string{"token.created"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = svc.UpdateWebhook(e.ctx, p, w.ID, core.UpdateWebhookInput{URL: ptr("https://internal/y")})
	wantCode(t, err, ports.EUNPROCESSABLE)
	got, err := svc.GetWebhook(e.ctx, p, w.ID)
	if err != nil || got.URL != "https://public/x" {
		t.Errorf("after a refused update: %+v, %v", got, err)
	}
}

func TestWebhookPermissions(t *testing.T) {
	e := newEnv(t)
	owner := e.workspace("acme")
	w, err := e.svc.CreateWebhook(e.ctx, owner, core.CreateWebhookInput{URL: "https://h.example/x", Events: []string{"token.created"}})
	if err != nil {
		t.Fatal(err)
	}
	reader := e.auth(e.token(owner, "reader", core.ScopeWebhooksRead).Value)
	if _, err := e.svc.ListWebhooks(e.ctx, reader); err != nil {
		t.Errorf("reader list: %v", err)
	}
	_, err = e.svc.UpdateWebhook(e.ctx, reader, w.ID, core.UpdateWebhookInput{Enabled: ptr(false)})
	wantCode(t, err, ports.EFORBIDDEN)
	wantCode(t, e.svc.DeleteWebhook(e.ctx, reader, w.ID), ports.EFORBIDDEN)
	other := e.workspace("globex")
	_, err = e.svc.GetWebhook(e.ctx, other, w.ID)
	wantCode(t, err, ports.ENOTFOUND)
	wantCode(t, e.svc.DeleteWebhook(e.ctx, other, w.ID), ports.ENOTFOUND)
}
