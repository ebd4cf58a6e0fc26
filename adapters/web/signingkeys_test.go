package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tooken/tooken/core"
	"github.com/tooken/tooken/ports"
)

func (e *env) signingKeys(ws string) []core.SigningKeyView {
	e.t.Helper()
	keys, err := e.svc.ListSigningKeys(context.Background(), e.principal("ada@example.test", ws))
	if err != nil {
		e.t.Fatal(err)
	}
	return keys
}

func TestSigningKeysRotateAndEmergencyRevokeFromTheTab(t *testing.T) {
	e := newEnv(t)
	owner, ws := e.owner()
	tab := "/app/" + ws + "/settings/signing-keys"
	first := e.signingKeys(ws)[0]
	p := owner.get(tab)
	for _, s := range []string{first.Key.KID, `<span class="status active">active</span>`, "every token or JWT it signed stops verifying"} {
		if !strings.Contains(p.body, s) {
			t.Errorf("tab lacks %q", s)
		}
	}
	if p = owner.post(tab, tab+"/rotate", url.Values{}); p.status != http.StatusOK || !strings.Contains(p.body, "is published now") {
		t.Fatalf("rotate: %d", p.status)
	}
	keys := e.signingKeys(ws)
	if len(keys) != 2 || keys[0].State != ports.KeyPending {
		t.Fatalf("after rotate: %+v", keys)
	}
	if p = owner.post(tab, tab+"/rotate", url.Values{}); p.status != http.StatusConflict || !strings.Contains(p.body, "already pending") {
		t.Errorf("second rotate: %d, want 409 with the core's message", p.status)
	}
	if p = owner.post(tab, tab+"/"+first.Key.KID+"/revoke", url.Values{}); p.status != http.StatusOK || !strings.Contains(p.body, "is revoked") {
		t.Fatalf("revoke: %d", p.status)
	}
	states := map[string]string{}
	for _, k := range e.signingKeys(ws) {
		states[k.Key.KID] = k.State
	}
	if states[first.Key.KID] != ports.KeyRevoked {
		t.Errorf("revoked key's state: %q", states[first.Key.KID])
	}
	if p = owner.post(tab, tab+"/kid_unknown/revoke", url.Values{}); p.status != http.StatusNotFound {
		t.Errorf("unknown kid: %d, want 404", p.status)
	}
}
