package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tooken/tooken/ports"
)

func (e *env) webhooks(ws string) []ports.Webhook {
	e.t.Helper()
	hooks, err := e.svc.ListWebhooks(context.Background(), e.principal("ada@example.test", ws))
	if err != nil {
		e.t.Fatal(err)
	}
	return hooks
}

func TestNewWebhookShowsItsSecretOnceAndRefusesABadURLInPlace(t *testing.T) {
	e := newEnv(t)
	owner, ws := e.owner()
	list := "/app/" + ws + "/settings/webhooks"
	p := owner.post(list, list, url.Values{"url": {"not a url"}, "events": {"token.created"}, "description": {"ci"}})
	if p.status != http.StatusUnprocessableEntity && p.status != http.StatusBadRequest || !strings.Contains(p.body, `role="alert"`) ||
		!strings.Contains(p.body, `value="not a url"`) {
		t.Errorf("bad URL: %d, want the form again with the core's message and the input kept", p.status)
	}
	p = owner.post(list, list, url.Values{"url": {"https://hooks.example.test/in"}, "events": {"token.created", "token.revoked"}, "description": {"ci"}})
	hooks := e.webhooks(ws)
	if p.status != http.StatusCreated || len(hooks) != 1 {
		t.Fatalf("create: %d, %d webhooks", p.status, len(hooks))
	}
	if h := hooks[0]; !strings.Contains(p.body, `value="`+h.Secret+`"`) || strings.Join(h.Events, ",") != "token.created,token.revoked" || h.Description != "ci" {
		t.Errorf("created webhook %+v; secret shown: %v", h, strings.Contains(p.body, h.Secret))
	}
	if p := owner.get(list); strings.Contains(p.body, hooks[0].Secret) || !strings.Contains(p.body, "https://hooks.example.test/in") {
		t.Error("the list shows the secret again or misses the webhook")
	}
}

func TestWebhookPageDisablesEnablesPingsRotatesRedeliversAndDeletes(t *testing.T) {
	e := newEnv(t)
	owner, ws := e.owner()
	list := "/app/" + ws + "/settings/webhooks"
	owner.post(list, list, url.Values{"url": {"https://hooks.example.test/in"}, "events": {"token.created"}})
	hook := e.webhooks(ws)[0]
	one := list + "/" + hook.ID
	act := func(action string) page {
		t.Helper()
		p := owner.post(one, one+"/"+action, url.Values{})
		if p.status != http.StatusOK {
			t.Fatalf("%s: %d", action, p.status)
		}
		return p
	}
	if act("disable"); e.webhooks(ws)[0].Enabled {
		t.Error("still enabled after Disable")
	}
	if p := owner.get(one); strings.Contains(p.body, "/ping") || !strings.Contains(p.body, "/enable") {
		t.Error("a disabled webhook's page offers a ping, or no Enable")
	}
	if act("enable"); !e.webhooks(ws)[0].Enabled {
		t.Error("still disabled after Enable")
	}
	act("ping")
	if q := e.queue.deliveries(); len(q) != 1 || q[0].Event != "webhook.ping" || q[0].WebhookID != hook.ID {
		t.Errorf("queued after ping: %+v", q)
	}
	p := act("rotate-secret")
	rotated := e.webhooks(ws)[0]
	if rotated.Secret == hook.Secret || !strings.Contains(p.body, `value="`+rotated.Secret+`"`) {
		t.Errorf("rotate: new secret differs %v, shown %v", rotated.Secret != hook.Secret, strings.Contains(p.body, rotated.Secret))
	}
	if p := owner.get(one); strings.Contains(p.body, rotated.Secret) {
		t.Error("the webhook page shows the secret again")
	}

	err := e.stores.Deliveries.RecordAttempt(context.Background(), &ports.DeliveryAttempt{DeliveryID: "dlv_test1", WorkspaceID: ws,
		WebhookID: hook.ID, EventID: "evt_test1", Event: "token.created", Attempt: 2, StatusCode: 502, LatencyMS: 87,
		Error: "bad gateway", At: e.clock.Now(), Payload: []byte(`{"id":"evt_test1"}`)})
	if err != nil {
		t.Fatal(err)
	}
	p = owner.get(one)
	for _, s := range []string{"token.created", "<td>2</td>", "<td>502</td>", "87 ms", "bad gateway", "/deliveries/dlv_test1/redeliver"} {
		if !strings.Contains(p.body, s) {
			t.Errorf("delivery log lacks %q", s)
		}
	}
	act("deliveries/dlv_test1/redeliver")
	if q := e.queue.deliveries(); len(q) != 2 || q[1].EventID != "evt_test1" || string(q[1].Payload) != `{"id":"evt_test1"}` || q[1].ID == "dlv_test1" {
		t.Errorf("queued after redeliver: %+v", q)
	}
	if p := owner.post(one, one+"/delete", url.Values{}); p.status != http.StatusSeeOther || len(e.webhooks(ws)) != 0 {
		t.Errorf("delete: %d, %d webhooks left", p.status, len(e.webhooks(ws)))
	}
	if p := owner.get(one); p.status != http.StatusNotFound {
		t.Errorf("deleted webhook's page: %d, want 404", p.status)
	}
}
