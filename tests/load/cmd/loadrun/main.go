// Command loadrun is Tooken's load harness (`make load`). It builds `tooken serve`, starts it on a
// fresh PostgreSQL database with the rate limits raised out of the way and its pprof listener on, starts
// a bare net/http baseline in a process of its own, runs pgbench against the same PostgreSQL, then
// drives four scenarios over loopback with vegeta — fixed-rate steps and a max-throughput step each —
// and a soak of the mixed scenario. It prints PASS/FAIL lines for the ratio targets of issue 7 and
// appends a Markdown report to BENCHMARKS.md. CPU profiles of the max steps are kept in -profiles.
//
// Exit status: 0 when every check passed, 2 when one failed, 1 when the harness itself failed.
package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tooken/tooken/internal/gcfloor"
)

// loadGCFloor is the load generator's GC heap floor (see gcfloor). Its live heap is under 1 MB, so
// at Go's default it collected every 65 ms under load (some 2,000 times in a GET-only run), each
// time stopping its goroutines, once for 7 ms, while they time requests; with the floor, about 140
// times.
const loadGCFloor = 64 << 20

// config is the harness's flags.
type config struct {
	goCmd        string
	duration     time.Duration
	soak         time.Duration
	soakRate     float64
	clients      int
	poolSize     int
	databaseURL  string
	out          string
	profiles     string
	note         string
	only         string
	rssLimit     int64
	heapTolerate float64
}

func main() {
	baselineAddr := flag.String("baseline", "", "internal: serve the baseline on this address")
	workdir := flag.String("workdir", "", "internal: the baseline's work directory")
	var cfg config
	flag.DurationVar(&cfg.duration, "duration", 10*time.Second, "length of each load step")
	flag.DurationVar(&cfg.soak, "soak", 5*time.Minute, "length of the soak (0 skips it)")
	flag.Float64Var(&cfg.soakRate, "soak-rate", 0, "requests per second of the soak; 0 = a quarter of the mixed scenario's max throughput")
	flag.IntVar(&cfg.clients, "clients", 16, "concurrent clients of the max steps and of pgbench")
	flag.IntVar(&cfg.poolSize, "pool", 64, "tokens read and verified round-robin")
	flag.StringVar(&cfg.databaseURL, "database-url", cmp.Or(os.Getenv("TOOKEN_TEST_DATABASE_URL"),
		"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"),
		"a PostgreSQL server (any database on it) where the run creates and drops a database of its own")
	flag.StringVar(&cfg.out, "out", "BENCHMARKS.md", "file the Markdown report is appended to (empty: print only)")
	flag.StringVar(&cfg.profiles, "profiles", "", "directory for the max steps' CPU profiles (default: a new temporary directory)")
	flag.StringVar(&cfg.only, "only", "", "run only these scenarios (comma-separated: get, create, verify, mixed); checks of the others fail")
	flag.StringVar(&cfg.note, "note", "", "a line added to the report, e.g. what else ran on the machine")
	flag.Parse()
	cfg.goCmd = cmp.Or(os.Getenv("GO"), "go")
	cfg.rssLimit = 150_000_000
	cfg.heapTolerate = 0.10

	if *baselineAddr != "" {
		if err := serveBaseline(*baselineAddr, *workdir); err != nil {
			fmt.Fprintln(os.Stderr, "loadrun baseline:", err)
			os.Exit(1)
		}
		return
	}
	go gcfloor.Keep(context.Background(), loadGCFloor)
	c := &cleanups{}
	go c.onSignal()
	passed, err := run(cfg, c)
	c.run()
	switch {
	case err != nil:
		fmt.Fprintln(os.Stderr, "loadrun:", err)
		os.Exit(1)
	case !passed:
		os.Exit(2)
	}
}

// cleanups are run once, in reverse order, at the end or on SIGINT/SIGTERM.
type cleanups struct {
	mu    sync.Mutex
	funcs []func()
}

func (c *cleanups) add(f func()) { c.mu.Lock(); c.funcs = append(c.funcs, f); c.mu.Unlock() }

func (c *cleanups) run() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.funcs) - 1; i >= 0; i-- {
		c.funcs[i]()
	}
	c.funcs = nil
}

func (c *cleanups) onSignal() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	fmt.Fprintln(os.Stderr, "loadrun: interrupted; stopping the server and dropping the database")
	c.run()
	os.Exit(130)
}

// loadavg is the first three fields of /proc/loadavg.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

// appendReport appends md to path, creating it with a heading first.
func appendReport(path, md string) error {
	if path == "" {
		return nil
	}
	if _, err := os.Stat(path); os.IsNotExist(err) {
		head := "# Benchmarks\n\nRuns of `make load` (tests/load/cmd/loadrun), appended newest last. Each run measures its\n" +
			"own baseline (a bare `net/http` handler answering the same bytes, in its own process) and\n" +
			"`pgbench` (single-row `INSERT` + `COMMIT`) on the same machine, so the ratios compare like with like;\n" +
			"absolute numbers move from machine to machine.\n\n"
		if err := os.WriteFile(path, []byte(head), 0o644); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString("\n" + md); err != nil { // a blank line after whatever ends the file
		f.Close()
		return err
	}
	return f.Close()
}

// profileDir returns the directory for CPU profiles, creating it.
func profileDir(dir string) (string, error) {
	if dir == "" {
		return os.MkdirTemp("", "tooken-load-profiles-")
	}
	return filepath.Abs(dir)
}
