package faults

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/lib/pq" // the postgres driver, for the invariant queries
	"github.com/tooken/tooken/adapters/jwks"
)

// binDir holds the tooken binary built for this test process; TestMain removes it.
var binDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

var build struct {
	once sync.Once
	path string
	err  error
}

// tookenBinary builds cmd/tooken once per test process (without -race: the drills test the process,
// not its memory accesses) and returns its path.
func tookenBinary(t *testing.T) string {
	t.Helper()
	build.once.Do(func() {
		dir, err := os.MkdirTemp("", "tooken-faults-")
		if err != nil {
			build.err = err
			return
		}
		binDir = dir
		build.path = filepath.Join(dir, "tooken")
		out, err := exec.Command("go", "build", "-o", build.path, "github.com/tooken/tooken/cmd/tooken").CombinedOutput()
		if err != nil {
			build.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.path
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
	env := append(os.Environ(),
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
	cmd := exec.Command(tookenBinary(t), "bootstrap", "--email", "owner@example.com", "--workspace", workspace)
	cmd.Env = in.env()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tooken bootstrap: %v\n%s", err, stderr.String())
	}
	var b struct {
		APIKey string `json:"api_key"`
	}
	if err := json.Unmarshal(out, &b); err != nil || b.APIKey == "" {
		t.Fatalf("tooken bootstrap printed %q: %v", out, err)
	}
	return b.APIKey
}

// child is a `tooken serve` process.
type child struct {
	*client
	cmd    *exec.Cmd
	stderr *lockedBuffer
	done   chan struct{} // closed when the process has exited; err is then set
	err    error
}

// start runs `tooken serve` on a free port with the installation's environment plus extra, and
// waits until /readyz answers 200. The process is killed when the test ends if it still runs, and
// its log is shown when the test failed.
func (in *installation) start(t *testing.T, extra ...string) *child {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(tookenBinary(t), "serve")
	cmd.Env = in.env(append([]string{"TOOKEN_ADDR=" + addr}, extra...)...)
	c := &child{client: newClient("http://" + addr), cmd: cmd, stderr: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		c.signal(syscall.SIGKILL)
		<-c.done
		if t.Failed() {
			t.Logf("log of tooken serve on %s:\n%s", addr, c.stderr.String())
		}
	})
	c.waitReady(t, 30*time.Second)
	return c
}

// waitReady polls /readyz until it answers 200, failing the test after timeout or if the process exits.
func (c *child) waitReady(t *testing.T, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		r, err := c.send("GET", "/readyz", "", nil)
		if err == nil && r.Status == http.StatusOK {
			return
		}
		select {
		case <-c.done:
			t.Fatalf("tooken serve exited before it was ready: %v\n%s", c.err, c.stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("tooken serve not ready after %v (last: %v %v)\n%s", timeout, r, err, c.stderr.String())
		}
	}
}

func (c *child) signal(sig syscall.Signal) {
	select {
	case <-c.done:
	default:
		_ = c.cmd.Process.Signal(sig)
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (c *child) kill() {
	c.signal(syscall.SIGKILL)
	<-c.done
	c.http.CloseIdleConnections()
}

// wait waits up to timeout for the process to exit and reports whether it did.
func (c *child) wait(timeout time.Duration) bool {
	select {
	case <-c.done:
		return true
	case <-time.After(timeout):
		return false
	}
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// lockedBuffer collects a child's log from its writer goroutine while tests read it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
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

// queryStrings runs a query returning one text column and collects it.
func queryStrings(t *testing.T, db *sql.DB, query string, args ...any) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		t.Fatal(err)
	}
	return out
}
