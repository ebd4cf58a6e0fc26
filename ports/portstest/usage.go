package portstest

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tooken/tooken/ports"
)

// TestUsageStore checks a ports.UsageStore: MarkUsed sets last_used_at of tokens and API keys, keeps
// the later time (across calls and within one batch) and ignores credentials that do not exist.
func TestUsageStore(t *testing.T, newStores Factory) {
	run(t, newStores, "MarkUsedSetsTokenLastUsedAt", testMarkTokenUsed)
	run(t, newStores, "MarkUsedSetsAPIKeyLastUsedAt", testMarkAPIKeyUsed)
	run(t, newStores, "MarkUsedKeepsTheLaterTime", testMarkUsedKeepsLater)
	run(t, newStores, "MarkUsedKeepsTheLaterTimeWithinABatch", testMarkUsedBatchOrder)
	run(t, newStores, "MarkUsedIgnoresUnknownCredentials", testMarkUsedUnknown)
	run(t, newStores, "MarkUsedWithNothingSucceeds", testMarkUsedEmpty)
	run(t, newStores, "MarkUsedSamplesTokenUsedOncePerMinute", testSampleOncePerMinute)
	run(t, newStores, "MarkUsedSamplesOnlyWorkspacesSubscribedToTokenUsed", testSampleOnlySubscribed)
	run(t, newStores, "ConcurrentMarkUsedSamplesATokenOnce", testSampleConcurrently)
}

func (e *env) markUsed(uses ...ports.Usage) []ports.Usage {
	e.t.Helper()
	sampled, err := e.s.Usage.MarkUsed(e.ctx, uses)
	e.must(err, "MarkUsed")
	return sampled
}

func (e *env) wantTokenUsed(tok *ports.Token, at *time.Time) {
	e.t.Helper()
	want := cloneToken(tok)
	want.LastUsedAt = cloneTime(at)
	e.wantToken(want, "Token after MarkUsed")
}

func (e *env) wantAPIKeyUsed(k *ports.APIKey, at *time.Time) {
	e.t.Helper()
	want := cloneAPIKey(k)
	want.LastUsedAt = cloneTime(at)
	apiKeyDiff(e.apiKey(k.WorkspaceID, k.ID), want).report(e.t, "APIKey after MarkUsed")
}

func testMarkTokenUsed(e *env) {
	tn := e.newTenant()
	tok := e.createToken(tn, "used", e.at(0))
	other := e.createToken(tn, "unused", e.at(time.Second))
	at := e.at(time.Minute + 42*time.Microsecond)
	e.markUsed(ports.Usage{Kind: "token", ID: tok.ID, At: at})
	e.wantTokenUsed(tok, &at)
	e.wantTokenUsed(other, nil)
}

func testMarkAPIKeyUsed(e *env) {
	tn := e.newTenant()
	k := e.createAPIKey(tn, "used", e.at(0))
	other := e.createAPIKey(tn, "unused", e.at(time.Second))
	at := e.at(time.Minute + 42*time.Microsecond)
	e.markUsed(ports.Usage{Kind: "api_key", ID: k.ID, At: at})
	e.wantAPIKeyUsed(k, &at)
	e.wantAPIKeyUsed(other, nil)
}

func testMarkUsedKeepsLater(e *env) {
	tn := e.newTenant()
	tok := e.createToken(tn, "used twice", e.at(0))
	k := e.createAPIKey(tn, "used twice", e.at(0))
	t1, t0, t2 := e.at(2*time.Minute), e.at(time.Minute), e.at(3*time.Minute)

	e.markUsed(ports.Usage{Kind: "token", ID: tok.ID, At: t1}, ports.Usage{Kind: "api_key", ID: k.ID, At: t1})
	e.markUsed(ports.Usage{Kind: "token", ID: tok.ID, At: t0}, ports.Usage{Kind: "api_key", ID: k.ID, At: t0})
	e.wantTokenUsed(tok, &t1)
	e.wantAPIKeyUsed(k, &t1)

	e.markUsed(ports.Usage{Kind: "token", ID: tok.ID, At: t2}, ports.Usage{Kind: "api_key", ID: k.ID, At: t2})
	e.wantTokenUsed(tok, &t2)
	e.wantAPIKeyUsed(k, &t2)
}

func testMarkUsedBatchOrder(e *env) {
	tn := e.newTenant()
	tok := e.createToken(tn, "batched", e.at(0))
	k := e.createAPIKey(tn, "batched", e.at(0))
	early, late := e.at(time.Minute), e.at(2*time.Minute)
	e.markUsed(
		ports.Usage{Kind: "token", ID: tok.ID, At: late},
		ports.Usage{Kind: "api_key", ID: k.ID, At: early},
		ports.Usage{Kind: "token", ID: tok.ID, At: early},
		ports.Usage{Kind: "api_key", ID: k.ID, At: late},
	)
	e.wantTokenUsed(tok, &late)
	e.wantAPIKeyUsed(k, &late)
}

func testMarkUsedUnknown(e *env) {
	tn := e.newTenant()
	tok := e.createToken(tn, "known", e.at(0))
	deleted := e.createAPIKey(tn, "deleted", e.at(0))
	e.must(e.s.APIKeys.DeleteAPIKey(e.ctx, tn.WS.ID, deleted.ID, nil), "DeleteAPIKey")
	at := e.at(time.Minute)
	e.markUsed(
		ports.Usage{Kind: "token", ID: newID("tok_"), At: at},
		ports.Usage{Kind: "api_key", ID: newID("key_"), At: at},
		ports.Usage{Kind: "api_key", ID: deleted.ID, At: at},
		ports.Usage{Kind: "token", ID: tok.ID, At: at},
	)
	e.wantTokenUsed(tok, &at)
	_, err := e.s.APIKeys.APIKey(e.ctx, tn.WS.ID, deleted.ID)
	e.wantCode(err, ports.ENOTFOUND, "APIKey(deleted key) after MarkUsed")
}

func testMarkUsedEmpty(e *env) {
	e.markUsed()
}

// hookFor creates a webhook of the tenant subscribed to events.
func (e *env) hookFor(tn *tenant, enabled bool, events ...string) *ports.Webhook {
	e.t.Helper()
	w := e.webhookRecord(tn, e.at(0))
	w.Events, w.Enabled = events, enabled
	e.must(e.s.Webhooks.CreateWebhook(e.ctx, w, nil), "CreateWebhook")
	return w
}

func (e *env) wantSampled(got []ports.Usage, want ...ports.Usage) {
	e.t.Helper()
	if len(got) != len(want) {
		e.t.Errorf("sampled %+v, want %+v", got, want)
		return
	}
	for i := range got {
		if got[i].Kind != want[i].Kind || got[i].ID != want[i].ID || !got[i].At.Equal(want[i].At) {
			e.t.Errorf("sampled %+v, want %+v", got, want)
			return
		}
	}
}

func testSampleOncePerMinute(e *env) {
	tn := e.newTenant()
	e.hookFor(tn, true, "token.created", ports.EventTokenUsed)
	tok := e.createToken(tn, "sampled", e.at(0))
	k := e.createAPIKey(tn, "never sampled", e.at(0))
	use := func(d time.Duration) ports.Usage { return ports.Usage{Kind: "token", ID: tok.ID, At: e.at(d)} }
	first := use(time.Minute)
	e.wantSampled(e.markUsed(use(50*time.Second), first, ports.Usage{Kind: "api_key", ID: k.ID, At: e.at(time.Minute)}), first)
	e.wantSampled(e.markUsed(use(time.Minute + 30*time.Second)))
	late := use(2*time.Minute - time.Microsecond)
	e.wantSampled(e.markUsed(late))
	e.wantTokenUsed(tok, &late.At)
	next := use(2 * time.Minute)
	e.wantSampled(e.markUsed(next), next)
	e.wantSampled(e.markUsed(use(90 * time.Second))) // an older use, flushed late, is not sampled
	e.wantTokenUsed(tok, &next.At)
}

func testSampleOnlySubscribed(e *env) {
	unsubscribed, other, disabled, subscribed := e.newTenant(), e.newTenant(), e.newTenant(), e.newTenant()
	e.hookFor(other, true, "token.created", "token.revoked")
	e.hookFor(disabled, false, ports.EventTokenUsed)
	e.hookFor(subscribed, true, ports.EventTokenUsed)
	var uses []ports.Usage
	var want ports.Usage
	for _, tn := range []*tenant{unsubscribed, other, disabled, subscribed} {
		u := ports.Usage{Kind: "token", ID: e.createToken(tn, "t", e.at(0)).ID, At: e.at(time.Minute)}
		uses = append(uses, u)
		want = u
	}
	e.wantSampled(e.markUsed(uses...), want)
}

func testSampleConcurrently(e *env) {
	tn := e.newTenant()
	e.hookFor(tn, true, ports.EventTokenUsed)
	tok := e.createToken(tn, "contended", e.at(0))
	const n = 8
	var wg sync.WaitGroup
	var total atomic.Int64
	for i := range n {
		wg.Go(func() {
			// Replicas flush their own buffers: uses of one token within the same minute.
			sampled, err := e.s.Usage.MarkUsed(e.ctx, []ports.Usage{{Kind: "token", ID: tok.ID, At: e.at(time.Minute + time.Duration(i)*time.Second)}})
			if err != nil {
				e.t.Errorf("MarkUsed: %v", err)
			}
			total.Add(int64(len(sampled)))
		})
	}
	wg.Wait()
	if got := total.Load(); got != 1 {
		e.t.Errorf("%d concurrent flushes within one minute sampled %d uses, want 1", n, got)
	}
}
