package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	_ "github.com/lib/pq" // the postgres driver, for tampering with the test database directly
)

// openDB opens the server's PostgreSQL database directly, as an attacker with database access (or a
// curious test) would.
func (s *server) openDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", s.cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// buildCLI compiles cmd/tooken once for the test into its temporary directory.
func buildCLI(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("building the tooken CLI needs the go command: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "tooken")
	build := exec.Command(goTool, "build", "-o", bin, "./cmd/tooken")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/tooken: %v\n%s", err, out)
	}
	return bin
}

// auditVerify runs `tooken audit verify` against the server's database and returns its standard output
// and exit code.
func (s *server) auditVerify(t *testing.T, bin string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"audit", "verify", "--database-url", s.cfg.DatabaseURL,
		"--master-key", s.cfg.MasterKey}, args...)...)
	cmd.Dir = t.TempDir()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return stdout.String(), exit.ExitCode()
	case err != nil:
		t.Fatalf("tooken audit verify: %v\nstderr: %s", err, stderr.String())
	}
	return stdout.String(), 0
}

// writeConcurrently has 20 goroutines create, rotate and revoke tokens at once in ws, all answered
// with success.
func (s *server) writeConcurrently(t *testing.T, ws workspace, prefix string) {
	t.Helper()
	start := make(chan struct{})
	errs := make(chan error, 20)
	var wg sync.WaitGroup
	for g := range 20 {
		wg.Go(func() {
			<-start
			errs <- s.writeSome(ws, fmt.Sprintf("%s-%d", prefix, g))
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// writeSome creates two tokens, rotates the first and revokes the second: four audit events.
func (s *server) writeSome(ws workspace, name string) error {
	h := bearer(ws.APIKey)
	var ids []string
	for _, n := range []string{name + "-a", name + "-b"} {
		r, err := s.send("POST", "/v1/tokens", h, map[string]any{"name": n, "scopes": []string{"tokens:read"}})
		if err != nil || r.Status != http.StatusCreated {
			return fmt.Errorf("create %s: %v %v", n, r, err)
		}
		id := tokenIDInBody.FindSubmatch(r.Body)
		if id == nil {
			return fmt.Errorf("create %s: no id in %v", n, r)
		}
		ids = append(ids, string(id[1]))
	}
	for _, step := range []struct {
		method, path string
		status       int
	}{
		{"POST", "/v1/tokens/" + ids[0] + "/rotate", http.StatusOK},
		{"DELETE", "/v1/tokens/" + ids[1], http.StatusNoContent},
		{"POST", "/v1/tokens/" + ids[1] + "/rotate", http.StatusConflict}, // refused: no event
	} {
		r, err := s.send(step.method, step.path, h, nil)
		if err != nil || r.Status != step.status {
			return fmt.Errorf("%s %s: %v %v; want %d", step.method, step.path, r, err, step.status)
		}
	}
	return nil
}

var tokenIDInBody = regexp.MustCompile(`"id":"(tok_[a-z0-9]+)"`)

// TestAuditChainOfConcurrentWritersVerifiesAndNamesTheEventEditedInTheDatabase writes audit events
// from 20 goroutines at once in two workspaces, then runs the real `tooken audit verify`: every chain
// verifies. Editing one event with SQL makes the command exit 1 naming that event's position and id
// (and only in its workspace); undoing the edit repairs the chain; deleting an event breaks it at the
// next one.
func TestAuditChainOfConcurrentWritersVerifiesAndNamesTheEventEditedInTheDatabase(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	acme, globex := s.bootstrap(t, "Acme"), s.bootstrap(t, "Globex")
	var wg sync.WaitGroup
	for _, ws := range []workspace{acme, globex} {
		wg.Go(func() { s.writeConcurrently(t, ws, ws.ID) })
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	events := s.audit(t, acme, "").Meta.Total
	if events < 20*4 {
		t.Fatalf("%d audit events in Acme after the concurrent writes, want at least 80", events)
	}
	db := s.openDB(t)
	ctx := context.Background()
	var n, distinct, lowest, highest int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(DISTINCT chain_seq), MIN(chain_seq), MAX(chain_seq)
FROM audit_events WHERE workspace_id = $1`, acme.ID).Scan(&n, &distinct, &lowest, &highest); err != nil {
		t.Fatal(err)
	}
	if n != events || distinct != n || lowest != 1 || highest != n {
		t.Errorf("chain positions of %d events: %d distinct, %d to %d; want 1 to %d (the API lists %d)", n, distinct, lowest, highest, n, events)
	}

	bin := buildCLI(t)
	out, code := s.auditVerify(t, bin, "--workspace", acme.ID)
	if want := fmt.Sprintf("%s: ok, %d events checked\n", acme.ID, events); code != 0 || out != want {
		t.Fatalf("audit verify --workspace (exit %d):\n%s\nwant exit 0 and %q", code, out, want)
	}
	out, code = s.auditVerify(t, bin)
	for _, ws := range []workspace{acme, globex} {
		if code != 0 || !strings.Contains(out, ws.ID+": ok, ") {
			t.Errorf("audit verify (exit %d):\n%s\nwant exit 0 and %s ok", code, out, ws.ID)
		}
	}

	seq := events / 2
	var id, action string
	if err := db.QueryRowContext(ctx, `SELECT id, action FROM audit_events WHERE workspace_id = $1 AND chain_seq = $2`,
		acme.ID, seq).Scan(&id, &action); err != nil {
		t.Fatal(err)
	}
	tamper := func(query string, args ...any) {
		t.Helper()
		if res, err := db.ExecContext(ctx, query, args...); err != nil {
			t.Fatal(err)
		} else if rows, _ := res.RowsAffected(); rows != 1 {
			t.Fatalf("%s changed %d rows, want 1", query, rows)
		}
	}
	tamper(`UPDATE audit_events SET action = 'token.tampered' WHERE workspace_id = $1 AND chain_seq = $2`, acme.ID, seq)
	broken := fmt.Sprintf("%s: BROKEN at event #%d (%s): ", acme.ID, seq, id)
	out, code = s.auditVerify(t, bin, "--workspace", acme.ID)
	t.Logf("tooken audit verify after the edit (exit %d): %s", code, out)
	if code != 1 || !strings.HasPrefix(out, broken) || !strings.Contains(out, fmt.Sprintf("%d events before it verified", seq-1)) {
		t.Errorf("audit verify after editing event #%d (exit %d):\n%s\nwant exit 1 and a line starting %q", seq, code, out, broken)
	}
	out, code = s.auditVerify(t, bin)
	if code != 1 || !strings.Contains(out, "\n"+broken) && !strings.HasPrefix(out, broken) || !strings.Contains(out, globex.ID+": ok, ") {
		t.Errorf("audit verify of every workspace after the edit (exit %d):\n%s\nwant exit 1, %q and Globex ok", code, out, broken)
	}

	tamper(`UPDATE audit_events SET action = $3 WHERE workspace_id = $1 AND chain_seq = $2`, acme.ID, seq, action)
	if out, code = s.auditVerify(t, bin, "--workspace", acme.ID); code != 0 {
		t.Errorf("audit verify after undoing the edit (exit %d):\n%s\nwant exit 0", code, out)
	}
	tamper(`DELETE FROM audit_events WHERE workspace_id = $1 AND chain_seq = $2`, acme.ID, seq)
	var next string
	if err := db.QueryRowContext(ctx, `SELECT id FROM audit_events WHERE workspace_id = $1 AND chain_seq = $2`,
		acme.ID, seq+1).Scan(&next); err != nil {
		t.Fatal(err)
	}
	broken = fmt.Sprintf("%s: BROKEN at event #%d (%s): ", acme.ID, seq+1, next)
	if out, code = s.auditVerify(t, bin, "--workspace", acme.ID); code != 1 || !strings.HasPrefix(out, broken) {
		t.Errorf("audit verify after deleting event #%d (exit %d):\n%s\nwant exit 1 and a line starting %q", seq, code, out, broken)
	}
}

// TestAuditVerifyNoticesThatTheNewestEventsWereDeleted deletes the newest audit event of a workspace
// with SQL — the edit an intruder would make to hide their last action. No link inside the remaining
// chain breaks, but the database records where the chain ends (audit_heads), so `tooken audit verify`
// must report the chain broken instead of "ok" with one event fewer.
func TestAuditVerifyNoticesThatTheNewestEventsWereDeleted(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ws := s.bootstrap(t, "Acme")
	for _, name := range []string{"a", "b", "c"} {
		s.createToken(t, ws.APIKey, map[string]any{"name": name, "scopes": []string{"tokens:read"}})
	}
	events := s.audit(t, ws, "").Meta.Total
	db := s.openDB(t)
	var head int
	if err := db.QueryRow(`SELECT last_seq FROM audit_heads WHERE workspace_id = $1`, ws.ID).Scan(&head); err != nil || head != events {
		t.Fatalf("audit_heads.last_seq = %d (%v), want %d", head, err, events)
	}
	bin := buildCLI(t)
	if out, code := s.auditVerify(t, bin, "--workspace", ws.ID); code != 0 {
		t.Fatalf("audit verify before the deletion (exit %d): %s", code, out)
	}
	if _, err := db.Exec(`DELETE FROM audit_events WHERE workspace_id = $1 AND chain_seq = $2`, ws.ID, events); err != nil {
		t.Fatal(err)
	}
	out, code := s.auditVerify(t, bin, "--workspace", ws.ID)
	if code != 1 || !strings.Contains(out, "BROKEN") {
		t.Errorf("audit verify after deleting the newest event #%d (the chain head still records #%d): exit %d, %q; want exit 1 and BROKEN",
			events, head, code, out)
	}
}
