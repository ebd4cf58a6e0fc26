package load

import (
	"strings"
	"testing"
	"time"
)

func TestParseProcStatSplitsBusyIdleAndSteal(t *testing.T) {
	stat := "cpu  100 5 50 1000 20 3 2 40 7 0\ncpu0 50 2 25 500 10 1 1 20 0 0\n"
	got, err := ParseProcStat(stat)
	// busy: user nice system irq softirq (guest is inside user); not idle, iowait or steal
	if want := (MachineTimes{Busy: 160, Steal: 40, Total: 1220}); err != nil || got != want {
		t.Errorf("ParseProcStat = %+v, %v; want %+v", got, err, want)
	}
	for _, bad := range []string{"", "intr 1 2 3\n", "cpu 1 2 3\n", "cpu 1 2 3 x 5 6 7 8\n"} {
		if _, err := ParseProcStat(bad); err == nil {
			t.Errorf("ParseProcStat(%q) must fail", bad)
		}
	}
}

func TestParseProcessStatCountsFieldsAfterTheCommandName(t *testing.T) {
	// comm may hold spaces and parentheses; utime (14) = 1234, stime (15) = 56, cutime (16) = 7, cstime (17) = 8
	stat := "4242 (tooken (x) y) S 1 4242 4242 0 -1 4194560 900 0 0 0 1234 56 7 8 20 0 12 0 100 2000000 5000 18446744073709551615"
	want := ProcessTimes{Name: "tooken (x) y", Ticks: 1290, Children: 15}
	if got, err := ParseProcessStat(stat); err != nil || got != want {
		t.Errorf("ParseProcessStat = %+v, %v; want %+v", got, err, want)
	}
	for _, bad := range []string{"", "4242 tooken S 1", "4242 (tooken) S 1 2 3", "4242 )tooken( S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15",
		"4242 (tooken) S 1 4242 4242 0 -1 4194560 900 0 0 0 1234 56 x 8 20"} {
		if _, err := ParseProcessStat(bad); err == nil {
			t.Errorf("ParseProcessStat(%q) must fail", bad)
		}
	}
}

func TestBesideCostComparesCPUPerRequestWithoutChangingTheVerdict(t *testing.T) {
	c := Check{Name: "(2)", Detail: "2,000/s = 25 % of 8,000/s"}
	got := Step{Target: "tooken", Throughput: 2000, CPU: 1.8, ServerCPU: 1.0, DatabaseCPU: 0.4}
	ref := Step{Target: "pgbench", Throughput: 8000, CPU: 1.6}
	out := BesideCost(c, got, ref)
	want := "; CPU per request 0.90 ms (the server 0.50 ms, PostgreSQL 0.20 ms) against 0.20 ms for pgbench: with every core busy, at most 22 %"
	if out.Pass || out.Detail != c.Detail+want {
		t.Errorf("BesideCost = %+v\nwant detail suffix %q", out, want)
	}
	if out := BesideCost(c, Step{Throughput: 2000}, ref); out.Detail != c.Detail {
		t.Errorf("a step of unknown CPU use must leave the detail alone: %q", out.Detail)
	}
	if d, ok := got.CPUPerRequest(); !ok || d != 900*time.Microsecond {
		t.Errorf("CPUPerRequest = %s, %v", d, ok)
	}
	got.HarnessCPU = 0.3
	md := Report{Steps: []Step{got, ref, {Target: "baseline", Throughput: 1, Requests: 1}}}.Markdown()
	for _, want := range []string{"| 1.80 / 1.00 / 0.30 / 0.40 |", "| 1.60 / — / — / — |", "| — |\n"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}
