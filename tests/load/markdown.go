package load

import (
	"fmt"
	"strings"
	"time"
)

// Machine describes where and on what a run was measured.
type Machine struct {
	Date       time.Time
	Commit     string
	CPU        string
	Cores      int
	RAM        string
	Go         string
	PostgreSQL string
}

// Report is one run of the harness.
type Report struct {
	Machine      Machine
	Clients      int
	StepDuration time.Duration
	PgbenchTPS   float64
	Steps        []Step
	Soak         []Growth // empty when the soak was skipped
	SoakRate     float64
	SoakDuration time.Duration
	Checks       []Check
	References   []Check // comparisons that are not targets (see Relative)
	Notes        []string
}

// Markdown renders the report as a section of BENCHMARKS.md: machine, one table of every step, the
// soak and the checks.
func (r Report) Markdown() string {
	var b strings.Builder
	m := r.Machine
	fmt.Fprintf(&b, "## %s — `make load` at %s\n\n", m.Date.UTC().Format("2006-01-02 15:04 MST"), m.Commit)
	fmt.Fprintf(&b, "- CPU: %s, %d cores; RAM %s\n", m.CPU, m.Cores, m.RAM)
	fmt.Fprintf(&b, "- %s; %s\n", m.Go, m.PostgreSQL)
	fmt.Fprintf(&b, "- %d clients per max step, %s per step", r.Clients, r.StepDuration)
	if r.PgbenchTPS > 0 {
		fmt.Fprintf(&b, "; pgbench (single-row INSERT + COMMIT, %d clients): %s TPS", r.Clients, group(int64(r.PgbenchTPS+0.5)))
	}
	b.WriteString("\n")
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "- %s\n", n)
	}
	b.WriteString("\n| scenario | target | load | requests | throughput | p50 | p90 | p99 | max | errors | server RSS | CPU steal | CPU cores: machine / server / load generator / PostgreSQL |\n")
	b.WriteString("|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, s := range r.Steps {
		rss := "—"
		if s.MaxRSS > 0 {
			rss = mb(s.MaxRSS)
		}
		steal := "—"
		if s.Steal >= 0 {
			steal = fmt.Sprintf("%.0f %%", s.Steal*100)
		}
		if s.Requests == 0 { // pgbench: a throughput only
			fmt.Fprintf(&b, "| %s | %s | %s | — | %s/s | — | — | — | — | — | — | %s | %s |\n", s.Scenario, s.Target,
				s.StepLabel(), group(int64(s.Throughput+0.5)), steal, s.cores())
			continue
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s/s | %s | %s | %s | %s | %s | %s | %s | %s |\n", s.Scenario, s.Target,
			s.StepLabel(), group(int64(s.Requests)), group(int64(s.Throughput+0.5)), ms(s.P50), ms(s.P90),
			ms(s.P99), ms(s.Max), s.ErrorText(), rss, steal, s.cores())
	}
	var mixed []Step
	for _, s := range r.Steps {
		if len(s.Operations) > 1 {
			mixed = append(mixed, s)
		}
	}
	if len(mixed) > 0 {
		b.WriteString("\nLatency by operation in the mixed steps:\n\n")
		for _, s := range mixed {
			fmt.Fprintf(&b, "- %s, %s: %s\n", s.Scenario, s.StepLabel(), s.OperationsText())
		}
	}
	var creating []Step
	for _, s := range r.Steps {
		if s.CreatesText() != "" {
			creating = append(creating, s)
		}
	}
	if len(creating) > 0 {
		b.WriteString("\nBatches of creates (the server writes them one batch at a time):\n\n")
		for _, s := range creating {
			fmt.Fprintf(&b, "- %s, %s: %s\n", s.Scenario, s.StepLabel(), s.CreatesText())
		}
	}
	var slow []Step
	for _, s := range r.Steps {
		if s.Slow.Text() != "" {
			slow = append(slow, s)
		}
	}
	if len(slow) > 0 {
		b.WriteString("\nSlow requests of the fixed-rate steps (a few full windows are stalls; most windows, a server too slow for the rate):\n\n")
		for _, s := range slow {
			fmt.Fprintf(&b, "- %s, %s, %s: %s\n", s.Scenario, s.Target, s.StepLabel(), s.Slow.Text())
		}
	}
	if len(r.Soak) > 0 {
		fmt.Fprintf(&b, "\nSoak: the mixed scenario at %s req/s for %s.\n\n", group(int64(r.SoakRate+0.5)), r.SoakDuration)
		b.WriteString("| quantity | fitted start | fitted end | slope | samples |\n|---|--:|--:|--:|--:|\n")
		for _, g := range r.Soak {
			fmt.Fprintf(&b, "| %s | %s | %s | %+.2f MB/min | %d |\n", g.What, mb(int64(g.Start)), mb(int64(g.End)),
				g.Fit.Slope*60/1e6, g.Fit.N)
		}
	}
	b.WriteString("\nChecks:\n\n")
	for _, c := range r.Checks {
		fmt.Fprintf(&b, "- %s\n", c)
	}
	if len(r.References) > 0 {
		b.WriteString("\nFor reference (not targets):\n\n")
		for _, c := range r.References {
			fmt.Fprintf(&b, "- %s\n", c.Info())
		}
	}
	b.WriteString("\n")
	return b.String()
}
