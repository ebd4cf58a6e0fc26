package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tooken/tooken/cmd/tooken/app"
)

// repoRoot is the module root, found from this file's location (tests/e2e/…).
func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the test file")
	}
	root := filepath.Join(filepath.Dir(file), "..", "..")
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("no go.mod at the presumed repository root %s: %v", root, err)
	}
	return root
}

var (
	quickstartRE = regexp.MustCompile("(?s)<!-- quickstart:begin -->\\s*```sh\\n(.*?)```\\s*<!-- quickstart:end -->")
	expectRE     = regexp.MustCompile(`(?m)^# expect: (\d{3})\s*$`)
	statusLineRE = regexp.MustCompile(`^\d{3}$`)
)

// quickstart returns the sh block between the README's quickstart markers and its expected statuses.
func quickstart(t *testing.T, root string) (script string, expects []string) {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := quickstartRE.FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md has no ```sh block between <!-- quickstart:begin --> and <!-- quickstart:end -->")
	}
	script = string(m[1])
	for _, e := range expectRE.FindAllStringSubmatch(script, -1) {
		expects = append(expects, e[1])
	}
	if len(expects) == 0 {
		t.Fatal("the quickstart block has no `# expect: NNN` lines")
	}
	return script, expects
}

// requireTools skips (or, under CI=true, fails) when a command the quickstart needs is missing.
func requireTools(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("the README quickstart needs %s: %v", n, err)
			}
			t.Skipf("the README quickstart needs %s: %v", n, err)
		}
	}
}

// TestReadmeQuickstartRunsAsWritten runs the README's quickstart block with bash, from the repository
// root, against a live server on embedded SQLite whose data directory the block's
// `go run ./cmd/tooken bootstrap` shares. Every `# expect: NNN` must match the status lines the block
// prints, in order, and the audit output must show the token's creation and revocation.
func TestReadmeQuickstartRunsAsWritten(t *testing.T) {
	t.Parallel()
	requireTools(t, "bash", "curl", "jq", "go")
	root := repoRoot(t)
	script, expects := quickstart(t, root)

	dataDir := t.TempDir()
	m, err := app.Listen(context.Background(), app.Config{Addr: "127.0.0.1:0", DataDir: dataDir, Migrate: true, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("app.Listen: %v", err)
	}
	s := run(t, m, nil) // the system clock: the block's own bootstrap process cannot share a test clock

	runCtx, stop := context.WithTimeout(context.Background(), 5*time.Minute) // go run may compile cold
	defer stop()
	cmd := exec.CommandContext(runCtx, "bash", "-e", "-o", "pipefail", "-c", script)
	cmd.Dir = root
	cmd.Env = append(withoutTookenVars(os.Environ()),
		"TOOKEN_URL="+s.URL,
		"TOOKEN_ADDR="+strings.TrimPrefix(s.URL, "http://"),
		"TOOKEN_DATA_DIR="+dataDir,
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("the quickstart block failed: %v\nstdout:\n%s\nstderr:\n%s", err, &stdout, &stderr)
	}

	t.Logf("quickstart output:\n%s", &stdout)
	var statuses, rest []string
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		line = strings.TrimSpace(line)
		if statusLineRE.MatchString(line) {
			statuses = append(statuses, line)
		} else if line != "" {
			rest = append(rest, line)
		}
	}
	if !slices.Equal(statuses, expects) {
		t.Errorf("status lines %v, want the block's # expect lines %v\nstdout:\n%s\nstderr:\n%s", statuses, expects, &stdout, &stderr)
	}
	for _, action := range []string{"token.created", "token.revoked"} {
		if !slices.Contains(rest, action) {
			t.Errorf("the audit output lacks %s\nstdout:\n%s", action, &stdout)
		}
	}
}

// withoutTookenVars drops the caller's TOOKEN_* settings so the block talks only to the test server.
func withoutTookenVars(env []string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool { return strings.HasPrefix(kv, "TOOKEN_") })
}
