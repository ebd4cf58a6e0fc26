package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tooken/tooken/core"
)

func TestPolicySavedFromTheFormListsTheTokensThatBreakIt(t *testing.T) {
	e := newEnv(t)
	owner, ws := e.owner()
	ctx := context.Background()
	forever, err := e.svc.CreateToken(ctx, e.principal("ada@example.test", ws), core.CreateTokenInput{Name: "forever", Scopes: []string{"tokens:read"}})
	if err != nil {
		t.Fatal(err)
	}
	tab := "/app/" + ws + "/settings/policies"
	p := owner.post(tab, tab, url.Values{"require_expiry": {"on"}, "max_lifetime": {"30"}, "max_lifetime_unit": {"days"},
		"default_lifetime": {"12"}, "default_lifetime_unit": {"hours"}, "max_rotation_period": {""}, "max_rotation_period_unit": {"days"}})
	if p.status != http.StatusOK || !strings.Contains(p.body, "Policy saved") {
		t.Fatalf("save: %d", p.status)
	}
	rep, err := e.svc.GetPolicy(ctx, e.principal("ada@example.test", ws))
	if err != nil {
		t.Fatal(err)
	}
	if pol := rep.Policy; !pol.RequireExpiry || pol.MaxLifetime == nil || *pol.MaxLifetime != 30*86400 ||
		pol.DefaultLifetime == nil || *pol.DefaultLifetime != 12*3600 || pol.MaxRotationPeriod != nil {
		t.Errorf("stored policy %+v", pol)
	}
	for _, s := range []string{`/tokens/` + forever.Token.ID, "break the policy (1)"} {
		if !strings.Contains(p.body, s) {
			t.Errorf("answer lacks %q", s)
		}
	}
	page := owner.get(tab)
	for _, s := range []string{`id="max_lifetime" name="max_lifetime" type="number" min="1" step="1" inputmode="numeric" value="30"`,
		`<option value="hours" selected>`, `id="require_expiry" name="require_expiry" checked`} {
		if !strings.Contains(page.body, s) {
			t.Errorf("the form does not show the saved policy: lacks %q", s)
		}
	}
	p = owner.post(tab, tab, url.Values{"max_lifetime": {"1"}, "max_lifetime_unit": {"hours"}, "default_lifetime": {"2"}, "default_lifetime_unit": {"hours"}})
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "default_lifetime cannot exceed max_lifetime") {
		t.Errorf("default above max: %d, want 422 with the core's message", p.status)
	}
	p = owner.post(tab, tab, url.Values{"max_lifetime": {"-3"}, "max_lifetime_unit": {"days"}})
	if p.status != http.StatusUnprocessableEntity {
		t.Errorf("negative duration: %d, want 422", p.status)
	}
	if rep2, _ := e.svc.GetPolicy(ctx, e.principal("ada@example.test", ws)); *rep2.Policy.MaxLifetime != 30*86400 {
		t.Errorf("refused saves changed the policy: %+v", rep2.Policy)
	}
}
