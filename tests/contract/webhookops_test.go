package contract

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tooken/tooken/ports"
	"github.com/tooken/tooken/sdk"
)

// The job queue does not run in the contract suite: deliveries are queued, never sent. A recorded
// attempt is written to the delivery log directly, as the delivery worker would.
func TestWebhookDeliveriesRedeliverPingAndSecretRotation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	ctx := t.Context()
	w := createWebhook(t, ws.Owner, sdk.CreateWebhookRequest{Url: publicHookURL, Events: hookEvents("token.created")})

	empty, err := ws.Owner.ListWebhookDeliveriesWithResponse(ctx, w.Id)
	want(t, empty, err, http.StatusOK)
	if len(empty.JSON200.Data) != 0 {
		t.Errorf("deliveries of a new webhook = %+v", empty.JSON200.Data)
	}
	for n, status := range []int{500, 200} {
		a := &ports.DeliveryAttempt{DeliveryID: "dlv_recorded000000000000000", WorkspaceID: ws.ID, WebhookID: w.Id,
			EventID: "evt_recorded000000000000000", Event: "token.created", Attempt: n + 1, StatusCode: status,
			LatencyMS: 12, At: time.Now().Add(time.Duration(n) * time.Second), Payload: []byte(`{"id":"evt_recorded000000000000000"}`)}
		if status != 200 {
			a.Error = "receiver answered 500"
		}
		if err := e.Main.Stores().Deliveries.RecordAttempt(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	log, err := e.client(t, mint(t, ws.Owner, "reader", "webhooks:read").Token).ListWebhookDeliveriesWithResponse(ctx, w.Id)
	want(t, log, err, http.StatusOK)
	if d := log.JSON200.Data; len(d) != 2 || d[0].Attempt != 2 || d[0].StatusCode == nil || *d[0].StatusCode != 200 ||
		d[0].Error != nil || d[1].Error == nil || d[1].LatencyMs != 12 {
		t.Errorf("delivery log = %s", log.Body)
	}

	re, err := ws.Owner.RedeliverWebhookDeliveryWithResponse(ctx, w.Id, "dlv_recorded000000000000000")
	want(t, re, err, http.StatusAccepted)
	if q := re.JSON202; q.EventId != "evt_recorded000000000000000" || q.Event != "token.created" ||
		!strings.HasPrefix(q.DeliveryId, "dlv_") || q.DeliveryId == "dlv_recorded000000000000000" {
		t.Errorf("redelivery = %+v, want a new delivery of the same event", q)
	}
	ping, err := ws.Owner.TestWebhookWithResponse(ctx, w.Id)
	want(t, ping, err, http.StatusAccepted)
	if ping.JSON202.Event != "webhook.ping" || !strings.HasPrefix(ping.JSON202.EventId, "evt_") {
		t.Errorf("ping = %+v", ping.JSON202)
	}

	rot, err := ws.Owner.RotateWebhookSecretWithResponse(ctx, w.Id)
	want(t, rot, err, http.StatusOK)
	if rot.JSON200.Id != w.Id || !strings.HasPrefix(rot.JSON200.Secret, "whsec_") || rot.JSON200.Secret == w.Secret {
		t.Errorf("rotated = %+v, want a new secret", rot.JSON200)
	}
	ev, err := ws.Owner.ListAuditLogsWithResponse(ctx, &sdk.ListAuditLogsParams{Action: ptr("webhook.secret_rotated")})
	want(t, ev, err, http.StatusOK)
	if len(ev.JSON200.Data) != 1 || strings.Contains(string(ev.Body), rot.JSON200.Secret) || strings.Contains(string(ev.Body), w.Secret) {
		t.Errorf("secret_rotated events = %s", ev.Body)
	}

	// Unknown deliveries are 404; a disabled webhook sends nothing (409).
	unknown, err := ws.Owner.RedeliverWebhookDeliveryWithResponse(ctx, w.Id, "dlv_unknown0000000000000000")
	want(t, unknown, err, http.StatusNotFound)
	upd, err := ws.Owner.UpdateWebhookWithResponse(ctx, w.Id, sdk.UpdateWebhookRequest{Enabled: ptr(false)})
	want(t, upd, err, http.StatusOK)
	off, err := ws.Owner.TestWebhookWithResponse(ctx, w.Id)
	want(t, off, err, http.StatusConflict)
	offRe, err := ws.Owner.RedeliverWebhookDeliveryWithResponse(ctx, w.Id, "dlv_recorded000000000000000")
	want(t, offRe, err, http.StatusConflict)
}

func TestWebhookOperationsOnAnotherWorkspacesWebhookAreNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	acme, globex := e.bootstrap(t, "Acme"), e.bootstrap(t, "Globex")
	ctx := t.Context()
	theirs := createWebhook(t, globex.Owner, sdk.CreateWebhookRequest{Url: publicHookURL, Events: hookEvents("token.created")})
	for _, id := range []string{theirs.Id, anyWebhookID} {
		l, err := acme.Owner.ListWebhookDeliveriesWithResponse(ctx, id)
		want(t, l, err, http.StatusNotFound)
		r, err := acme.Owner.RedeliverWebhookDeliveryWithResponse(ctx, id, "dlv_any00000000000000000000")
		want(t, r, err, http.StatusNotFound)
		p, err := acme.Owner.TestWebhookWithResponse(ctx, id)
		want(t, p, err, http.StatusNotFound)
		s, err := acme.Owner.RotateWebhookSecretWithResponse(ctx, id)
		want(t, s, err, http.StatusNotFound)
	}
}
