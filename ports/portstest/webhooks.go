package portstest

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/tooken/tooken/ports"
)

// TestWebhookStore checks a ports.WebhookStore: round trips (secret included), newest-first lists,
// updates, compare-and-swap of health, deletion, their audit events in the same write, and workspace
// isolation.
func TestWebhookStore(t *testing.T, newStores Factory) {
	run(t, newStores, "CreateWebhookRoundTripsAndRecordsEvent", testWebhookRoundTrip)
	run(t, newStores, "WebhooksListsNewestFirst", testWebhooksNewestFirst)
	run(t, newStores, "UpdateWebhookChangesItsFieldsOnly", testUpdateWebhook)
	run(t, newStores, "DeleteWebhookRemovesIt", testDeleteWebhook)
	run(t, newStores, "WebhooksAreScopedToTheirWorkspace", testWebhookIsolation)
	run(t, newStores, "DeliveryLogKeepsEachAttemptOnce", testDeliveryLog)
	run(t, newStores, "RotateWebhookSecretKeepsThePreviousOne", testRotateWebhookSecret)
	run(t, newStores, "SwapWebhookHealthHasOneWinner", testSwapWebhookHealth)
}

func (e *env) webhookRecord(tn *tenant, at time.Time) *ports.Webhook {
	return &ports.Webhook{ID: newID("wh_"), WorkspaceID: tn.WS.ID, URL: "https://hooks.example.test/" + newID("p"),
		Events: []string{"token.created", "token.revoked"}, Enabled: true, Description: "relay",
		Secret: newID("whsec_"), CreatedAt: at, UpdatedAt: at}
}

func (e *env) webhookEvent(w *ports.Webhook, action string, at time.Time) *ports.AuditEvent {
	return e.event(w.WorkspaceID, action, ports.Target{Type: "webhook", ID: w.ID, Name: w.URL}, at)
}

func (e *env) createWebhook(tn *tenant, at time.Time) *ports.Webhook {
	e.t.Helper()
	w := e.webhookRecord(tn, at)
	c := *w
	c.Events = slices.Clone(w.Events)
	e.must(e.s.Webhooks.CreateWebhook(e.ctx, &c, nil), "CreateWebhook")
	return w
}

func (e *env) wantWebhook(want *ports.Webhook) {
	e.t.Helper()
	got, err := e.s.Webhooks.Webhook(e.ctx, want.WorkspaceID, want.ID)
	e.must(err, "Webhook")
	w := *want
	w.CreatedAt, w.UpdatedAt = w.CreatedAt.UTC().Truncate(time.Microsecond), w.UpdatedAt.UTC().Truncate(time.Microsecond)
	g := *got
	g.CreatedAt, g.UpdatedAt = g.CreatedAt.UTC(), g.UpdatedAt.UTC()
	if !reflect.DeepEqual(g, w) {
		e.t.Errorf("Webhook = %+v, want %+v", g, w)
	}
}

func testWebhookRoundTrip(e *env) {
	tn := e.newTenant()
	w := e.webhookRecord(tn, e.at(0))
	ev := e.webhookEvent(w, "webhook.created", e.at(0))
	c := *w
	e.must(e.s.Webhooks.CreateWebhook(e.ctx, &c, cloneEvent(ev)), "CreateWebhook")
	e.wantWebhook(w)
	e.wantRecorded(ev)
	e.wantCode(e.s.Webhooks.CreateWebhook(e.ctx, &c, nil), ports.ECONFLICT, "CreateWebhook with an existing id")
}

func testWebhooksNewestFirst(e *env) {
	tn := e.newTenant()
	old, mid, last := e.createWebhook(tn, e.at(0)), e.createWebhook(tn, e.at(time.Second)), e.createWebhook(tn, e.at(2*time.Second))
	list, err := e.s.Webhooks.Webhooks(e.ctx, tn.WS.ID)
	e.must(err, "Webhooks")
	var ids []string
	for _, w := range list {
		ids = append(ids, w.ID)
	}
	if want := []string{last.ID, mid.ID, old.ID}; !slices.Equal(ids, want) {
		e.t.Errorf("Webhooks = %v, want %v", ids, want)
	}
}

func testUpdateWebhook(e *env) {
	tn := e.newTenant()
	w := e.createWebhook(tn, e.at(0))
	u := *w
	u.URL, u.Events, u.Enabled, u.Description = "https://other.example.test/x", []string{"token.expiring"}, false, ""
	u.UpdatedAt = e.at(time.Minute)
	u.FailingSince = ptr(e.at(30 * time.Second))
	u.Secret = "ignored"
	ev := e.webhookEvent(w, "webhook.updated", e.at(time.Minute))
	e.must(e.s.Webhooks.UpdateWebhook(e.ctx, &u, true, cloneEvent(ev)), "UpdateWebhook")
	u.Secret = w.Secret // the secret is not an updatable field
	e.wantWebhook(&u)
	e.wantRecorded(ev)

	// Without setHealth the stored health stays whatever w says.
	edit := u
	edit.Description, edit.Enabled, edit.FailingSince, edit.UpdatedAt = "edited", true, nil, e.at(2*time.Minute)
	e.must(e.s.Webhooks.UpdateWebhook(e.ctx, &edit, false, nil), "UpdateWebhook without health")
	edit.Enabled, edit.FailingSince = u.Enabled, u.FailingSince
	e.wantWebhook(&edit)

	missing := u
	missing.ID = newID("wh_")
	e.wantCode(e.s.Webhooks.UpdateWebhook(e.ctx, &missing, true, nil), ports.ENOTFOUND, "UpdateWebhook of an unknown webhook")
	e.wantCode(e.s.Webhooks.UpdateWebhook(e.ctx, &missing, false, nil), ports.ENOTFOUND, "UpdateWebhook of an unknown webhook without health")
}

func testDeleteWebhook(e *env) {
	tn := e.newTenant()
	w := e.createWebhook(tn, e.at(0))
	ev := e.webhookEvent(w, "webhook.deleted", e.at(time.Minute))
	e.must(e.s.Webhooks.DeleteWebhook(e.ctx, tn.WS.ID, w.ID, cloneEvent(ev)), "DeleteWebhook")
	_, err := e.s.Webhooks.Webhook(e.ctx, tn.WS.ID, w.ID)
	e.wantCode(err, ports.ENOTFOUND, "Webhook after delete")
	e.wantRecorded(ev)
	again := e.webhookEvent(w, "webhook.deleted", e.at(2*time.Minute))
	e.wantCode(e.s.Webhooks.DeleteWebhook(e.ctx, tn.WS.ID, w.ID, cloneEvent(again)), ports.ENOTFOUND, "DeleteWebhook again")
	e.wantNotRecorded(again.ID, tn.WS.ID)
}

func testWebhookIsolation(e *env) {
	a, b := e.newTenant(), e.newTenant()
	w := e.createWebhook(a, e.at(0))
	_, err := e.s.Webhooks.Webhook(e.ctx, b.WS.ID, w.ID)
	e.wantCode(err, ports.ENOTFOUND, "Webhook of another workspace")
	u := *w
	u.WorkspaceID, u.Enabled = b.WS.ID, false
	e.wantCode(e.s.Webhooks.UpdateWebhook(e.ctx, &u, true, nil), ports.ENOTFOUND, "UpdateWebhook of another workspace")
	e.wantCode(e.s.Webhooks.DeleteWebhook(e.ctx, b.WS.ID, w.ID, nil), ports.ENOTFOUND, "DeleteWebhook of another workspace")
	list, err := e.s.Webhooks.Webhooks(e.ctx, b.WS.ID)
	e.must(err, "Webhooks")
	if len(list) != 0 {
		e.t.Errorf("Webhooks of b = %+v", list)
	}
	e.wantWebhook(w)
}

func testDeliveryLog(e *env) {
	a, b := e.newTenant(), e.newTenant()
	w := e.createWebhook(a, e.at(0))
	dlv := newID("dlv_")
	for n := 1; n <= 3; n++ {
		at := &ports.DeliveryAttempt{DeliveryID: dlv, WorkspaceID: a.WS.ID, WebhookID: w.ID, EventID: "evt_x",
			Event: "token.created", Attempt: n, StatusCode: 500, LatencyMS: int64(n), Error: "receiver answered 500",
			At: e.at(time.Duration(n) * time.Second)}
		if n == 3 {
			at.StatusCode, at.Error = 200, ""
		}
		e.must(e.s.Deliveries.RecordAttempt(e.ctx, at), "RecordAttempt")
	}
	// An attempt run twice (at-least-once) is recorded once.
	e.must(e.s.Deliveries.RecordAttempt(e.ctx, &ports.DeliveryAttempt{DeliveryID: dlv, WorkspaceID: a.WS.ID,
		WebhookID: w.ID, EventID: "evt_x", Event: "token.created", Attempt: 3, StatusCode: 200, At: e.at(4 * time.Second)}), "RecordAttempt again")
	got, err := e.s.Deliveries.Attempts(e.ctx, a.WS.ID, w.ID, 10)
	e.must(err, "Attempts")
	if len(got) != 3 || got[0].Attempt != 3 || got[0].StatusCode != 200 || got[2].Attempt != 1 ||
		got[2].Error != "receiver answered 500" || got[1].LatencyMS != 2 || !got[0].At.Equal(e.at(3*time.Second)) {
		e.t.Errorf("Attempts = %+v", got)
	}
	if got, _ := e.s.Deliveries.Attempts(e.ctx, a.WS.ID, w.ID, 1); len(got) != 1 {
		e.t.Errorf("Attempts with limit 1 = %d rows", len(got))
	}
	if got, _ := e.s.Deliveries.Attempts(e.ctx, b.WS.ID, w.ID, 10); len(got) != 0 {
		e.t.Errorf("another workspace reads the log: %+v", got)
	}
	e.must(e.s.Deliveries.RecordAttempt(e.ctx, &ports.DeliveryAttempt{DeliveryID: newID("dlv_"), WorkspaceID: a.WS.ID,
		WebhookID: w.ID, EventID: "evt_y", Event: "token.revoked", Attempt: 1, At: e.at(5 * time.Second),
		Payload: []byte(`{"id":"evt_y"}`)}), "RecordAttempt with a payload")
	list, _ := e.s.Deliveries.Attempts(e.ctx, a.WS.ID, w.ID, 1)
	d, err := e.s.Deliveries.Delivery(e.ctx, a.WS.ID, w.ID, list[0].DeliveryID)
	e.must(err, "Delivery")
	if d.EventID != "evt_y" || d.Event != "token.revoked" || string(d.Payload) != `{"id":"evt_y"}` || d.WebhookID != w.ID {
		e.t.Errorf("Delivery = %+v", d)
	}
	_, err = e.s.Deliveries.Delivery(e.ctx, b.WS.ID, w.ID, list[0].DeliveryID)
	e.wantCode(err, ports.ENOTFOUND, "Delivery of another workspace")
	_, err = e.s.Deliveries.Delivery(e.ctx, a.WS.ID, w.ID, newID("dlv_"))
	e.wantCode(err, ports.ENOTFOUND, "unknown Delivery")
}

func testRotateWebhookSecret(e *env) {
	tn := e.newTenant()
	w := e.createWebhook(tn, e.at(0))
	r := *w
	until := e.at(24 * time.Hour)
	r.PreviousSecret, r.PreviousSecretUntil, r.Secret, r.UpdatedAt = w.Secret, &until, newID("whsec_"), e.at(time.Second)
	ev := e.webhookEvent(w, "webhook.secret_rotated", e.at(time.Second))
	e.must(e.s.Webhooks.RotateWebhookSecret(e.ctx, &r, cloneEvent(ev)), "RotateWebhookSecret")
	e.wantWebhook(&r)
	e.wantRecorded(ev)
	other := e.newTenant()
	r.WorkspaceID = other.WS.ID
	e.wantCode(e.s.Webhooks.RotateWebhookSecret(e.ctx, &r, nil), ports.ENOTFOUND, "RotateWebhookSecret in another workspace")
}

func testSwapWebhookHealth(e *env) {
	tn := e.newTenant()
	w := e.createWebhook(tn, e.at(0))
	since := e.at(time.Second)
	failing := ports.WebhookHealth{Enabled: true, FailingSince: &since}
	ok, err := e.s.Webhooks.SwapWebhookHealth(e.ctx, tn.WS.ID, w.ID, w.Health(), failing, e.at(time.Second), nil)
	e.must(err, "SwapWebhookHealth")
	if !ok {
		e.t.Fatal("SwapWebhookHealth from the stored health did not swap")
	}
	stale := []ports.WebhookHealth{w.Health(), {Enabled: false, FailingSince: &since}, {Enabled: true, FailingSince: ptr(e.at(2 * time.Second))}}
	for _, prev := range stale {
		ev := e.webhookEvent(w, "webhook.disabled", e.at(time.Minute))
		ok, err := e.s.Webhooks.SwapWebhookHealth(e.ctx, tn.WS.ID, w.ID, prev, ports.WebhookHealth{}, e.at(time.Minute), cloneEvent(ev))
		e.must(err, "SwapWebhookHealth from a stale health")
		if ok {
			e.t.Errorf("SwapWebhookHealth from %+v swapped; the stored health is %+v", prev, failing)
		}
		e.wantNotRecorded(ev.ID, tn.WS.ID)
	}
	w.FailingSince, w.UpdatedAt = &since, e.at(time.Second)
	e.wantWebhook(w)

	disabled := ports.WebhookHealth{Enabled: false, FailingSince: &since}
	evs := make([]*ports.AuditEvent, racers)
	swapped, errs := make([]bool, racers), make([]error, racers)
	fns := make([]func(), racers)
	for i := range fns {
		evs[i] = e.webhookEvent(w, "webhook.disabled", e.at(time.Hour))
		ev := cloneEvent(evs[i])
		fns[i] = func() {
			swapped[i], errs[i] = e.s.Webhooks.SwapWebhookHealth(e.ctx, tn.WS.ID, w.ID, failing, disabled, e.at(time.Hour), ev)
		}
	}
	race(fns)
	winners := 0
	for i, ok := range swapped {
		e.must(errs[i], "concurrent SwapWebhookHealth")
		if ok {
			winners++
			e.wantRecorded(evs[i])
		} else {
			e.wantNotRecorded(evs[i].ID, tn.WS.ID)
		}
	}
	if winners != 1 {
		e.t.Errorf("%d of %d concurrent swaps from the same health won, want 1", winners, racers)
	}
	w.Enabled, w.UpdatedAt = false, e.at(time.Hour)
	e.wantWebhook(w)

	_, err = e.s.Webhooks.SwapWebhookHealth(e.ctx, tn.WS.ID, newID("wh_"), disabled, failing, e.at(time.Hour), nil)
	e.wantCode(err, ports.ENOTFOUND, "SwapWebhookHealth of an unknown webhook")
	other := e.newTenant()
	_, err = e.s.Webhooks.SwapWebhookHealth(e.ctx, other.WS.ID, w.ID, disabled, failing, e.at(time.Hour), nil)
	e.wantCode(err, ports.ENOTFOUND, "SwapWebhookHealth of another workspace's webhook")
	e.wantWebhook(w)
}
