// Command benchtable runs Tooken's benchmarks and prints them as a Markdown table, preceded by the
// machine they ran on, followed by two small tables: the offline verifier (sdk/verify) against the
// raw signature check, and latency distributions reported as custom metrics ("p99-replica-ms"),
// such as revocation propagation. `make bench` runs it from the repository root.
//
// PostgreSQL rows need TOOKEN_TEST_DATABASE_URL (passed through to go test) or a Docker engine.
package main

import (
	"bufio"
	"bytes"
	"cmp"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// packages are benchmarked in this order, once each.
var packages = []string{"./tests/bench/", "./adapters/jwks/"}

// verifierPackage is benchmarked afterwards, -verify-runs times in a row, keeping the fastest run of
// each benchmark: its table compares benchmarks that ran seconds apart, and on a shared machine one
// run alone can have a neighbour's load in one of them and not the other.
const verifierPackage = "./sdk/verify/"

// row is one benchmark result.
type row struct {
	pkg, name, store string
	ns, reqs         float64
	bytes, allocs    int64
	hasReqs          bool
	extra            []metric // custom metrics, in the order go test printed them
}

// metric is one custom metric of a result line (b.ReportMetric).
type metric struct {
	unit string
	v    float64
}

func main() {
	benchtime := flag.String("benchtime", "1s", "go test -benchtime")
	verbose := flag.Bool("v", false, "copy the raw go test output to stderr")
	verifyRuns := flag.Int("verify-runs", 3, "runs of the "+verifierPackage+" benchmarks (the fastest of each is shown)")
	flag.Parse()

	goCmd := os.Getenv("GO")
	if goCmd == "" {
		goCmd = "go"
	}
	out, runErr := goTest(goCmd, *benchtime, *verbose, packages...)
	rows, skips, cpu := parse(out)
	for i := 0; i < *verifyRuns && runErr == nil; i++ {
		var vout []byte
		vout, runErr = goTest(goCmd, *benchtime, *verbose, verifierPackage)
		out = append(out, vout...)
		vrows, _, _ := parse(vout)
		rows = fastest(rows, vrows)
	}
	if runErr != nil || len(rows) == 0 {
		os.Stderr.Write(out)
		fmt.Fprintf(os.Stderr, "benchtable: go test failed: %v\n", runErr)
		os.Exit(1)
	}
	printMachine(goCmd, cpu)
	var plain []row
	for _, r := range rows {
		if len(latencies(r)) == 0 {
			plain = append(plain, r)
		}
	}
	printTable(plain)
	printVerifier(rows, *verifyRuns)
	for _, r := range rows {
		printLatencies(r)
	}

	if !hasStore(rows, "postgres") {
		why := "TOOKEN_TEST_DATABASE_URL is unset"
		if len(skips) > 0 {
			why = strings.TrimPrefix(skips[0], "postgrestest: ")
		} else if os.Getenv("TOOKEN_TEST_DATABASE_URL") != "" {
			why = "no PostgreSQL benchmark ran"
		}
		fmt.Printf("\nPostgreSQL rows were skipped: %s.\n", why)
	}
}

// goTest runs the benchmarks of pkgs and returns go test's output.
func goTest(goCmd, benchtime string, verbose bool, pkgs ...string) ([]byte, error) {
	args := append([]string{"test", "-v", "-run", "^$", "-bench", ".", "-benchmem", "-count", "1",
		"-benchtime", benchtime, "-timeout", "10m"}, pkgs...)
	fmt.Fprintf(os.Stderr, "running %s %s\n", goCmd, strings.Join(args, " "))
	var out bytes.Buffer
	var w io.Writer = &out
	if verbose {
		w = io.MultiWriter(&out, os.Stderr)
	}
	cmd := exec.Command(goCmd, args...) // inherits the environment, TOOKEN_TEST_DATABASE_URL included
	cmd.Stdout, cmd.Stderr = w, w
	err := cmd.Run()
	return out.Bytes(), err
}

// fastest merges another run's rows into rows: a benchmark seen before keeps its faster result,
// a new one is appended.
func fastest(rows, run []row) []row {
	for _, r := range run {
		i := slices.IndexFunc(rows, func(o row) bool { return o.pkg == r.pkg && o.name == r.name && o.store == r.store })
		switch {
		case i < 0:
			rows = append(rows, r)
		case r.ns < rows[i].ns:
			rows[i] = r
		}
	}
	return rows
}

// parse reads go test -v -bench output: result lines, skip reasons and the cpu line. Under -v a
// skipped benchmark's message ("    file.go:NN: message") comes just before its "--- SKIP" line.
func parse(out []byte) (rows []row, skips []string, cpu string) {
	var pkg, msg string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "pkg: "):
			pkg = strings.TrimPrefix(line, "pkg: ")
		case strings.HasPrefix(line, "cpu: "):
			cpu = strings.TrimPrefix(line, "cpu: ")
		case strings.HasPrefix(line, "    "):
			_, msg, _ = strings.Cut(strings.TrimSpace(line), ": ")
		case strings.HasPrefix(line, "--- SKIP: "):
			if reason, _, _ := strings.Cut(msg, "; set "); reason != "" {
				skips = append(skips, reason)
			}
		case strings.HasPrefix(line, "Benchmark"):
			if r, ok := parseResult(pkg, line); ok {
				rows = append(rows, r)
			}
		}
		if !strings.HasPrefix(line, "    ") {
			msg = ""
		}
	}
	return rows, skips, cpu
}

// parseResult parses "BenchmarkName/sub-8  N  v unit  v unit ...".
func parseResult(pkg, line string) (row, bool) {
	f := strings.Fields(line)
	if len(f) < 4 || len(f)%2 != 0 {
		return row{}, false
	}
	if _, err := strconv.Atoi(f[1]); err != nil {
		return row{}, false
	}
	r := row{pkg: path.Base(pkg), store: "—"}
	name := strings.TrimPrefix(f[0], "Benchmark")
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			name = name[:i] // the GOMAXPROCS suffix
		}
	}
	var parts []string
	for _, p := range strings.Split(name, "/") {
		if p == "sqlite" || p == "postgres" {
			r.store = p
		} else {
			parts = append(parts, p)
		}
	}
	r.name = strings.Join(parts, "/")
	if r.pkg != "bench" {
		r.name = r.pkg + "." + r.name
	}
	for i := 2; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			continue
		}
		switch f[i+1] {
		case "ns/op":
			r.ns = v
		case "req/s":
			r.reqs, r.hasReqs = v, true
		case "B/op":
			r.bytes = int64(v)
		case "allocs/op":
			r.allocs = int64(v)
		default:
			r.extra = append(r.extra, metric{f[i+1], v})
		}
	}
	return r, r.ns > 0
}

func printMachine(goCmd, cpu string) {
	goVersion := "unknown"
	if v, err := exec.Command(goCmd, "version").Output(); err == nil {
		goVersion = strings.TrimSpace(string(v))
	}
	if m := cpuModel(); m != "" {
		cpu = m
	}
	fmt.Printf("## Tooken benchmarks\n\n")
	fmt.Printf("- date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Printf("- go: %s\n", goVersion)
	fmt.Printf("- os/arch: %s/%s\n", runtime.GOOS, runtime.GOARCH)
	fmt.Printf("- cpu: %s, %d cores\n\n", cmp.Or(cpu, "unknown"), runtime.NumCPU())
}

// cpuModel is the first "model name" of /proc/cpuinfo, or "" where there is none.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func printTable(rows []row) {
	fmt.Println("| benchmark | store | ns/op | req/s | B/op | allocs/op |")
	fmt.Println("|---|---|--:|--:|--:|--:|")
	derived := false
	for _, r := range rows {
		reqs := r.reqs
		mark := ""
		if !r.hasReqs {
			reqs, mark, derived = 1e9/r.ns, "*", true
		}
		fmt.Printf("| %s | %s | %s | %s%s | %s | %s |\n", r.name, r.store, group(int64(r.ns+0.5)),
			group(int64(reqs+0.5)), mark, group(r.bytes), group(r.allocs))
	}
	fmt.Println()
	fmt.Println("HTTP rows go through the real handler over loopback; serial = 1 client, parallel =",
		"8×GOMAXPROCS clients. B/op and allocs/op count client and server.")
	if derived {
		fmt.Println("\\* operations per second (1e9 / ns/op), not HTTP requests.")
	}
}

func hasStore(rows []row, store string) bool {
	for _, r := range rows {
		if r.store == store {
			return true
		}
	}
	return false
}

// group formats n with thousands separators.
func group(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 0 {
		return "-" + group(-n)
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
