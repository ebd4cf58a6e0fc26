package load

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestThroughputAtLeastComparesWithTheReferenceOfTheSameRun(t *testing.T) {
	if c := ThroughputAtLeast("x", 5_000, 10_000, 0.5); !c.Pass || !strings.Contains(c.Detail, "50 %") {
		t.Errorf("exactly half must pass: %v", c)
	}
	if c := ThroughputAtLeast("x", 4_999, 10_000, 0.5); c.Pass {
		t.Errorf("under half must fail: %v", c)
	}
	if c := ThroughputAtLeast("x", 100, 0, 0.5); c.Pass {
		t.Errorf("a missing reference must fail, not divide by zero: %v", c)
	}
	if got := ThroughputAtLeast("GET", 1, 2, 0.5).String(); !strings.HasPrefix(got, "PASS GET: ") {
		t.Errorf("String() = %q", got)
	}
}

func TestRelativeStatesAShareWithoutAVerdict(t *testing.T) {
	c := Relative("create beside pgbench", 4_371, 2_274)
	if got := c.Info(); got != "create beside pgbench: 4,371/s = 192 % of 2,274/s" {
		t.Errorf("Info() = %q", got)
	}
	if got := Relative("x", 1, 0).Info(); got != "x: 1/s = 0 % of 0/s" {
		t.Errorf("a missing reference: Info() = %q", got)
	}
}

func TestP99UnderNeedsTheRateServedWithoutErrors(t *testing.T) {
	ok := Step{Rate: 1000, Throughput: 990, P99: 9 * time.Millisecond}
	if c := P99Under("x", ok, 10*time.Millisecond); !c.Pass {
		t.Errorf("p99 9 ms at the rate: %v", c)
	}
	busy := ok
	busy.CPU = 1.62
	if c := P99Under("x", busy, 10*time.Millisecond); !c.Pass || !strings.HasPrefix(c.Detail, "p99 9.00 ms at 1,000 req/s with 1.62 cores busy (") {
		t.Errorf("a step with its CPU measured names the cores it kept busy: %v", c)
	}
	slow := ok
	slow.P99 = 10 * time.Millisecond
	behind := ok
	behind.Throughput = 900
	failing := ok
	failing.Errors, failing.ErrorKinds = 1, map[string]int{"transport": 1}
	maxStep := ok
	maxStep.Rate = 0
	for name, s := range map[string]Step{"p99 at the limit": slow, "fell behind": behind, "errors": failing, "a max step": maxStep} {
		if c := P99Under("x", s, 10*time.Millisecond); c.Pass {
			t.Errorf("%s must fail: %v", name, c)
		}
	}
}

func TestLinearFitRecoversALine(t *testing.T) {
	var s []Sample
	for i := range 10 {
		s = append(s, Sample{At: time.Duration(i) * time.Second, Bytes: 100 + 3*float64(i)})
	}
	f, err := LinearFit(s)
	if err != nil || math.Abs(f.Slope-3) > 1e-9 || math.Abs(f.Intercept-100) > 1e-9 || f.N != 10 {
		t.Fatalf("fit = %+v, %v; want slope 3, intercept 100", f, err)
	}
	if _, err := LinearFit(s[:1]); err == nil {
		t.Error("one sample cannot be fitted")
	}
}

func TestSoakGrowthSkipsTheWarmupAndJudgesTheTrend(t *testing.T) {
	var flat, leak []Sample
	for i := range 100 {
		at := time.Duration(i) * time.Second
		warm := 0.0
		if i < 20 {
			warm = float64(i) * 1e6 // grows while warming up, then stays
		}
		flat = append(flat, Sample{At: at, Bytes: 50e6 + min(warm, 19e6) + float64(i%2)*1e6})
		leak = append(leak, Sample{At: at, Bytes: 50e6 + float64(i)*0.2e6})
	}
	g, err := SoakGrowth("heap", flat, 0.2)
	if err != nil {
		t.Fatal(err)
	}
	if c := g.Flat(0.10, 4e6); !c.Pass {
		t.Errorf("a heap that settled after its warm-up must pass: %v", c)
	}
	g, err = SoakGrowth("heap", leak, 0.2)
	if err != nil {
		t.Fatal(err)
	}
	if c := g.Flat(0.10, 4e6); c.Pass || math.Abs(g.End-g.Start-15.8e6) > 1e5 {
		t.Errorf("15.8 MB of steady growth over the window must fail: %v (start %f end %f)", c, g.Start, g.End)
	}
}

func TestParsersReadWhatPgbenchAndProcPrint(t *testing.T) {
	pg := `transaction type: insert.sql
number of clients: 16
latency average = 7.927 ms
initial connection time = 41.226 ms
tps = 2018.417215 (without initial connection time)
`
	if tps, err := ParsePgbenchTPS(pg); err != nil || tps != 2018.417215 {
		t.Errorf("tps = %v, %v", tps, err)
	}
	if _, err := ParsePgbenchTPS("pgbench: error: connection refused"); err == nil {
		t.Error("output without a tps line must be an error")
	}
	status := "Name:\ttooken\nVmPeak:\t 1300000 kB\nVmRSS:\t   43652 kB\nRssAnon:\t 30000 kB\n"
	if rss, err := ParseVmRSS(status); err != nil || rss != 43652*1024 {
		t.Errorf("rss = %d, %v", rss, err)
	}
	if _, err := ParseVmRSS("Name:\tzombie\n"); err == nil {
		t.Error("a status without VmRSS must be an error")
	}
	if got := CPUModel("processor\t: 0\nmodel name\t: AMD EPYC 7B13\n"); got != "AMD EPYC 7B13" {
		t.Errorf("CPUModel = %q", got)
	}
}

func TestMarkdownHasOneRowPerStepAndEveryCheck(t *testing.T) {
	r := Report{Machine: Machine{Date: time.Date(2026, 11, 28, 4, 0, 0, 0, time.UTC), Commit: "abc123", CPU: "EPYC",
		Cores: 2, RAM: "24 GiB", Go: "go1.26", PostgreSQL: "PostgreSQL 15"}, Clients: 16, StepDuration: 10 * time.Second,
		PgbenchTPS: 2000,
		Steps: []Step{{Scenario: "POST /v1/tokens", Target: "tooken", Clients: 16, Duration: 10 * time.Second, Requests: 300,
			Throughput: 30, Steal: -1, Creates: CreateBatches{Batches: 1200, Creates: 3000, Busy: 9500 * time.Millisecond}},
			{Scenario: "GET /v1/tokens/{id}", Target: "tooken", Clients: 16, Requests: 12345, Throughput: 1234.4,
				P99: 3 * time.Millisecond, Errors: 2, ErrorKinds: map[string]int{"503": 1, "transport": 1}, MaxRSS: 60e6, Steal: 0.25},
			{Scenario: "GET /v1/tokens/{id}", Target: "tooken", Rate: 600, Throughput: 600, Steal: -1},
			{Scenario: "mixed 90/9/1", Target: "tooken", Rate: 100, Requests: 1000, Throughput: 100, Steal: -1,
				Operations: []Operation{{Method: "GET", Requests: 900, P50: time.Millisecond, P99: 2 * time.Millisecond, Max: 3 * time.Millisecond},
					{Method: "POST", Requests: 90, P50: 4 * time.Millisecond, P99: 9 * time.Millisecond, Max: 12 * time.Millisecond}}}},
		Checks:     []Check{{Name: "a", Pass: true, Detail: "d"}, {Name: "b", Detail: "e"}},
		References: []Check{Relative("c", 3, 2)}}
	md := r.Markdown()
	for _, want := range []string{"For reference (not targets):\n\n- c: 3/s = 150 % of 2/s\n",
		"- POST /v1/tokens, max (16 clients): 1,200 batches of 2.5 creates on average; the write path of creates busy 95 % of the step\n",
		"- mixed 90/9/1, 100 req/s: GET 900: p50 1.00 ms, p99 2.00 ms, max 3.00 ms; POST 90: p50 4.00 ms, p99 9.00 ms, max 12.00 ms\n", "abc123", "EPYC, 2 cores", "2,000 TPS", "| max (16 clients) | 12,345 | 1,234/s |",
		"2 (503×1, transport×1)", "60.0 MB | 25 % |", "| 600 req/s |", "| — | — |\n", "- PASS a: d", "- FAIL b: e"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}

func TestBesideNotesTheBaselineWithoutChangingTheVerdict(t *testing.T) {
	c := Check{Name: "x", Pass: false, Detail: "p99 20.00 ms"}
	got := Beside(c, Step{Rate: 100, Requests: 10, P99: 30 * time.Millisecond})
	if got.Pass || got.Detail != "p99 20.00 ms; the baseline at 100 req/s: p99 30.00 ms" {
		t.Errorf("Beside = %+v", got)
	}
	got = Beside(c, Step{Rate: 100, Requests: 10, P99: 30 * time.Millisecond, CPU: 1.5})
	if got.Detail != "p99 20.00 ms; the baseline at 100 req/s with 1.50 cores busy: p99 30.00 ms" {
		t.Errorf("Beside with the baseline's CPU measured: %q", got.Detail)
	}
	if got := Beside(c, Step{}); got.Detail != c.Detail {
		t.Errorf("Beside with no baseline step changed the detail: %q", got.Detail)
	}
}

func TestSteadyWithholdsAPassWhenAStepItComparesLostCPUToSteal(t *testing.T) {
	pass := Check{Name: "x", Pass: true, Detail: "56 %"}
	got, ref := Step{Target: "tooken", Steal: 0.01}, Step{Target: "pgbench", Steal: 0.05}
	if c := Steady(pass, got, ref); !c.Pass || c.Detail != pass.Detail {
		t.Errorf("steal within the bound: %+v", c)
	}
	ref.Steal = 0.12
	if c := Steady(pass, got, ref); c.Pass || c.Detail != "56 %; not judged: CPU steal 12 % in the pgbench max step (at most 5 %)" {
		t.Errorf("steal in the reference: %+v", c)
	}
	got.Steal, got.Rate = 0.08, 1000
	if c := Steady(pass, got, ref); c.Pass || !strings.Contains(c.Detail, "8 % in the tooken 1,000 req/s step and 12 % in the pgbench max step") {
		t.Errorf("steal in both: %+v", c)
	}
	if c := Steady(pass, Step{Steal: -1}, Step{Steal: -1}); !c.Pass {
		t.Errorf("unknown steal withheld the verdict: %+v", c)
	}
}
