package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/tooken/tooken/tests/load"
)

// pgbenchRun is one pgbench workload: the SQL that sets up its tables, then the script of one
// transaction.
type pgbenchRun struct {
	name, setup, script string
}

// insertCommit is the workload target (2) compares with: a single-row INSERT, then COMMIT.
var insertCommit = pgbenchRun{name: "insert",
	setup: "CREATE TABLE loadrun_pgbench (id bigserial PRIMARY KEY, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())",
	script: `BEGIN;
INSERT INTO loadrun_pgbench (name) VALUES ('pgbench');
COMMIT;
`}

// createWritesSetup creates copies of the tables a token create writes, with their indexes (no
// foreign key to a workspace), and the audit-chain heads of the workspaces the scripts write to.
const createWritesSetup = `CREATE TABLE IF NOT EXISTS loadrun_tokens (LIKE tokens INCLUDING ALL);
CREATE TABLE IF NOT EXISTS loadrun_events (LIKE audit_events INCLUDING ALL);
CREATE TABLE IF NOT EXISTS loadrun_heads (LIKE audit_heads INCLUDING ALL);
INSERT INTO loadrun_heads (workspace_id, last_seq, last_hash)
SELECT 'ws_loadrun_' || g, 0, '' FROM generate_series(-1, 1023) AS g ON CONFLICT DO NOTHING`

// createWritesScript is, per transaction, the writes one token create makes, as the create path
// issues them for a batch of one: the workspace's audit-chain head moved (unless it has webhooks),
// the token row and its token.created event inserted, in one statement. %s is the SQL of the
// workspace's number. (pgbench takes ":name" anywhere in a script for a variable, hence the scope
// written as 'tokens:' || 'read'.)
const createWritesScript = `\set r random(1, 9000000000000000000)
WITH v AS (SELECT CAST(:r AS text) AS r, 'ws_loadrun_' || %s AS ws, 'tokens:' || 'read' AS scope), head AS (
  UPDATE loadrun_heads SET last_seq = last_seq + 1, last_hash = md5((SELECT r FROM v))
  WHERE workspace_id = (SELECT ws FROM v)
    AND NOT EXISTS (SELECT 1 FROM webhooks WHERE workspace_id = (SELECT ws FROM v) AND enabled)
  RETURNING last_seq, last_hash
), new_token AS (
  INSERT INTO loadrun_tokens (id, workspace_id, name, name_key, scopes, audience, created_by, created_at,
    expires_at, current_jti, current_kid)
  SELECT 'tok_' || r, ws, 'load-' || r, 'load-' || r, jsonb_build_array(scope), '["https://api.example.com"]',
    'loadrun', now(), now() + interval '1 day', 'jti_' || r, 'kid_loadrun' FROM v, head
)
INSERT INTO loadrun_events (id, workspace_id, action, actor_type, actor_id, target_type, target_id, target_name,
  ip, user_agent, request_id, metadata, occurred_at, chain_seq, prev_hash, hash)
SELECT 'evt_' || r, ws, 'token.created', 'api_key', 'key_loadrun', 'token', 'tok_' || r, 'load-' || r,
  '127.0.0.1', 'pgbench', 'req_' || r, jsonb_build_object('scopes', jsonb_build_array(scope)), now(), last_seq, '',
  last_hash FROM v, head;
`

// createWritesOneWorkspace and createWritesOwnWorkspaces are references beside target (2), not the
// target: the writes of one create per transaction, every transaction moving the same chain head (as
// the creates of one workspace do, the harness's case), or each client writing to a workspace of its
// own (PostgreSQL's ceiling for these writes, with no head shared).
var (
	createWritesOneWorkspace = pgbenchRun{name: "create-writes-one-workspace", setup: createWritesSetup,
		script: fmt.Sprintf(createWritesScript, "'-1'")}
	createWritesOwnWorkspaces = pgbenchRun{name: "create-writes-own-workspaces", setup: createWritesSetup,
		script: fmt.Sprintf(createWritesScript, "CAST(:client_id AS text)")}
)

// runPgbench runs w with the given client count against the run's database, where w's tables are
// created first, and returns its TPS.
func runPgbench(db *database, dir string, w pgbenchRun, clients int, d time.Duration) (float64, error) {
	setup := exec.Command("psql", "-q", "-v", "ON_ERROR_STOP=1", db.url, "-c", w.setup)
	if out, err := setup.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("setting up pgbench's %s tables: %v: %s", w.name, err, out)
	}
	script := filepath.Join(dir, w.name+".sql")
	if err := os.WriteFile(script, []byte(w.script), 0o600); err != nil {
		return 0, err
	}
	args := []string{"-n", "-M", "prepared", "-c", strconv.Itoa(clients), "-j", strconv.Itoa(min(clients, runtime.NumCPU())),
		"-T", strconv.Itoa(max(1, int(d.Seconds()))), "-f", script, db.url}
	out, err := exec.Command("pgbench", args...).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("pgbench %s: %v: %s", w.name, err, out)
	}
	return load.ParsePgbenchTPS(string(out))
}

// machine describes this machine and the code under test.
func machine(goCmd string, db *database) load.Machine {
	m := load.Machine{Date: time.Now(), Cores: runtime.NumCPU(), CPU: "unknown", RAM: "unknown",
		PostgreSQL: db.serverVersion()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		m.CPU = load.CPUModel(string(b))
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if f := strings.Fields(line); len(f) == 3 && f[0] == "MemTotal:" {
				kb, _ := strconv.ParseFloat(f[1], 64)
				m.RAM = fmt.Sprintf("%.1f GiB", kb/(1<<20))
			}
		}
	}
	if out, err := exec.Command(goCmd, "version").Output(); err == nil {
		m.Go = strings.TrimSpace(string(out))
	}
	m.Commit = "unknown commit"
	if out, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output(); err == nil {
		m.Commit = strings.TrimSpace(string(out))
		if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
			m.Commit += " (with uncommitted changes)"
		}
	}
	return m
}
