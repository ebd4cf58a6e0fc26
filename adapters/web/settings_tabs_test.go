package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tooken/tooken/core"
	"github.com/tooken/tooken/ports"
)

// tabCase is one Settings tab: the page(s) it shows, the markup only a member allowed to act sees,
// the posts that act, and a snapshot of the state those posts would change.
type tabCase struct {
	name    string
	pages   []string
	actions []string // substrings present for the owner, absent for the refused roles
	refused []ports.Role
	allowed []ports.Role // besides the owner
	posts   map[string]url.Values
	state   func() string
}

func (e *env) tabCases(ws string) []tabCase {
	e.t.Helper()
	ctx := context.Background()
	owner := func() *core.Principal { return e.principal("ada@example.test", ws) }
	hook, err := e.svc.CreateWebhook(ctx, owner(), core.CreateWebhookInput{URL: "https://hooks.example.test/in", Events: []string{"token.created"}})
	if err != nil {
		e.t.Fatal(err)
	}
	keys, err := e.svc.ListSigningKeys(ctx, owner())
	if err != nil || len(keys) == 0 {
		e.t.Fatalf("signing keys: %v %v", keys, err)
	}
	settings, self := "/app/"+ws+"/settings/", owner().MemberID
	hookURL := settings + "webhooks/" + hook.ID
	return []tabCase{{
		name: "members", pages: []string{settings + "members"}, refused: []ports.Role{ports.RoleAdmin, ports.RoleViewer},
		actions: []string{"Invite member", "/remove", "/role", "Pending invitations"},
		posts: map[string]url.Values{
			settings + "invitations":                 {"email": {"mallory@example.test"}, "role": {"owner"}},
			settings + "members/" + self + "/role":   {"role": {"viewer"}},
			settings + "members/" + self + "/remove": {},
		},
		state: func() string {
			invs, err := e.svc.ListInvitations(ctx, owner())
			return fmt.Sprint(e.members("ada@example.test", ws), len(invs), err)
		},
	}, {
		name: "webhooks", pages: []string{settings + "webhooks", hookURL}, refused: []ports.Role{ports.RoleViewer}, allowed: []ports.Role{ports.RoleAdmin},
		actions: []string{"New Webhook", "/ping", "/disable", "/rotate-secret", "/delete"},
		posts: map[string]url.Values{
			settings + "webhooks":      {"url": {"https://evil.example.test/"}, "events": {"token.created"}},
			hookURL + "/disable":       {},
			hookURL + "/delete":        {},
			hookURL + "/rotate-secret": {},
			hookURL + "/ping":          {},
		},
		state: func() string {
			hooks, err := e.svc.ListWebhooks(ctx, owner())
			out := fmt.Sprint(len(e.queue.deliveries()), err)
			for _, h := range hooks {
				out += fmt.Sprint(h.URL, h.Enabled, h.Secret)
			}
			return out
		},
	}, {
		name: "policies", pages: []string{settings + "policies"}, refused: []ports.Role{ports.RoleAdmin, ports.RoleViewer},
		actions: []string{"Save policy"},
		posts:   map[string]url.Values{settings + "policies": {"require_expiry": {"on"}, "max_lifetime": {"1"}, "max_lifetime_unit": {"days"}}},
		state: func() string {
			rep, err := e.svc.GetPolicy(ctx, owner())
			return fmt.Sprintf("%+v %v", rep.Policy, err)
		},
	}, {
		name: "signing keys", pages: []string{settings + "signing-keys"}, refused: []ports.Role{ports.RoleAdmin, ports.RoleViewer},
		actions: []string{"Rotate signing key", "/revoke", keys[0].Key.KID},
		posts: map[string]url.Values{
			settings + "signing-keys/rotate":                         {},
			settings + "signing-keys/" + keys[0].Key.KID + "/revoke": {},
		},
		state: func() string {
			keys, err := e.svc.ListSigningKeys(ctx, owner())
			return fmt.Sprint(keys, err)
		},
	}}
}

func TestSettingsTabsShowActionsOnlyToRolesTheCoreAllowsAndRefuseForgedPosts(t *testing.T) {
	e := newEnv(t)
	owner, ws := e.owner()
	others := map[ports.Role]*browser{
		ports.RoleAdmin:  e.member(owner, ws, "adam@example.test", ports.RoleAdmin),
		ports.RoleViewer: e.member(owner, ws, "vic@example.test", ports.RoleViewer),
	}
	others[ports.RoleOwner] = owner
	for _, tc := range e.tabCases(ws) {
		t.Run(tc.name, func(t *testing.T) {
			for _, role := range append([]ports.Role{ports.RoleOwner}, tc.allowed...) {
				var all string
				for _, path := range tc.pages {
					p := others[role].get(path)
					if p.status != http.StatusOK {
						t.Fatalf("%s GET %s: %d", role, path, p.status)
					}
					all += p.body
				}
				for _, s := range tc.actions {
					if !strings.Contains(all, s) {
						t.Errorf("the %s's page lacks %q", role, s)
					}
				}
			}
			before := tc.state()
			for _, role := range tc.refused {
				b := others[role]
				for _, path := range tc.pages {
					p := b.get(path)
					if p.status != http.StatusOK {
						t.Fatalf("%s GET %s: %d", role, path, p.status)
					}
					for _, s := range tc.actions {
						if strings.Contains(p.body, s) {
							t.Errorf("%s sees %q on %s", role, s, path)
						}
					}
				}
				for path, form := range tc.posts {
					if p := b.post(tc.pages[0], path, url.Values(cloneForm(form))); p.status != http.StatusForbidden {
						t.Errorf("%s POST %s with a valid CSRF token: %d, want 403", role, path, p.status)
					}
				}
			}
			for path, form := range tc.posts {
				if p := owner.do("POST", path, cloneForm(form)); p.status != http.StatusForbidden {
					t.Errorf("owner POST %s without a CSRF token: %d, want 403", path, p.status)
				}
			}
			if after := tc.state(); after != before {
				t.Errorf("state changed by refused posts:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

func cloneForm(f url.Values) url.Values {
	out := url.Values{}
	for k, v := range f {
		out[k] = append([]string(nil), v...)
	}
	return out
}
