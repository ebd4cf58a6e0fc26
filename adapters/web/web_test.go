package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tooken/tooken/adapters/argon2id"
	"github.com/tooken/tooken/adapters/jwks"
	"github.com/tooken/tooken/adapters/memory"
	"github.com/tooken/tooken/adapters/web"
	"github.com/tooken/tooken/core"
	"github.com/tooken/tooken/internal/testclock"
	"github.com/tooken/tooken/ports"
)

const password = "violet-harbor-lantern-42"

// viewers demotes chosen accounts to viewers in every workspace, standing in for the member
// management that invitations will provide.
type viewers struct {
	ports.WorkspaceStore
	accounts map[string]bool
}

func (v *viewers) MemberByAccount(ctx context.Context, ws, acc string) (*ports.Member, error) {
	m, err := v.WorkspaceStore.MemberByAccount(ctx, ws, acc)
	if err == nil && v.accounts[acc] {
		m.Role = ports.RoleViewer
	}
	return m, err
}

type env struct {
	t      *testing.T
	srv    *httptest.Server
	svc    *core.Service
	clock  *testclock.Clock
	stores ports.Stores
	view   *viewers
	queue  *deliveryQueue
}

func newEnv(t *testing.T) *env {
	t.Helper()
	clock := testclock.New(time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC))
	stores := memory.New().Stores()
	v := &viewers{WorkspaceStore: stores.Workspaces, accounts: map[string]bool{}}
	stores.Workspaces = v
	signer, err := jwks.New(stores.SigningKeys, make([]byte, 32), "https://tooken.test", clock)
	if err != nil {
		t.Fatal(err)
	}
	queue := &deliveryQueue{}
	svc := core.New(core.Config{PublicURL: "https://tooken.test", Deliveries: queue}, stores, signer, clock,
		argon2id.Hasher{Memory: 1024, Time: 1, Threads: 1})
	srv := httptest.NewServer(web.New(svc, web.Options{LoginLimit: 3, LoginWindow: 15 * time.Minute}))
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, svc: svc, clock: clock, stores: stores, view: v, queue: queue}
}

// browser is a client with a cookie jar that does not follow redirects.
type browser struct {
	e *env
	c *http.Client
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type page struct {
	status   int
	location string
	body     string
}

func (b *browser) do(method, path string, form url.Values) page {
	b.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, b.e.srv.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return page{resp.StatusCode, resp.Header.Get("Location"), string(data)}
}

func (b *browser) get(path string) page { return b.do("GET", path, nil) }

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// post submits form on path with the CSRF token of the page at from.
func (b *browser) post(from, path string, form url.Values) page {
	b.e.t.Helper()
	m := csrfRE.FindStringSubmatch(b.get(from).body)
	if m == nil {
		b.e.t.Fatalf("no CSRF token on %s", from)
	}
	form.Set("csrf_token", m[1])
	return b.do("POST", path, form)
}

func (b *browser) signUp(email string) {
	b.e.t.Helper()
	p := b.post("/signup", "/signup", url.Values{"email": {email}, "password": {password}, "password_confirm": {password}})
	if p.status != http.StatusSeeOther || p.location != "/app" {
		b.e.t.Fatalf("sign up: %d %s %s", p.status, p.location, p.body)
	}
}

func (b *browser) signIn(email, pw string) page {
	return b.post("/signin", "/signin", url.Values{"email": {email}, "password": {pw}})
}

// workspace creates a workspace and returns its id.
func (b *browser) workspace(name string) string {
	b.e.t.Helper()
	p := b.post("/app", "/app/workspaces", url.Values{"name": {name}})
	id, ok := strings.CutPrefix(p.location, "/app/")
	if p.status != http.StatusSeeOther || !ok {
		b.e.t.Fatalf("create workspace: %d %q", p.status, p.location)
	}
	return strings.TrimSuffix(id, "/tokens")
}

func (e *env) principal(email, ws string) *core.Principal {
	e.t.Helper()
	acc, err := e.stores.Accounts.AccountByEmail(context.Background(), email)
	if err != nil {
		e.t.Fatal(err)
	}
	m, err := e.stores.Workspaces.MemberByAccount(context.Background(), ws, acc.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return &core.Principal{Kind: core.KindUser, ID: acc.ID, Email: acc.Email, MemberID: m.ID, Role: m.Role, WorkspaceID: ws}
}

func (e *env) tokenCount(email, ws string) int {
	e.t.Helper()
	_, _, n, err := e.svc.ListTokens(context.Background(), e.principal(email, ws), core.ListTokensInput{})
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}
