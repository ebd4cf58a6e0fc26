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

// pgbenchScript is one transaction: a single-row INSERT, then COMMIT.
const pgbenchScript = `BEGIN;
INSERT INTO loadrun_pgbench (name) VALUES ('pgbench');
COMMIT;
`

// runPgbench measures PostgreSQL's own write throughput with the same client count, into a table of
// its own in the run's database.
func runPgbench(db *database, dir string, clients int, d time.Duration) (float64, error) {
	create := exec.Command("psql", "-q", "-v", "ON_ERROR_STOP=1", db.url, "-c",
		"CREATE TABLE loadrun_pgbench (id bigserial PRIMARY KEY, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())")
	if out, err := create.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("creating pgbench's table: %v: %s", err, out)
	}
	script := filepath.Join(dir, "insert.sql")
	if err := os.WriteFile(script, []byte(pgbenchScript), 0o600); err != nil {
		return 0, err
	}
	args := []string{"-n", "-M", "prepared", "-c", strconv.Itoa(clients), "-j", strconv.Itoa(min(clients, runtime.NumCPU())),
		"-T", strconv.Itoa(max(1, int(d.Seconds()))), "-f", script, db.url}
	out, err := exec.Command("pgbench", args...).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("pgbench: %v: %s", err, out)
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
