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

func TestParseProcessTicksCountsFieldsAfterTheCommandName(t *testing.T) {
	// comm may hold spaces and parentheses; utime (14) = 1234 and stime (15) = 56
	stat := "4242 (tooken (x) y) S 1 4242 4242 0 -1 4194560 900 0 0 0 1234 56 0 0 20 0 12 0 100 2000000 5000 18446744073709551615"
	if got, err := ParseProcessTicks(stat); err != nil || got != 1290 {
		t.Errorf("ParseProcessTicks = %d, %v; want 1290", got, err)
	}
	for _, bad := range []string{"", "4242 tooken S 1", "4242 (tooken) S 1 2 3"} {
		if _, err := ParseProcessTicks(bad); err == nil {
			t.Errorf("ParseProcessTicks(%q) must fail", bad)
		}
	}
}

func TestBesideCostComparesCPUPerRequestWithoutChangingTheVerdict(t *testing.T) {
	c := Check{Name: "(2)", Detail: "2,000/s = 25 % of 8,000/s"}
	got := Step{Target: "tooken", Throughput: 2000, CPU: 1.8, ServerCPU: 1.0}
	ref := Step{Target: "pgbench", Throughput: 8000, CPU: 1.6}
	out := BesideCost(c, got, ref)
	want := "; CPU per request 0.90 ms (the server 0.50 ms) against 0.20 ms for pgbench: with every core busy, at most 22 %"
	if out.Pass || out.Detail != c.Detail+want {
		t.Errorf("BesideCost = %+v\nwant detail suffix %q", out, want)
	}
	if out := BesideCost(c, Step{Throughput: 2000}, ref); out.Detail != c.Detail {
		t.Errorf("a step of unknown CPU use must leave the detail alone: %q", out.Detail)
	}
	if d, ok := got.CPUPerRequest(); !ok || d != 900*time.Microsecond {
		t.Errorf("CPUPerRequest = %s, %v", d, ok)
	}
	md := Report{Steps: []Step{got, ref, {Target: "baseline", Throughput: 1, Requests: 1}}}.Markdown()
	for _, want := range []string{"| 1.80 / 1.00 |", "| 1.60 / — |", "| — |\n"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}
