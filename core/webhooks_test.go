package core_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

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
		Events: []string{"token.created", "token.created", "token.rotated", "token.used"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(w.Secret, core.WebhookSecretPrefix) || !w.Enabled || len(w.Events) != 3 {
		t.Errorf("webhook = %+v", w)
	}
	for name, in := range map[string]core.CreateWebhookInput{
		"no url":        {Events: []string{"token.created"}},
		"relative url":  {URL: "/hook", Events: []string{"token.created"}},
		"no events":     {URL: "https://hooks.example.com/x"},
		"unknown event": {URL: "https://hooks.example.com/x", Events: []string{"token.deleted"}},
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

func TestWebhookIsDisabledAfter72HoursOfContinuousFailure(t *testing.T) {
	e := newEnv(t)
	p := e.workspace("acme")
	w, err := e.svc.CreateWebhook(e.ctx, p, core.CreateWebhookInput{URL: "https://h.example/x", Events: []string{"token.created"}})
	if err != nil {
		t.Fatal(err)
	}
	note := func(ok bool) *ports.Webhook {
		t.Helper()
		if err := e.svc.NoteDeliveryOutcome(e.ctx, p.WorkspaceID, w.ID, ok); err != nil {
			t.Fatal(err)
		}
		got, err := e.svc.GetWebhook(e.ctx, p, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	note(false) // failing since epoch
	e.clock.Advance(71 * time.Hour)
	if got := note(false); !got.Enabled {
		t.Fatal("disabled after 71 h")
	}
	note(true) // a success ends the run
	e.clock.Advance(2 * time.Hour)
	if got := note(false); !got.Enabled || got.FailingSince == nil || !got.FailingSince.Equal(e.svc.Now()) {
		t.Fatalf("after a success the run restarts: %+v", got)
	}
	e.clock.Advance(core.AutoDisableAfter)
	if got := note(false); got.Enabled {
		t.Fatal("still enabled after 72 h of failures")
	}
	events, _, _, err := e.svc.ListAuditEvents(e.ctx, p, core.ListAuditInput{Action: "webhook.disabled"})
	if err != nil || len(events) != 1 || events[0].Actor.Type != "system" || events[0].Target.ID != w.ID {
		t.Fatalf("webhook.disabled events = %+v, %v", events, err)
	}
	note(false) // disabled: nothing more happens
	if events, _, _, _ := e.svc.ListAuditEvents(e.ctx, p, core.ListAuditInput{Action: "webhook.disabled"}); len(events) != 1 {
		t.Errorf("%d webhook.disabled events", len(events))
	}
	// Re-enabling starts afresh.
	got, err := e.svc.UpdateWebhook(e.ctx, p, w.ID, core.UpdateWebhookInput{Enabled: ptr(true)})
	if err != nil || !got.Enabled || got.FailingSince != nil {
		t.Fatalf("re-enabled = %+v, %v", got, err)
	}
	if err := e.svc.NoteDeliveryOutcome(e.ctx, p.WorkspaceID, "wh_gone", false); err != nil {
		t.Errorf("unknown webhook: %v", err)
	}
}

// failingPast72Hours returns an env whose webhook store wrap replaced, and a webhook of p's workspace
// whose deliveries have been failing for longer than AutoDisableAfter but that no outcome has
// disabled yet.
func failingPast72Hours(t *testing.T, wrap func(ports.WebhookStore) ports.WebhookStore) (*env, *core.Principal, *ports.Webhook) {
	t.Helper()
	e := newEnvWrapping(t, core.Config{}, func(s *ports.Stores) { s.Webhooks = wrap(s.Webhooks) })
	p := e.workspace("acme")
	w, err := e.svc.CreateWebhook(e.ctx, p, core.CreateWebhookInput{URL: "https://h.example/x", Events: []string{"token.created"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.NoteDeliveryOutcome(e.ctx, p.WorkspaceID, w.ID, false); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(core.AutoDisableAfter + time.Hour)
	return e, p, w
}

// barrierReads, once armed for n, holds each of the next n webhook reads until all n have been made.
type barrierReads struct {
	ports.WebhookStore
	mu      sync.Mutex
	waiting int
	all     chan struct{}
}

func (b *barrierReads) arm(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.waiting, b.all = n, make(chan struct{})
}

func (b *barrierReads) Webhook(ctx context.Context, workspaceID, id string) (*ports.Webhook, error) {
	w, err := b.WebhookStore.Webhook(ctx, workspaceID, id)
	b.mu.Lock()
	all := b.all
	if b.waiting > 0 {
		if b.waiting--; b.waiting == 0 {
			close(b.all)
		}
	} else {
		all = nil
	}
	b.mu.Unlock()
	if all != nil {
		<-all
	}
	return w, err
}

// Failed attempts noted at the same moment (retries of several deliveries, a test ping), all having
// read the webhook as enabled, disable it once, with one audit event.
func TestConcurrentFailuresDisableAWebhookOnce(t *testing.T) {
	barrier := &barrierReads{}
	e, p, w := failingPast72Hours(t, func(s ports.WebhookStore) ports.WebhookStore {
		barrier.WebhookStore = s
		return barrier
	})
	const attempts = 8
	barrier.arm(attempts)
	errs := make(chan error, attempts)
	var wg sync.WaitGroup
	for range attempts {
		wg.Go(func() { errs <- e.svc.NoteDeliveryOutcome(e.ctx, p.WorkspaceID, w.ID, false) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("NoteDeliveryOutcome: %v", err)
		}
	}
	if got, err := e.svc.GetWebhook(e.ctx, p, w.ID); err != nil || got.Enabled {
		t.Fatalf("after %d concurrent failures past 72 h: %+v, %v", attempts, got, err)
	}
	events, _, _, err := e.svc.ListAuditEvents(e.ctx, p, core.ListAuditInput{Action: "webhook.disabled"})
	if err != nil || len(events) != 1 {
		t.Errorf("%d webhook.disabled events (%v), want 1", len(events), err)
	}
}

// staleRead answers the next webhook read with a copy saved earlier, as a read made just before a
// concurrent change would.
type staleRead struct {
	ports.WebhookStore
	saved *ports.Webhook
}

func (s *staleRead) Webhook(ctx context.Context, workspaceID, id string) (*ports.Webhook, error) {
	if w := s.saved; w != nil {
		s.saved = nil
		return w, nil
	}
	return s.WebhookStore.Webhook(ctx, workspaceID, id)
}

// An edit that read the webhook before a failure disabled it does not enable it again, and answers
// with the webhook as stored.
func TestAnEditDoesNotUndoAConcurrentAutomaticDisabling(t *testing.T) {
	stale := &staleRead{}
	e, p, w := failingPast72Hours(t, func(s ports.WebhookStore) ports.WebhookStore {
		stale.WebhookStore = s
		return stale
	})
	before, err := e.svc.GetWebhook(e.ctx, p, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.NoteDeliveryOutcome(e.ctx, p.WorkspaceID, w.ID, false); err != nil {
		t.Fatal(err)
	}
	stale.saved = before
	answer, err := e.svc.UpdateWebhook(e.ctx, p, w.ID, core.UpdateWebhookInput{Description: ptr("edited")})
	if err != nil {
		t.Fatal(err)
	}
	if answer.Enabled || answer.FailingSince == nil || answer.Description != "edited" {
		t.Errorf("the edit answered %+v; want it disabled, failing and described as edited, as stored", answer)
	}
	got, err := e.svc.GetWebhook(e.ctx, p, w.ID)
	if err != nil || got.Enabled || got.Description != "edited" {
		t.Fatalf("after the edit: %+v, %v; want disabled and described as edited", got, err)
	}
}

// Token uses reach the store's token.used sampling through the usage flush, and never the audit log.
func TestTokenUsesAreSampledAtFlushAndNeverAudited(t *testing.T) {
	e := newEnv(t)
	owner := e.workspace("acme")
	if _, err := e.svc.CreateWebhook(e.ctx, owner, core.CreateWebhookInput{URL: "https://h.example/x",
		Events: []string{ports.EventTokenUsed}}); err != nil {
		t.Fatal(err)
	}
	it := e.token(owner, "busy", core.ScopeTokensRead)
	_, before, err := e.stores.Audit.AuditEvents(e.ctx, owner.WorkspaceID, ports.AuditFilter{Page: ports.Page{Page: 1, PerPage: 100}})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	for range 3 {
		e.auth(it.Value)
	}
	if err := e.svc.FlushUsage(e.ctx); err != nil {
		t.Fatal(err)
	}
	_, after, err := e.stores.Audit.AuditEvents(e.ctx, owner.WorkspaceID, ports.AuditFilter{Page: ports.Page{Page: 1, PerPage: 100}})
	if err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Errorf("authenticating and flushing wrote %d audit events", after-before)
	}
	// The flush sampled the use at epoch+1m: another within the minute is not sampled, one a minute
	// later is.
	use := func(d time.Duration) int {
		sampled, err := e.stores.Usage.MarkUsed(e.ctx, []ports.Usage{{Kind: "token", ID: it.Token.ID, At: epoch.Add(d)}})
		if err != nil {
			t.Fatal(err)
		}
		return len(sampled)
	}
	if n := use(90 * time.Second); n != 0 {
		t.Errorf("a use 30 s after the flushed one was sampled")
	}
	if n := use(2 * time.Minute); n != 1 {
		t.Errorf("a use a minute after the flushed one was not sampled")
	}
}
