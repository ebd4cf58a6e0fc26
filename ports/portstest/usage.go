package portstest

import (
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
}

func (e *env) markUsed(uses ...ports.Usage) {
	e.t.Helper()
	e.must(e.s.Usage.MarkUsed(e.ctx, uses), "MarkUsed")
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
