package browser

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	_ "github.com/lib/pq"
	"github.com/tooken/tooken/adapters/argon2id"
	"github.com/tooken/tooken/adapters/jwks"
	"github.com/tooken/tooken/adapters/postgres/postgrestest"
	"github.com/tooken/tooken/cmd/tooken/app"
	_ "modernc.org/sqlite"
)

const chromiumPath = "/usr/bin/chromium"

// server is the real Tooken server (app.Listen + Run) on 127.0.0.1:0: PostgreSQL when
// TOOKEN_TEST_DATABASE_URL is set, embedded SQLite otherwise. db is a direct connection to its
// database, for test setup the dashboard does not offer yet.
type server struct {
	URL      string
	db       *sql.DB
	postgres bool
}

func startServer(t *testing.T) *server {
	t.Helper()
	cfg := app.Config{Addr: "127.0.0.1:0", Migrate: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Hasher: argon2id.Hasher{Memory: 1024, Time: 1, Threads: 1}}
	s := &server{}
	var err error
	if os.Getenv("TOOKEN_TEST_DATABASE_URL") != "" {
		cfg.DatabaseURL, cfg.MasterKey = postgrestest.NewDatabase(t), jwks.GenerateMasterKey()
		s.postgres = true
		s.db, err = sql.Open("postgres", cfg.DatabaseURL)
	} else {
		cfg.DataDir = t.TempDir()
		s.db, err = sql.Open("sqlite", filepath.Join(cfg.DataDir, "tooken.db")+"?_pragma=busy_timeout(5000)")
	}
	if err != nil {
		t.Fatal(err)
	}
	m, err := app.Listen(context.Background(), cfg)
	if err != nil {
		t.Fatalf("app.Listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		s.db.Close()
		m.Close()
	})
	s.URL = m.URL
	return s
}

// addMember makes an existing account a member of a workspace with role (the invitations UI is
// separate work).
func (s *server) addMember(t *testing.T, workspaceID, email, role string) {
	t.Helper()
	var now any = time.Now().UTC()
	q := `INSERT INTO members (id, workspace_id, account_id, role, created_at)
SELECT $1, $2, id, $3, $4 FROM accounts WHERE email = $5`
	if !s.postgres {
		now = time.Now().UnixMicro()
		q = strings.NewReplacer("$1", "?", "$2", "?", "$3", "?", "$4", "?", "$5", "?").Replace(q)
	}
	res, err := s.db.Exec(q, "mem_"+strings.Repeat("v", 24), workspaceID, role, now, email)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("addMember: %d rows", n)
	}
}

// newBrowser starts headless Chromium, or skips the test when it is not installed (fails under CI).
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); errors.Is(err, os.ErrNotExist) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing; .ci/run installs Debian's chromium package", chromiumPath)
		}
		t.Skipf("%s is not installed", chromiumPath)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancel := chromedp.NewContext(actx)
	// The first Run starts the browser, which lives as long as that context: no timeout on it.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	ctx, cancelTimeout := context.WithTimeout(bctx, 5*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	return ctx
}

// run runs browser actions, failing the test with what was being done.
func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	start := time.Now()
	err := chromedp.Do(ctx, actions...)
	// A node looked up just as the page it belonged to was replaced: run the (idempotent) steps again.
	for i := 0; i < 3 && err != nil && strings.Contains(err.Error(), "node with given id"); i++ {
		time.Sleep(200 * time.Millisecond)
		err = chromedp.Do(ctx, actions...)
	}
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	t.Logf("%s: %v", what, time.Since(start).Round(time.Millisecond))
}

// get runs one browser action that returns a value.
func get[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// screenshot saves the page as docs/screenshots/name.png when TOOKEN_SCREENSHOTS=1 (the committed
// README images), else in the test's temporary directory.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png := get(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	dir := t.TempDir()
	if os.Getenv("TOOKEN_SCREENSHOTS") == "1" {
		dir = filepath.Join("..", "..", "docs", "screenshots")
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// status is the HTTP status of a request made with a bearer credential.
func status(t *testing.T, method, url, bearer string) int {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
