package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tooken/tooken/core"
)

func TestPostWithoutOrWithWrongCSRFTokenIsRefusedAndChangesNothing(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signUp("ada@example.test")
	ws := b.workspace("Acme")
	for _, token := range []string{"", "forged-token"} {
		form := url.Values{"name": {"ci"}, "scopes": {"tokens:read"}}
		if token != "" {
			form.Set("csrf_token", token)
		}
		if p := b.do("POST", "/app/"+ws+"/tokens", form); p.status != http.StatusForbidden {
			t.Errorf("POST with csrf_token %q: status %d, want 403", token, p.status)
		}
	}
	if n := e.tokenCount("ada@example.test", ws); n != 0 {
		t.Errorf("%d tokens after refused posts, want 0", n)
	}
	if p := b.post("/app/"+ws+"/tokens", "/app/"+ws+"/tokens", url.Values{"name": {"ci"}, "scopes": {"tokens:read"}}); p.status != http.StatusCreated {
		t.Fatalf("POST with the session's token: status %d, want 201", p.status)
	}
	if n := e.tokenCount("ada@example.test", ws); n != 1 {
		t.Errorf("%d tokens after a valid post, want 1", n)
	}
}

func TestSignInFormRefusesAMissingDoubleSubmitToken(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signUp("ada@example.test")
	other := e.browser()
	if p := other.do("POST", "/signin", url.Values{"email": {"ada@example.test"}, "password": {password}}); p.status != http.StatusForbidden {
		t.Errorf("sign-in without the form token: %d, want 403", p.status)
	}
}

func TestExpiredSessionRedirectsToSignIn(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signUp("ada@example.test")
	ws := b.workspace("Acme")
	if p := b.get("/app/" + ws + "/tokens"); p.status != http.StatusOK {
		t.Fatalf("tokens page in a fresh session: %d", p.status)
	}
	e.clock.Advance(core.SessionLifetime + time.Second)
	p := b.get("/app/" + ws + "/tokens")
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/signin") {
		t.Errorf("expired session: %d %q, want a redirect to /signin", p.status, p.location)
	}
}

func TestSignOutEndsTheSession(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signUp("ada@example.test")
	if p := b.post("/app", "/signout", url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("sign out: %d", p.status)
	}
	if p := b.get("/app"); !strings.HasPrefix(p.location, "/signin") {
		t.Errorf("after sign-out /app: %d %q, want a redirect to /signin", p.status, p.location)
	}
}

func TestLoginAttemptsAreRateLimitedEvenWithTheRightPassword(t *testing.T) {
	e := newEnv(t)
	e.browser().signUp("ada@example.test")
	b := e.browser()
	for i := range 3 {
		if p := b.signIn("ada@example.test", "wrong-password-123"); p.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d, want 401", i+1, p.status)
		}
	}
	p := b.signIn("ada@example.test", password)
	if p.status != http.StatusTooManyRequests || !strings.Contains(p.body, "Too many failed sign-in attempts") {
		t.Fatalf("right password after the limit: %d, want 429 with a clear message", p.status)
	}
	fresh := e.browser() // another client, same email: the per-email limit holds too
	if p := fresh.signIn("ADA@example.test", password); p.status != http.StatusTooManyRequests {
		t.Errorf("same email, new client: %d, want 429", p.status)
	}
	e.clock.Advance(15 * time.Minute)
	if p := b.signIn("ada@example.test", password); p.status != http.StatusSeeOther {
		t.Errorf("after the window: %d, want a redirect (signed in)", p.status)
	}
}

func TestAnotherWorkspacesURLIsNotFound(t *testing.T) {
	e := newEnv(t)
	owner, intruder := e.browser(), e.browser()
	owner.signUp("ada@example.test")
	ws := owner.workspace("Acme")
	owner.post("/app/"+ws+"/tokens", "/app/"+ws+"/tokens", url.Values{"name": {"ci"}, "scopes": {"tokens:read"}})
	intruder.signUp("eve@example.test")
	own := intruder.workspace("Evil")
	for _, path := range []string{"/app/" + ws + "/tokens", "/app/" + ws + "/audit", "/app/" + ws + "/settings/api-keys",
		"/app/ws_doesnotexist000000000000/tokens"} {
		if p := intruder.get(path); p.status != http.StatusNotFound {
			t.Errorf("GET %s by a non-member: %d, want 404", path, p.status)
		}
	}
	if p := intruder.post("/app/"+own+"/tokens", "/app/"+ws+"/tokens", url.Values{"name": {"x"}, "scopes": {"tokens:read"}}); p.status != http.StatusNotFound {
		t.Errorf("POST into another workspace: %d, want 404", p.status)
	}
	if n := e.tokenCount("ada@example.test", ws); n != 1 {
		t.Errorf("%d tokens in the owner's workspace, want 1", n)
	}
}

func TestViewerSeesNoButtonsAndForgedPostsAreRefused(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signUp("vic@example.test")
	ws := b.workspace("Acme")
	issued, err := e.svc.CreateToken(context.Background(), e.principal("vic@example.test", ws),
		core.CreateTokenInput{Name: "ci", Scopes: []string{"tokens:read"}})
	if err != nil {
		t.Fatal(err)
	}
	acc, _ := e.stores.Accounts.AccountByEmail(context.Background(), "vic@example.test")
	e.view.accounts[acc.ID] = true
	list := b.get("/app/" + ws + "/tokens")
	detail := b.get("/app/" + ws + "/tokens/" + issued.Token.ID)
	if list.status != 200 || detail.status != 200 {
		t.Fatalf("viewer pages: %d %d", list.status, detail.status)
	}
	for _, s := range []string{"New Token", "/revoke", "/rotate"} {
		if strings.Contains(list.body+detail.body, s) {
			t.Errorf("a viewer's pages offer %q", s)
		}
	}
	tokens := "/app/" + ws + "/tokens"
	for path, form := range map[string]url.Values{
		tokens: {"name": {"forged"}, "scopes": {"tokens:read"}},
		tokens + "/" + issued.Token.ID + "/revoke": {},
		tokens + "/" + issued.Token.ID + "/rotate": {},
	} {
		if p := b.post(tokens, path, form); p.status != http.StatusForbidden {
			t.Errorf("viewer POST %s: %d, want 403", path, p.status)
		}
	}
	tok, err := e.svc.GetToken(context.Background(), e.principal("vic@example.test", ws), issued.Token.ID)
	if err != nil || tok.RevokedAt != nil || tok.RotatedAt != nil {
		t.Errorf("token after forged posts: %+v, %v; want unchanged", tok, err)
	}
	if n := e.tokenCount("vic@example.test", ws); n != 1 {
		t.Errorf("%d tokens, want 1", n)
	}
}

func TestSignUpRefusesWeakPasswords(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	for _, pw := range []string{"short", "password1234", "aaaaaaaaaaaa", "abcdefghijklm", "grace-hopper-rules"} {
		p := b.post("/signup", "/signup", url.Values{"email": {"grace-hopper@example.test"}, "password": {pw}, "password_confirm": {pw}})
		if p.status != http.StatusUnprocessableEntity {
			t.Errorf("password %q: %d, want 422", pw, p.status)
		}
	}
}
