// Package load holds the pure parts of the load harness (`make load`, tests/load/cmd/loadrun): the
// measured steps, the ratio checks printed as PASS/FAIL, the soak's linear fit, the parsers of
// pgbench's and /proc's output, and the Markdown appended to BENCHMARKS.md. Nothing here starts a
// process or sends a request, so its unit tests run with `make test`.
package load

import (
	"bufio"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Step is one measured load step against one target.
type Step struct {
	Scenario string        // e.g. "GET /v1/tokens/{id}"
	Target   string        // "tooken", "baseline" or "pgbench"
	Rate     float64       // requested requests per second; 0 = as fast as Clients allow
	Clients  int           // concurrent clients (max step) or initial workers (rate step)
	Duration time.Duration // how long requests were sent

	Requests   uint64
	Throughput float64 // successful responses per second
	P50, P90   time.Duration
	P99, Max   time.Duration
	Errors     uint64         // answers other than 2xx, and transport errors
	ErrorKinds map[string]int // status code ("429") or "transport" → count
	MaxRSS     int64          // the server's largest sampled RSS during the step, in bytes; 0 = not sampled
	// Steal is the share of the machine's CPU time the hypervisor gave to other guests during the
	// step (from /proc/stat; negative when unknown): on a shared VM it explains latency no process
	// here caused.
	Steal float64
	// CPU is the machine's CPU use during the step in cores (busy time, steal not counted, over the
	// step's wall time), and ServerCPU the part of it the serving process used (the server, or the
	// baseline), HarnessCPU the load generator's, DatabaseCPU PostgreSQL's processes'; zero when
	// unknown.
	CPU, ServerCPU, HarnessCPU, DatabaseCPU float64
	// Operations are the latencies of each kind of request of a step that mixes them, in order of
	// their count; empty for a step of one kind.
	Operations []Operation
	// Creates is how the server wrote the step's token creates (zero when it wrote none, or for
	// targets other than the server).
	Creates CreateBatches
	// Slow is how the requests over P99Target were spread over a fixed-rate step (zero for a max step).
	Slow Slow
}

// CreateBatches is what the server tells of its batches of token creates over a step: it writes
// them one batch at a time, so Busy over the step's duration is how occupied that write path was.
type CreateBatches struct {
	Batches, Creates uint64
	Busy             time.Duration
}

// Operation is the latency of one kind of request (its method) within a mixed step.
type Operation struct {
	Method   string
	Requests uint64
	P50, P99 time.Duration
	Max      time.Duration
}

// OperationsText renders a mixed step's operations: "GET 9,000: p50 0.40 ms, p99 3.00 ms, max …; …".
func (s Step) OperationsText() string {
	parts := make([]string, len(s.Operations))
	for i, o := range s.Operations {
		parts[i] = fmt.Sprintf("%s %s: p50 %s, p99 %s, max %s", o.Method, group(int64(o.Requests)), ms(o.P50), ms(o.P99), ms(o.Max))
	}
	return strings.Join(parts, "; ")
}

// CreatesText renders how the step's creates were written: "3,000 batches of 6.9 creates on average;
// the write path of creates busy 95 % of the step".
func (s Step) CreatesText() string {
	c := s.Creates
	if c.Batches == 0 || s.Duration <= 0 {
		return ""
	}
	return fmt.Sprintf("%s batches of %.1f creates on average; the write path of creates busy %.0f %% of the step",
		group(int64(c.Batches)), float64(c.Creates)/float64(c.Batches), 100*c.Busy.Seconds()/s.Duration.Seconds())
}

// IsMax reports whether the step ran as fast as its clients allowed.
func (s Step) IsMax() bool { return s.Rate == 0 }

// StepLabel names the step's load: "max (16 clients)" or "1,200 req/s".
func (s Step) StepLabel() string {
	if s.IsMax() {
		return fmt.Sprintf("max (%d clients)", s.Clients)
	}
	return group(int64(s.Rate+0.5)) + " req/s"
}

// ErrorText renders the error count with its kinds, e.g. "3 (429×2, transport×1)".
func (s Step) ErrorText() string {
	if s.Errors == 0 {
		return "0"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(s.ErrorKinds)) {
		parts = append(parts, fmt.Sprintf("%s×%d", k, s.ErrorKinds[k]))
	}
	return fmt.Sprintf("%d (%s)", s.Errors, strings.Join(parts, ", "))
}

// Check is one target of the issue, judged on numbers measured in the same run.
type Check struct {
	Name   string
	Pass   bool
	Detail string
}

// String renders the check as the harness prints it: "PASS name: detail".
func (c Check) String() string {
	verdict := "FAIL"
	if c.Pass {
		verdict = "PASS"
	}
	return fmt.Sprintf("%s %s: %s", verdict, c.Name, c.Detail)
}

// ThroughputAtLeast checks got ≥ fraction × ref (two throughputs in requests or transactions per second).
func ThroughputAtLeast(name string, got, ref, fraction float64) Check {
	c := Relative(name, got, ref)
	c.Pass = ref > 0 && got >= fraction*ref
	c.Detail += fmt.Sprintf(" (target ≥ %.0f %%)", fraction*100)
	return c
}

// Relative states got as a share of ref (two throughputs per second). On its own it is a comparison,
// not a target: its verdict is not set, and it is rendered with Info.
func Relative(name string, got, ref float64) Check {
	ratio := 0.0
	if ref > 0 {
		ratio = got / ref
	}
	return Check{Name: name,
		Detail: fmt.Sprintf("%s/s = %.0f %% of %s/s", group(int64(got+0.5)), ratio*100, group(int64(ref+0.5)))}
}

// Info renders a comparison that is not a target: "name: detail", without a verdict.
func (c Check) Info() string { return c.Name + ": " + c.Detail }

// MaxSteal is the most CPU steal a step a check compares with, or takes its rate from, may have:
// beyond it the hypervisor, not the software, sets the comparison (BENCHMARKS.md, the run of
// 2026-11-29 17:43: pgbench at 12 % steal, 21–35 % below its other runs on that host).
const MaxSteal = 0.05

// Steady withholds c's PASS when one of steps lost more than MaxSteal of the machine's CPU to steal,
// and says which: a throughput ratio with a side slowed by other guests, or a p99 judged at half a
// steal-slowed baseline's rate (a lighter load than meant), shows nothing about the software. A rerun
// judges it.
func Steady(c Check, steps ...Step) Check {
	var stolen []string
	for _, s := range steps {
		if s.Steal > MaxSteal {
			kind := "max"
			if !s.IsMax() {
				kind = s.StepLabel()
			}
			stolen = append(stolen, fmt.Sprintf("%.0f %% in the %s %s step", s.Steal*100, s.Target, kind))
		}
	}
	if len(stolen) > 0 {
		c.Pass = false
		c.Detail += fmt.Sprintf("; not judged: CPU steal %s (at most %.0f %%)", strings.Join(stolen, " and "), MaxSteal*100)
	}
	return c
}

// P99Under checks a fixed-rate step: p99 below limit, at least 95 % of the requested rate actually
// served (a server that fell behind would report the latency of a lower rate) and no errors.
func P99Under(name string, s Step, limit time.Duration) Check {
	served := 0.0
	if s.Rate > 0 {
		served = s.Throughput / s.Rate
	}
	c := Check{Name: name, Pass: !s.IsMax() && s.P99 < limit && served >= 0.95 && s.Errors == 0,
		Detail: fmt.Sprintf("p99 %s at %s%s (served %.0f %%, %s errors; target p99 < %s)", ms(s.P99),
			s.StepLabel(), s.busy(), served*100, s.ErrorText(), ms(limit))}
	if t := s.Slow.Text(); t != "" {
		c.Detail += "; " + t
	}
	return c
}

// busy renders how many of the machine's cores the step kept busy (" with 1.62 cores busy"), empty
// when unmeasured: near the machine's core count, a fixed-rate step is a saturated one, whatever its rate.
func (s Step) busy() string {
	if s.CPU <= 0 {
		return ""
	}
	return fmt.Sprintf(" with %.2f cores busy", s.CPU)
}

// Beside notes, in c's detail, the p99 of ref (the baseline run at the same rate) and the cores it
// kept busy: what the machine and the harness alone add at that rate. It does not change the verdict.
func Beside(c Check, ref Step) Check {
	if ref.Requests > 0 {
		c.Detail += fmt.Sprintf("; the baseline at %s%s: p99 %s", ref.StepLabel(), ref.busy(), ms(ref.P99))
		if t := ref.Slow.Text(); t != "" {
			c.Detail += " (" + t + ")"
		}
	}
	return c
}

// RSSUnder checks that the largest sampled RSS stayed below limit bytes.
func RSSUnder(name string, maxRSS, limit int64) Check {
	return Check{Name: name, Pass: maxRSS > 0 && maxRSS < limit,
		Detail: fmt.Sprintf("max RSS %s (target < %s)", mb(maxRSS), mb(limit))}
}

// Sample is one reading of a quantity (bytes) at an offset from the start of a run.
type Sample struct {
	At    time.Duration
	Bytes float64
}

// Fit is a least-squares line through samples: Bytes ≈ Intercept + Slope × seconds.
type Fit struct {
	Slope     float64 // bytes per second
	Intercept float64
	N         int
}

// LinearFit fits a line through samples by least squares; it needs two distinct instants.
func LinearFit(samples []Sample) (Fit, error) {
	n := float64(len(samples))
	var sx, sy, sxx, sxy float64
	for _, s := range samples {
		x := s.At.Seconds()
		sx, sy, sxx, sxy = sx+x, sy+s.Bytes, sxx+x*x, sxy+x*s.Bytes
	}
	den := n*sxx - sx*sx
	if len(samples) < 2 || den == 0 {
		return Fit{}, errors.New("a linear fit needs samples at two instants at least")
	}
	slope := (n*sxy - sx*sy) / den
	return Fit{Slope: slope, Intercept: (sy - slope*sx) / n, N: len(samples)}, nil
}

// Growth is what a soak measured of one quantity.
type Growth struct {
	What       string
	Start, End float64 // the fitted values at the start and the end of the judged window, bytes
	Fit        Fit
	Window     time.Duration // the judged window (the soak after its warm-up)
}

// SoakGrowth judges samples after the first warmup fraction of the soak; the rest (the judged window)
// is fitted with a line.
func SoakGrowth(what string, samples []Sample, warmup float64) (Growth, error) {
	if len(samples) == 0 {
		return Growth{What: what}, errors.New("no samples")
	}
	first, last := samples[0].At, samples[len(samples)-1].At
	cut := first + time.Duration(float64(last-first)*warmup)
	var kept []Sample
	for _, s := range samples {
		if s.At >= cut {
			kept = append(kept, s)
		}
	}
	fit, err := LinearFit(kept)
	if err != nil {
		return Growth{What: what}, err
	}
	g := Growth{What: what, Fit: fit, Window: last - cut}
	g.Start = fit.Intercept + fit.Slope*cut.Seconds()
	g.End = fit.Intercept + fit.Slope*last.Seconds()
	return g, nil
}

// Flat checks that the fitted growth over the judged window stays under tolerance × its start value
// (and under floor bytes, whichever is larger: a small heap's noise is not growth).
func (g Growth) Flat(tolerance, floor float64) Check {
	allowed := max(tolerance*g.Start, floor)
	grew := g.End - g.Start
	return Check{Name: "soak: " + g.What + " does not grow", Pass: g.Fit.N >= 2 && grew < allowed,
		Detail: fmt.Sprintf("fitted %s → %s over %s (slope %+.2f MB/min, %d samples; allowed growth %s)",
			mb(int64(g.Start)), mb(int64(g.End)), g.Window.Round(time.Second), g.Fit.Slope*60/1e6, g.Fit.N,
			mb(int64(allowed)))}
}

// ParsePgbenchTPS reads the "tps = N (without initial connection time)" line of pgbench's output.
func ParsePgbenchTPS(out string) (float64, error) {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		rest, ok := strings.CutPrefix(line, "tps = ")
		if !ok || !strings.Contains(rest, "without initial connection time") {
			continue
		}
		f := strings.Fields(rest)
		return strconv.ParseFloat(f[0], 64)
	}
	return 0, errors.New("pgbench printed no tps line")
}

// ParseVmRSS reads VmRSS from the text of /proc/<pid>/status, in bytes.
func ParseVmRSS(status string) (int64, error) {
	for line := range strings.Lines(status) {
		rest, ok := strings.CutPrefix(line, "VmRSS:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("unexpected VmRSS line %q", strings.TrimSpace(line))
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		return kb * 1024, err
	}
	return 0, errors.New("no VmRSS line (has the process exited?)")
}

// CPUModel reads the first "model name" of /proc/cpuinfo.
func CPUModel(cpuinfo string) string {
	for line := range strings.Lines(cpuinfo) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/1e6) }

func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/1e6) }

// group formats n with thousands separators: 12345 → "12,345".
func group(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}
