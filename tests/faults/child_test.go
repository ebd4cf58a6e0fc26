package faults

import (
	"database/sql"
	"os"
	"testing"

	_ "github.com/lib/pq" // the postgres driver, for the invariant queries
	"github.com/tooken/tooken/adapters/jwks"
	"github.com/tooken/tooken/internal/childproc"
)

func TestMain(m *testing.M) {
	code := m.Run()
	childproc.RemoveBinary()
	os.Exit(code)
}

// installation is what replicas of one Tooken installation share: the database and the master key.
type installation struct {
	DBURL     string
	MasterKey string
	// PublicURL is the issuer every replica uses (a load balancer's URL in production); empty gives
	// each replica its own.
	PublicURL string
}

func newInstallation(dbURL string) *installation {
	return &installation{DBURL: dbURL, MasterKey: jwks.GenerateMasterKey()}
}

// env is the child's environment: the test's, plus the installation and extra TOOKEN_* settings.
func (in *installation) env(extra ...string) []string {
	env := childproc.Env(
		"TOOKEN_DATABASE_URL="+in.DBURL, "TOOKEN_MASTER_KEY="+in.MasterKey, "TOOKEN_LOG_LEVEL=warn",
		"TOOKEN_RATE_LIMIT=10000000", "TOOKEN_WEBHOOK_ALLOW_PRIVATE=true")
	if in.PublicURL != "" {
		env = append(env, "TOOKEN_PUBLIC_URL="+in.PublicURL)
	}
	return append(env, extra...)
}

// bootstrap runs `tooken bootstrap` (which migrates) and returns the owner API key.
func (in *installation) bootstrap(t *testing.T, workspace string) string {
	t.Helper()
	return childproc.Bootstrap(t, in.env(), workspace)
}

// child is a `tooken serve` process with a client of its API.
type child struct {
	*client
	*childproc.Process
}

// start runs `tooken serve` with the installation's environment plus extra (see childproc.Start).
func (in *installation) start(t *testing.T, extra ...string) *child {
	t.Helper()
	p := childproc.Start(t, in.env(extra...), nil)
	return &child{client: newClient(p.URL), Process: p}
}

// kill sends SIGKILL, waits for the process to be gone and drops the client's connections to it.
func (c *child) kill() {
	c.Process.Kill()
	c.http.CloseIdleConnections()
}

// openSQL opens the database for invariant checks; it is closed when the test ends.
func openSQL(t *testing.T, dbURL string) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
