package portstest

import (
	"slices"
	"testing"
	"time"

	"github.com/tooken/tooken/ports"
)

// TestAPIKeyStore checks a ports.APIKeyStore: round trips (CreatedBy joined from the member's account),
// lookup by hash, unique hashes, newest-first lists, regeneration, deletion, their audit events, and
// workspace isolation.
func TestAPIKeyStore(t *testing.T, newStores Factory) {
	run(t, newStores, "CreateAPIKeyRoundTripsTeamKey", testAPIKeyRoundTripTeam)
	run(t, newStores, "CreateAPIKeyRoundTripsPersonalKey", testAPIKeyRoundTripPersonal)
	run(t, newStores, "CreateAPIKeyRecordsAuditEvent", testAPIKeyCreateEvent)
	run(t, newStores, "CreateAPIKeyRejectsExistingHashAndRecordsNothing", testAPIKeyDuplicateHash)
	run(t, newStores, "APIKeysListsNewestFirst", testAPIKeysNewestFirst)
	run(t, newStores, "UnknownAPIKeyIsNotFound", testAPIKeyNotFound)
	run(t, newStores, "RegenerateAPIKeyReplacesSecretOnly", testRegenerateAPIKey)
	run(t, newStores, "RegenerateUnknownAPIKeyIsNotFound", testRegenerateAPIKeyNotFound)
	run(t, newStores, "DeleteAPIKeyRemovesIt", testDeleteAPIKey)
	run(t, newStores, "DeleteUnknownAPIKeyIsNotFound", testDeleteAPIKeyNotFound)
	run(t, newStores, "APIKeysAreScopedToTheirWorkspace", testAPIKeyIsolation)
}

func (e *env) wantAPIKeyEverywhere(want *ports.APIKey) {
	e.t.Helper()
	apiKeyDiff(e.apiKey(want.WorkspaceID, want.ID), want).report(e.t, "APIKey")
	got, err := e.s.APIKeys.APIKeyByHash(e.ctx, want.SecretHash)
	e.must(err, "APIKeyByHash")
	apiKeyDiff(got, want).report(e.t, "APIKeyByHash")
	list, err := e.s.APIKeys.APIKeys(e.ctx, want.WorkspaceID)
	e.must(err, "APIKeys")
	i := slices.IndexFunc(list, func(k ports.APIKey) bool { return k.ID == want.ID })
	if i < 0 {
		e.t.Fatalf("APIKeys does not list %s", want.ID)
	}
	apiKeyDiff(&list[i], want).report(e.t, "APIKeys entry")
}

func testAPIKeyRoundTripTeam(e *env) {
	tn := e.newTenant()
	e.wantAPIKeyEverywhere(e.createAPIKey(tn, "CI deploys", e.at(0)))
}

func testAPIKeyRoundTripPersonal(e *env) {
	tn := e.newTenant()
	k := e.apiKeyRecord(tn, "my laptop", e.at(0))
	k.Kind, k.Role = ports.APIKeyPersonal, ""
	k.CreatedBy = "ignored@example.test"
	e.must(e.s.APIKeys.CreateAPIKey(e.ctx, cloneAPIKey(k), nil), "CreateAPIKey")
	k.CreatedBy = tn.Account.Email // a read-only join on the member's account
	e.wantAPIKeyEverywhere(k)
}

func testAPIKeyCreateEvent(e *env) {
	tn := e.newTenant()
	k := e.apiKeyRecord(tn, "events", e.at(0))
	ev := e.apiKeyEvent(k, "api_key.created", e.at(0))
	e.must(e.s.APIKeys.CreateAPIKey(e.ctx, cloneAPIKey(k), cloneEvent(ev)), "CreateAPIKey")
	e.wantRecorded(ev)
}

func testAPIKeyDuplicateHash(e *env) {
	a, b := e.newTenant(), e.newTenant()
	first := e.createAPIKey(a, "first", e.at(0))
	for _, tn := range []*tenant{a, b} {
		dup := e.apiKeyRecord(tn, "second", e.at(time.Second))
		dup.SecretHash = first.SecretHash
		ev := e.apiKeyEvent(dup, "api_key.created", e.at(time.Second))
		e.wantCode(e.s.APIKeys.CreateAPIKey(e.ctx, cloneAPIKey(dup), cloneEvent(ev)), ports.ECONFLICT,
			"CreateAPIKey with an existing hash in "+tn.WS.ID)
		_, err := e.s.APIKeys.APIKey(e.ctx, tn.WS.ID, dup.ID)
		e.wantCode(err, ports.ENOTFOUND, "APIKey of the rejected key")
		e.wantNotRecorded(ev.ID, a.WS.ID, b.WS.ID)
	}
	e.wantAPIKeyEverywhere(first)
}

func testAPIKeysNewestFirst(e *env) {
	tn := e.newTenant()
	var keys [4]*ports.APIKey
	for _, i := range []int{2, 0, 3, 1} {
		keys[i] = e.createAPIKey(tn, "key", e.at(time.Duration(i)*time.Minute))
	}
	list, err := e.s.APIKeys.APIKeys(e.ctx, tn.WS.ID)
	e.must(err, "APIKeys")
	want := []string{keys[3].ID, keys[2].ID, keys[1].ID, keys[0].ID}
	if got := apiKeyIDs(list); !slices.Equal(got, want) {
		e.t.Errorf("APIKeys order: got %v, want newest first %v", got, want)
	}
}

func testAPIKeyNotFound(e *env) {
	tn := e.newTenant()
	_, err := e.s.APIKeys.APIKey(e.ctx, tn.WS.ID, newID("key_"))
	e.wantCode(err, ports.ENOTFOUND, "APIKey(unknown)")
	_, err = e.s.APIKeys.APIKeyByHash(e.ctx, randomBytes(32))
	e.wantCode(err, ports.ENOTFOUND, "APIKeyByHash(unknown)")
	list, err := e.s.APIKeys.APIKeys(e.ctx, tn.WS.ID)
	e.must(err, "APIKeys")
	if len(list) != 0 {
		e.t.Errorf("APIKeys of a workspace without keys: %d keys, want 0", len(list))
	}
}

func testRegenerateAPIKey(e *env) {
	tn := e.newTenant()
	k := e.createAPIKey(tn, "rolling", e.at(0))
	want := cloneAPIKey(k)
	want.SecretHash, want.Last4 = randomBytes(32), "zz99"
	ev := e.apiKeyEvent(k, "api_key.regenerated", e.at(time.Minute))
	got, err := e.s.APIKeys.RegenerateAPIKey(e.ctx, tn.WS.ID, k.ID, want.SecretHash, want.Last4, cloneEvent(ev))
	e.must(err, "RegenerateAPIKey")
	apiKeyDiff(got, want).report(e.t, "RegenerateAPIKey result")
	e.wantAPIKeyEverywhere(want)
	_, err = e.s.APIKeys.APIKeyByHash(e.ctx, k.SecretHash)
	e.wantCode(err, ports.ENOTFOUND, "APIKeyByHash(old hash after regeneration)")
	e.wantRecorded(ev)
}

func testRegenerateAPIKeyNotFound(e *env) {
	tn := e.newTenant()
	id := newID("key_")
	ev := e.event(tn.WS.ID, "api_key.regenerated", ports.Target{Type: "api_key", ID: id}, e.at(0))
	_, err := e.s.APIKeys.RegenerateAPIKey(e.ctx, tn.WS.ID, id, randomBytes(32), "abcd", cloneEvent(ev))
	e.wantCode(err, ports.ENOTFOUND, "RegenerateAPIKey(unknown)")
	e.wantNotRecorded(ev.ID, tn.WS.ID)
}

func testDeleteAPIKey(e *env) {
	tn := e.newTenant()
	k := e.createAPIKey(tn, "doomed", e.at(0))
	keep := e.createAPIKey(tn, "kept", e.at(time.Second))
	ev := e.apiKeyEvent(k, "api_key.deleted", e.at(time.Minute))
	e.must(e.s.APIKeys.DeleteAPIKey(e.ctx, tn.WS.ID, k.ID, cloneEvent(ev)), "DeleteAPIKey")
	_, err := e.s.APIKeys.APIKey(e.ctx, tn.WS.ID, k.ID)
	e.wantCode(err, ports.ENOTFOUND, "APIKey after delete")
	_, err = e.s.APIKeys.APIKeyByHash(e.ctx, k.SecretHash)
	e.wantCode(err, ports.ENOTFOUND, "APIKeyByHash after delete")
	list, err := e.s.APIKeys.APIKeys(e.ctx, tn.WS.ID)
	e.must(err, "APIKeys")
	if got := apiKeyIDs(list); !slices.Equal(got, []string{keep.ID}) {
		e.t.Errorf("APIKeys after delete: %v, want only %s", got, keep.ID)
	}
	e.wantRecorded(ev)

	again := e.apiKeyEvent(k, "api_key.deleted", e.at(2*time.Minute))
	err = e.s.APIKeys.DeleteAPIKey(e.ctx, tn.WS.ID, k.ID, cloneEvent(again))
	e.wantCode(err, ports.ENOTFOUND, "second DeleteAPIKey")
	e.wantNotRecorded(again.ID, tn.WS.ID)
}

func testDeleteAPIKeyNotFound(e *env) {
	tn := e.newTenant()
	id := newID("key_")
	ev := e.event(tn.WS.ID, "api_key.deleted", ports.Target{Type: "api_key", ID: id}, e.at(0))
	e.wantCode(e.s.APIKeys.DeleteAPIKey(e.ctx, tn.WS.ID, id, cloneEvent(ev)), ports.ENOTFOUND,
		"DeleteAPIKey(unknown)")
	e.wantNotRecorded(ev.ID, tn.WS.ID)
}

func testAPIKeyIsolation(e *env) {
	a, b := e.newTenant(), e.newTenant()
	k := e.createAPIKey(a, "shared name", e.at(0))
	kb := e.createAPIKey(b, "shared name", e.at(time.Second))

	_, err := e.s.APIKeys.APIKey(e.ctx, b.WS.ID, k.ID)
	e.wantCode(err, ports.ENOTFOUND, "APIKey(B, key of A)")

	regen := e.apiKeyEvent(k, "api_key.regenerated", e.at(time.Minute))
	regen.WorkspaceID = b.WS.ID
	_, err = e.s.APIKeys.RegenerateAPIKey(e.ctx, b.WS.ID, k.ID, randomBytes(32), "ab12", cloneEvent(regen))
	e.wantCode(err, ports.ENOTFOUND, "RegenerateAPIKey(B, key of A)")

	del := e.apiKeyEvent(k, "api_key.deleted", e.at(2*time.Minute))
	del.WorkspaceID = b.WS.ID
	e.wantCode(e.s.APIKeys.DeleteAPIKey(e.ctx, b.WS.ID, k.ID, cloneEvent(del)), ports.ENOTFOUND,
		"DeleteAPIKey(B, key of A)")

	e.wantAPIKeyEverywhere(k)
	e.wantNotRecorded(regen.ID, a.WS.ID, b.WS.ID)
	e.wantNotRecorded(del.ID, a.WS.ID, b.WS.ID)
	list, err := e.s.APIKeys.APIKeys(e.ctx, b.WS.ID)
	e.must(err, "APIKeys(B)")
	if got := apiKeyIDs(list); !slices.Equal(got, []string{kb.ID}) {
		e.t.Errorf("APIKeys(B): %v, want only B's key %s", got, kb.ID)
	}
	got, err := e.s.APIKeys.APIKeyByHash(e.ctx, k.SecretHash)
	e.must(err, "APIKeyByHash")
	if got.WorkspaceID != a.WS.ID {
		e.t.Errorf("APIKeyByHash: WorkspaceID %q, want the key's own workspace %q", got.WorkspaceID, a.WS.ID)
	}
}
