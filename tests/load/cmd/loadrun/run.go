package main

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/tooken/tooken/tests/load"
)

// scenario is one of the four workloads of issue 7, with the rate its steps are fractions of.
type scenario struct {
	key      string // what -only selects it by
	name     string
	targeter func() vegeta.Targeter
	ref      float64 // the reference throughput: the baseline's max, or pgbench's TPS
	onResult func(*vegeta.Result)
}

// fixedSteps are the fixed-rate steps, as fractions of the scenario's reference throughput; the 0.5
// step is the one whose p99 is judged.
var fixedSteps = []float64{0.25, 0.5}

// run is the whole harness; it reports whether every check passed.
func run(cfg config, c *cleanups) (bool, error) {
	dir, err := os.MkdirTemp("", "tooken-load-")
	if err != nil {
		return false, err
	}
	c.add(func() { os.RemoveAll(dir) })
	profiles, err := profileDir(cfg.profiles)
	if err == nil {
		err = os.MkdirAll(profiles, 0o755)
	}
	if err != nil {
		return false, err
	}
	logf("building tooken")
	bin, err := buildTooken(cfg.goCmd, dir)
	if err != nil {
		return false, err
	}
	db, err := createDatabase(context.Background(), cfg.databaseURL)
	if err != nil {
		return false, err
	}
	c.add(db.drop)
	addr, err := freeAddr()
	if err != nil {
		return false, err
	}
	pprofAddr, err := freeAddr()
	if err != nil {
		return false, err
	}
	env := []string{"TOOKEN_DATABASE_URL=" + db.url, "TOOKEN_MASTER_KEY=" + masterKey(), "TOOKEN_ADDR=" + addr,
		"TOOKEN_RATE_LIMIT=1000000000", "TOOKEN_IP_RATE_LIMIT=1000000000", "TOOKEN_PPROF_ADDR=" + pprofAddr}
	boot, err := bootstrap(bin, env)
	if err != nil {
		return false, err
	}
	srv, err := start("tooken serve", filepath.Join(profiles, "server.log"), env, bin, "serve")
	if err != nil {
		return false, err
	}
	c.add(srv.stop)
	base := "http://" + addr
	if err := waitHTTP(srv, base+"/readyz", 60*time.Second); err != nil {
		return false, err
	}
	logf("tooken serve at %s (pprof at %s, log in %s)", base, pprofAddr, filepath.Join(profiles, "server.log"))
	w := &workload{base: base, apiKey: boot.APIKey, run: strconv.FormatInt(time.Now().Unix(), 36)}
	if err := w.seed(cfg.poolSize); err != nil {
		return false, err
	}
	bl, blBase, err := startBaseline(dir, w)
	if err != nil {
		return false, err
	}
	c.add(bl.stop)
	rss := sampleRSS(srv.pid(), 250*time.Millisecond)
	c.add(rss.stop)

	r := &runner{cfg: cfg, rss: rss, pprofAddr: pprofAddr, bin: bin, profiles: profiles,
		pids: map[string]int{"tooken": srv.pid(), "tooken (soak)": srv.pid(), "baseline": bl.pid()}}
	report := load.Report{Machine: machine(cfg.goCmd, db), Clients: cfg.clients, StepDuration: cfg.duration}
	report.Notes = append(report.Notes, "load average (1, 5, 15 min) before the run: "+loadavg()+
		"; the harness, the server, the baseline and PostgreSQL share the machine's cores")
	if cfg.note != "" {
		report.Notes = append(report.Notes, cfg.note)
	}
	began := time.Now()

	bw := &workload{base: blBase, apiKey: boot.APIKey, pool: w.pool}
	baseGet, baseGetHalf := r.baselineSteps(scenario{name: "GET /v1/tokens/{id}", targeter: bw.getTargeter})
	baseVerify, baseVerifyHalf := r.baselineSteps(scenario{name: "POST /v1/tokens/verify", targeter: bw.verifyTargeter})
	pgbench, err := r.pgbenchStep(db, dir, insertCommit, "INSERT + COMMIT")
	if err != nil {
		return false, err
	}
	report.PgbenchTPS = pgbench.Throughput
	writes, err := r.pgbenchStep(db, dir, createWritesOneWorkspace, "a create's writes per transaction, one workspace")
	if err != nil {
		return false, err
	}
	ownWrites, err := r.pgbenchStep(db, dir, createWritesOwnWorkspaces, "a create's writes per transaction, a workspace per client")
	if err != nil {
		return false, err
	}

	scenarios := []scenario{
		{key: "get", name: "GET /v1/tokens/{id}", targeter: w.getTargeter, ref: baseGet.Throughput},
		{key: "create", name: "POST /v1/tokens", targeter: w.createTargeter, ref: report.PgbenchTPS},
		{key: "verify", name: "POST /v1/tokens/verify", targeter: w.verifyTargeter, ref: baseVerify.Throughput},
		{key: "mixed", name: "mixed 90/9/1", targeter: w.mixedTargeter, ref: baseGet.Throughput, onResult: w.noteCreated},
	}
	half := map[string]load.Step{}
	maxOf := map[string]load.Step{}
	for _, sc := range scenarios {
		if cfg.only != "" && !strings.Contains(cfg.only, sc.key) {
			continue
		}
		r.warmUp(sc)
		maxOf[sc.name] = r.maxStep(sc, "tooken", true)
		for _, f := range fixedSteps {
			s := r.step(sc, "tooken", f*sc.ref, cfg.duration, true)
			if f == 0.5 {
				half[sc.name] = s
			}
		}
		took, err := db.analyze()
		if err != nil {
			return false, fmt.Errorf("ANALYZE after %s: %w", sc.name, err)
		}
		logf("ANALYZE after %s: %s", sc.name, took.Round(time.Millisecond))
	}
	checks := []load.Check{
		ratio(load.ThroughputAtLeast("(1) GET /v1/tokens/{id} max throughput ≥ 50 % of the baseline's",
			maxOf["GET /v1/tokens/{id}"].Throughput, baseGet.Throughput, 0.5), maxOf["GET /v1/tokens/{id}"], baseGet),
		load.Steady(load.Beside(load.P99Under("(1) GET /v1/tokens/{id} p99 < 10 ms at half the baseline's max", half["GET /v1/tokens/{id}"], load.P99Target), baseGetHalf), baseGet),
		ratio(load.ThroughputAtLeast("(2) POST /v1/tokens max throughput ≥ 50 % of pgbench's TPS",
			maxOf["POST /v1/tokens"].Throughput, report.PgbenchTPS, 0.5), maxOf["POST /v1/tokens"], pgbench),
		ratio(load.ThroughputAtLeast("(3) POST /v1/tokens/verify max throughput ≥ 50 % of the baseline's",
			maxOf["POST /v1/tokens/verify"].Throughput, baseVerify.Throughput, 0.5), maxOf["POST /v1/tokens/verify"], baseVerify),
		load.Steady(load.Beside(load.P99Under("(3) POST /v1/tokens/verify p99 < 10 ms at half the baseline's max", half["POST /v1/tokens/verify"], load.P99Target), baseVerifyHalf), baseVerify),
	}
	if created, ok := maxOf["POST /v1/tokens"]; ok {
		report.References = append(report.References,
			load.BesideCost(load.Relative("(2) POST /v1/tokens max throughput beside pgbench writing what a create writes, one per transaction, one workspace",
				created.Throughput, writes.Throughput), created, writes),
			load.BesideCost(load.Relative("(2) POST /v1/tokens max throughput beside pgbench writing what a create writes, one per transaction, a workspace per client",
				created.Throughput, ownWrites.Throughput), created, ownWrites))
	}
	if cfg.soak > 0 {
		report.SoakRate = orDefault(cfg.soakRate, max(50, maxOf["mixed 90/9/1"].Throughput/4))
		report.SoakDuration = cfg.soak
		growth, soakChecks := r.soak(scenarios[3], report.SoakRate, cfg.soak, cfg.heapTolerate)
		report.Soak, checks = growth, append(checks, soakChecks...)
	}
	checks = append(checks, load.RSSUnder("server RSS < 150 MB during the runs", rss.max(began, time.Now()), cfg.rssLimit))
	report.Steps, report.Checks = r.steps, checks
	report.Notes = append(report.Notes, "load average after the run: "+loadavg())

	md := report.Markdown()
	fmt.Println()
	fmt.Print(md)
	if err := appendReport(cfg.out, md); err != nil {
		return false, err
	}
	passed := true
	for _, ch := range checks {
		fmt.Println(ch)
		passed = passed && ch.Pass
	}
	for _, ref := range report.References {
		fmt.Println(ref.Info())
	}
	fmt.Printf("\nCPU profiles of the max steps (and their top functions): %s\n", profiles)
	return passed, nil
}

// ratio completes a throughput target: what a request cost the machine on each side, and no verdict
// when steal distorted either step.
func ratio(c load.Check, got, ref load.Step) load.Check {
	return load.Steady(load.BesideCost(c, got, ref), got, ref)
}

// orDefault returns v when it is set, else def.
func orDefault(v, def float64) float64 {
	if v > 0 {
		return v
	}
	return def
}

// startBaseline captures the server's answers to the two requests the baseline imitates and starts the
// baseline process with them.
func startBaseline(dir string, w *workload) (*child, string, error) {
	c := w.pool[0]
	getBody, err := do(http.MethodGet, w.base+"/v1/tokens/"+c.id, c.value, nil, http.StatusOK)
	if err != nil {
		return nil, "", err
	}
	verifyBody, err := do(http.MethodPost, w.base+"/v1/tokens/verify", "", []byte(`{"token":"`+c.value+`"}`), http.StatusOK)
	if err != nil {
		return nil, "", err
	}
	if err := os.WriteFile(filepath.Join(dir, getBodyFile), getBody, 0o600); err != nil {
		return nil, "", err
	}
	if err := os.WriteFile(filepath.Join(dir, verifyBodyFile), verifyBody, 0o600); err != nil {
		return nil, "", err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, "", err
	}
	bl, err := start("baseline", filepath.Join(dir, "baseline.log"), nil, self, "-baseline", addr, "-workdir", dir)
	if err != nil {
		return nil, "", err
	}
	if err := waitHTTP(bl, "http://"+addr+"/readyz", 30*time.Second); err != nil {
		bl.stop()
		return nil, "", err
	}
	return bl, "http://" + addr, nil
}

// pgbenchStep runs pgbench's workload w as a step of the report, measuring the machine's CPU meanwhile.
func (r *runner) pgbenchStep(db *database, dir string, w pgbenchRun, scenario string) (load.Step, error) {
	logf("pgbench %s: %d clients for %s", w.name, r.cfg.clients, r.cfg.duration)
	cpu := startCPU(0)
	tps, err := runPgbench(db, dir, w, r.cfg.clients, r.cfg.duration)
	if err != nil {
		return load.Step{}, err
	}
	s := load.Step{Scenario: scenario, Target: "pgbench", Clients: r.cfg.clients, Duration: r.cfg.duration, Throughput: tps}
	cpu.stop(&s)
	logf("pgbench %s: %.0f TPS, %.2f cores busy (PostgreSQL %.2f)", w.name, tps, s.CPU, s.DatabaseCPU)
	r.steps = append(r.steps, s)
	return s, nil
}

// runner runs steps and keeps them.
type runner struct {
	cfg       config
	rss       *rssSampler
	pprofAddr string
	bin       string
	profiles  string
	steps     []load.Step
	pids      map[string]int // target → the process serving it
}

func (r *runner) spec(sc scenario, target string, rate float64, d time.Duration) stepSpec {
	return stepSpec{scenario: sc.name, target: target, rate: rate, clients: r.cfg.clients, duration: d,
		targeter: sc.targeter(), onResult: sc.onResult, pid: r.pids[target]}
}

// warmUp runs one unrecorded second at full speed (connections, caches, the JIT of nothing).
func (r *runner) warmUp(sc scenario) { runStep(r.spec(sc, "tooken", 0, time.Second)) }

// step runs and records one step; server steps note the server's largest RSS, and how it wrote the
// step's creates.
func (r *runner) step(sc scenario, target string, rate float64, d time.Duration, server bool) load.Step {
	var before load.CreateBatches
	var berr error
	if server {
		before, berr = createBatches(r.pprofAddr)
	}
	s, from, to := runStep(r.spec(sc, target, rate, d))
	if server {
		s.MaxRSS = r.rss.max(from, to)
		after, err := createBatches(r.pprofAddr)
		if err = cmp.Or(berr, err); err != nil {
			logf("batches of creates: %v", err)
		} else {
			s.Creates = load.CreateBatches{Batches: after.Batches - before.Batches, Creates: after.Creates - before.Creates,
				Busy: after.Busy - before.Busy}
		}
	}
	r.steps = append(r.steps, s)
	logf("%-24s %-8s %-18s %8.0f req/s  p50 %6.2f ms  p99 %7.2f ms  max %7.2f ms  errors %s  steal %.0f %%  cores %.2f (server %.2f, load generator %.2f, PostgreSQL %.2f)",
		s.Scenario, s.Target, s.StepLabel(), s.Throughput, ms(s.P50), ms(s.P99), ms(s.Max), s.ErrorText(), s.Steal*100,
		s.CPU, s.ServerCPU, s.HarnessCPU, s.DatabaseCPU)
	if len(s.Operations) > 0 {
		logf("  by operation: %s", s.OperationsText())
	}
	if t := s.CreatesText(); t != "" {
		logf("  creates: %s", t)
	}
	if t := s.Slow.Text(); t != "" {
		logf("  slow: %s", t)
	}
	return s
}

// baselineSteps runs the baseline's max step, and then the baseline at half that rate: the p99 of
// that step is what the machine and the harness alone add at the rate the server's p99 is judged.
func (r *runner) baselineSteps(sc scenario) (top, half load.Step) {
	top = r.maxStep(sc, "baseline", false)
	return top, r.step(sc, "baseline", 0.5*top.Throughput, r.cfg.duration, false)
}

// maxStep runs a max-throughput step; against the server it records a CPU profile meanwhile and
// prints its top functions.
func (r *runner) maxStep(sc scenario, target string, server bool) load.Step {
	if !server {
		runStep(r.spec(sc, target, 0, time.Second))
		return r.step(sc, target, 0, r.cfg.duration, false)
	}
	name := strings.NewReplacer(" ", "_", "/", "_", "{", "", "}", "").Replace(strings.TrimSpace(sc.name))
	path := filepath.Join(r.profiles, "cpu-"+name+".pprof")
	var wg sync.WaitGroup
	var perr error
	wg.Go(func() { perr = cpuProfile(r.pprofAddr, r.cfg.duration-r.cfg.duration/10, path) })
	s := r.step(sc, target, 0, r.cfg.duration, true)
	wg.Wait()
	if perr != nil {
		logf("CPU profile of %s: %v", sc.name, perr)
		return s
	}
	out, err := exec.Command(r.cfg.goCmd, "tool", "pprof", "-top", "-nodecount=25", r.bin, path).CombinedOutput()
	if err == nil {
		_ = os.WriteFile(strings.TrimSuffix(path, ".pprof")+".top.txt", out, 0o644)
	}
	return s
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", args...)
}
