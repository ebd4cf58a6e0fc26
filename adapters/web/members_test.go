package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tooken/tooken/core"
	"github.com/tooken/tooken/ports"
)

// deliveryQueue records the deliveries the core enqueues (test pings, redeliveries).
type deliveryQueue struct {
	mu   sync.Mutex
	list []ports.WebhookDelivery
}

func (q *deliveryQueue) Enqueue(_ context.Context, d ports.WebhookDelivery) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.list = append(q.list, d)
	return nil
}

func (q *deliveryQueue) deliveries() []ports.WebhookDelivery {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]ports.WebhookDelivery(nil), q.list...)
}

var linkRE = regexp.MustCompile(`value="https://tooken\.test(/invitations/[^"]+)"`)

// invite has the owner create an invitation on the Members tab and returns the link's path.
func (b *browser) invite(ws, email string, role ports.Role) string {
	b.e.t.Helper()
	members := "/app/" + ws + "/settings/members"
	p := b.post(members, "/app/"+ws+"/settings/invitations", url.Values{"email": {email}, "role": {string(role)}})
	m := linkRE.FindStringSubmatch(p.body)
	if p.status != http.StatusCreated || m == nil {
		b.e.t.Fatalf("invite %s: %d, link found: %v", email, p.status, m != nil)
	}
	return m[1]
}

// owner signs ada@example.test up with a workspace, Acme, and returns the browser and the workspace id.
func (e *env) owner() (*browser, string) {
	e.t.Helper()
	b := e.browser()
	b.signUp("ada@example.test")
	return b, b.workspace("Acme")
}

// member invites email into ws with role and has a new browser sign up and accept the link.
func (e *env) member(owner *browser, ws, email string, role ports.Role) *browser {
	e.t.Helper()
	link := owner.invite(ws, email, role)
	b := e.browser()
	b.signUp(email)
	if p := b.post(link, link, url.Values{}); p.status != http.StatusSeeOther || p.location != "/app/"+ws+"/tokens" {
		e.t.Fatalf("accept as %s: %d %q", email, p.status, p.location)
	}
	return b
}

// hasLink reports whether body holds href (html/template writes percent escapes in lower case).
func hasLink(body, href string) bool {
	return strings.Contains(strings.ToLower(body), `href="`+strings.ToLower(href)+`"`)
}

func (e *env) members(email, ws string) map[string]ports.Role {
	e.t.Helper()
	list, _, err := e.svc.ListMembers(context.Background(), e.principal(email, ws), ports.Page{Page: 1, PerPage: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]ports.Role{}
	for _, m := range list {
		out[m.Email] = m.Role
	}
	return out
}

func TestInviteeJoinsThroughTheLinkAfterSigningUp(t *testing.T) {
	e := newEnv(t)
	owner, ws := e.owner()
	link := owner.invite(ws, "bob@example.test", ports.RoleAdmin)
	listed := owner.get("/app/" + ws + "/settings/members")
	if strings.Contains(listed.body, link) || !strings.Contains(listed.body, "bob@example.test") {
		t.Errorf("members page after the invite: link shown again %v, pending invitation listed %v",
			strings.Contains(listed.body, link), strings.Contains(listed.body, "bob@example.test"))
	}

	bob := e.browser()
	p := bob.get(link)
	if p.status != http.StatusOK || !hasLink(p.body, "/signup?next="+url.QueryEscape(link)) || !strings.Contains(p.body, "Acme") {
		t.Fatalf("signed-out invitation page: %d, want 200 naming Acme with a sign-up link that comes back", p.status)
	}
	p = bob.post("/signup?next="+url.QueryEscape(link), "/signup",
		url.Values{"email": {"bob@example.test"}, "password": {password}, "password_confirm": {password}, "next": {link}})
	if p.status != http.StatusSeeOther || p.location != link {
		t.Fatalf("sign up with next: %d %q, want a redirect back to %s", p.status, p.location, link)
	}
	if p = bob.get(link); !strings.Contains(p.body, "Accept and join Acme") {
		t.Fatalf("signed-in invitation page offers no Accept button")
	}
	if p = bob.post(link, link, url.Values{}); p.status != http.StatusSeeOther || p.location != "/app/"+ws+"/tokens" {
		t.Fatalf("accept: %d %q, want a redirect into the workspace", p.status, p.location)
	}
	if role := e.members("ada@example.test", ws)["bob@example.test"]; role != ports.RoleAdmin {
		t.Errorf("bob's role after joining: %q, want admin", role)
	}
	if p = bob.get("/app/" + ws + "/tokens"); p.status != http.StatusOK || !strings.Contains(p.body, `<option value="`+ws+`" selected>Acme`) {
		t.Errorf("joined workspace page: %d, switcher lists Acme selected: %v", p.status, strings.Contains(p.body, ws))
	}
	for _, method := range []string{"GET", "POST"} {
		var p page
		if method == "GET" {
			p = bob.get(link)
		} else {
			p = bob.post("/app/"+ws+"/tokens", link, url.Values{})
		}
		if p.status != http.StatusNotFound {
			t.Errorf("%s of a used invitation link: %d, want 404", method, p.status)
		}
	}
}

func TestSignInFromAnInvitationComesBackToIt(t *testing.T) {
	e := newEnv(t)
	owner, ws := e.owner()
	e.browser().signUp("bob@example.test")
	link := owner.invite(ws, "bob@example.test", ports.RoleViewer)
	bob := e.browser()
	if p := bob.get(link); !hasLink(p.body, "/signin?next="+url.QueryEscape(link)) {
		t.Fatalf("signed-out invitation page has no sign-in link that comes back")
	}
	p := bob.post("/signin?next="+url.QueryEscape(link), "/signin", url.Values{"email": {"bob@example.test"}, "password": {password}, "next": {link}})
	if p.status != http.StatusSeeOther || p.location != link {
		t.Fatalf("sign in with next: %d %q, want %s", p.status, p.location, link)
	}
	for _, next := range []string{"//evil.example/invitations/x", "https://evil.example/", "/invitationsX"} {
		p := e.browser().post("/signin", "/signin", url.Values{"email": {"bob@example.test"}, "password": {password}, "next": {next}})
		if p.location != "/app" {
			t.Errorf("sign in with next %q went to %q, want /app", next, p.location)
		}
	}
}

func TestInvitationForAnotherEmailIsRefusedWithAMessage(t *testing.T) {
	e := newEnv(t)
	owner, ws := e.owner()
	link := owner.invite(ws, "bob@example.test", ports.RoleOwner)
	eve := e.browser()
	eve.signUp("eve@example.test")
	if p := eve.get(link); p.status != http.StatusOK || strings.Contains(p.body, "Accept and join") || !strings.Contains(p.body, "This invitation is for bob@example.test") {
		t.Errorf("invitation page for another email: %d, want a message and no Accept button", p.status)
	}
	p := eve.post("/app", link, url.Values{})
	if p.status != http.StatusForbidden || !strings.Contains(p.body, "This invitation is for bob@example.test") {
		t.Errorf("accept with another email: %d, want 403 with the core's message", p.status)
	}
	if _, ok := e.members("ada@example.test", ws)["eve@example.test"]; ok {
		t.Error("eve became a member")
	}
	if p := e.browser().get("/invitations/not-a-real-code"); p.status != http.StatusNotFound {
		t.Errorf("unknown code: %d, want 404", p.status)
	}
}

func TestOwnerChangesRolesRemovesMembersAndRevokesInvitations(t *testing.T) {
	e := newEnv(t)
	owner, ws := e.owner()
	e.member(owner, ws, "bob@example.test", ports.RoleViewer)
	bob := e.principal("bob@example.test", ws)
	members := "/app/" + ws + "/settings/members"
	if p := owner.post(members, members+"/"+bob.MemberID+"/role", url.Values{"role": {"admin"}}); p.status != http.StatusSeeOther {
		t.Fatalf("change role: %d", p.status)
	}
	if role := e.members("ada@example.test", ws)["bob@example.test"]; role != ports.RoleAdmin {
		t.Errorf("bob's role: %q, want admin", role)
	}
	if p := owner.post(members, members+"/"+bob.MemberID+"/remove", url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("remove: %d", p.status)
	}
	if _, ok := e.members("ada@example.test", ws)["bob@example.test"]; ok {
		t.Error("bob is still a member after removal")
	}
	link := owner.invite(ws, "carol@example.test", ports.RoleViewer)
	invs, err := e.svc.ListInvitations(context.Background(), e.principal("ada@example.test", ws))
	if err != nil || len(invs) != 1 {
		t.Fatalf("invitations: %v %v", invs, err)
	}
	if p := owner.post(members, "/app/"+ws+"/settings/invitations/"+invs[0].ID+"/revoke", url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("revoke invitation: %d", p.status)
	}
	if p := e.browser().get(link); p.status != http.StatusNotFound {
		t.Errorf("revoked invitation link: %d, want 404", p.status)
	}
}

func TestLastOwnerCannotBeRemovedAndTheCoresMessageIsShown(t *testing.T) {
	e := newEnv(t)
	owner, ws := e.owner()
	self := e.principal("ada@example.test", ws).MemberID
	members := "/app/" + ws + "/settings/members"
	for path, form := range map[string]url.Values{members + "/" + self + "/remove": {}, members + "/" + self + "/role": {"role": {"viewer"}}} {
		p := owner.post(members, path, form)
		if p.status != http.StatusConflict || !strings.Contains(p.body, `role="alert"`) || !strings.Contains(strings.ToLower(p.body), "last owner") {
			t.Errorf("POST %s on the last owner: %d, want 409 with the core's message", path, p.status)
		}
	}
	if role := e.members("ada@example.test", ws)["ada@example.test"]; role != ports.RoleOwner {
		t.Errorf("the last owner's role: %q, want owner", role)
	}
}

func TestExpiredInvitationSaysSoAndJoinsNobody(t *testing.T) {
	e := newEnv(t)
	owner, ws := e.owner()
	link := owner.invite(ws, "bob@example.test", ports.RoleViewer)
	e.clock.Advance(core.InvitationTTL + time.Second)
	bob := e.browser()
	bob.signUp("bob@example.test")
	if p := bob.get(link); p.status != http.StatusOK || strings.Contains(p.body, "Accept and join") || !strings.Contains(p.body, "This invitation has expired") {
		t.Errorf("expired invitation page: %d, want the expiry message without an Accept button", p.status)
	}
	if p := bob.post("/app", link, url.Values{}); p.status < 400 || !strings.Contains(p.body, "expired") {
		t.Errorf("accepting an expired invitation: %d, want a refusal that says it expired", p.status)
	}
	if _, ok := e.members("ada@example.test", ws)["bob@example.test"]; ok {
		t.Error("bob joined through an expired invitation")
	}
}
