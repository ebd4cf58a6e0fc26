package load

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MachineTimes are the machine's CPU times from the aggregate "cpu" line of /proc/stat, in clock ticks.
type MachineTimes struct {
	Busy  uint64 // every state but idle, iowait and steal
	Steal uint64 // given by the hypervisor to other guests
	Total uint64 // user nice system idle iowait irq softirq steal (guest time is counted in user)
}

// ParseProcStat reads the aggregate "cpu" line (the first) of /proc/stat.
func ParseProcStat(stat string) (MachineTimes, error) {
	line, _, _ := strings.Cut(stat, "\n")
	fields := strings.Fields(line)
	if len(fields) < 9 || fields[0] != "cpu" {
		return MachineTimes{}, fmt.Errorf("unexpected first line of /proc/stat %q", line)
	}
	var t MachineTimes
	for i, f := range fields[1:9] {
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return MachineTimes{}, fmt.Errorf("/proc/stat field %d: %w", i+1, err)
		}
		t.Total += v
		switch i {
		case 3, 4: // idle, iowait
		case 7:
			t.Steal = v
		default:
			t.Busy += v
		}
	}
	return t, nil
}

// ProcessTimes are a process's name and CPU times from /proc/<pid>/stat, in clock ticks.
type ProcessTimes struct {
	Name  string // field 2 without its parentheses
	Ticks uint64 // utime + stime (fields 14 and 15)
	// Children is cutime + cstime (fields 16 and 17): the CPU time of its children that have exited
	// and been waited for, such as a PostgreSQL server's finished backends.
	Children uint64
}

// ParseProcessStat reads a process's ProcessTimes from the text of /proc/<pid>/stat. Field 2, the
// command name in parentheses, may hold spaces and parentheses itself, so the fields are counted from
// after its last ')'.
func ParseProcessStat(stat string) (ProcessTimes, error) {
	open, end := strings.IndexByte(stat, '('), strings.LastIndexByte(stat, ')')
	if open < 0 || end < open {
		return ProcessTimes{}, errors.New("no command name in /proc/<pid>/stat")
	}
	f := strings.Fields(stat[end+1:]) // f[0] is field 3 (state)
	if len(f) < 15 {
		return ProcessTimes{}, errors.New("short /proc/<pid>/stat")
	}
	var v [4]uint64
	for i := range v {
		n, err := strconv.ParseUint(f[11+i], 10, 64)
		if err != nil {
			return ProcessTimes{}, fmt.Errorf("/proc/<pid>/stat field %d: %w", 14+i, err)
		}
		v[i] = n
	}
	return ProcessTimes{Name: stat[open+1 : end], Ticks: v[0] + v[1], Children: v[2] + v[3]}, nil
}

// CPUPerRequest is the machine's CPU time per successful request (or transaction) of the step; false
// when the step's CPU use or throughput is unknown.
func (s Step) CPUPerRequest() (time.Duration, bool) {
	if s.CPU <= 0 || s.Throughput <= 0 {
		return 0, false
	}
	return time.Duration(s.CPU / s.Throughput * float64(time.Second)), true
}

// BesideCost notes, in c's detail, what one request of got and one of ref cost the machine in CPU
// time, and the ratio of ref's cost to got's: the throughput ratio the machine's cores allow when both
// keep every core busy, whatever the scheduling. It does not change the verdict.
func BesideCost(c Check, got, ref Step) Check {
	g, ok1 := got.CPUPerRequest()
	r, ok2 := ref.CPUPerRequest()
	if !ok1 || !ok2 {
		return c
	}
	var parts []string
	for _, p := range []struct {
		who   string
		cores float64
	}{{"the server", got.ServerCPU}, {"the load generator", got.HarnessCPU}, {"PostgreSQL", got.DatabaseCPU}} {
		if p.cores > 0 {
			parts = append(parts, p.who+" "+ms(time.Duration(p.cores/got.Throughput*float64(time.Second))))
		}
	}
	of := ""
	if len(parts) > 0 {
		of = " (" + strings.Join(parts, ", ") + ")"
	}
	c.Detail += fmt.Sprintf("; CPU per request %s%s against %s for %s: with every core busy, at most %.0f %%",
		ms(g), of, ms(r), ref.Target, float64(r)/float64(g)*100)
	return c
}

// cores renders a step's CPU use: "1.93 / 1.10 / 0.50 / 0.20" (the machine's / the serving
// process's / the load generator's / PostgreSQL's cores; "—" where unknown).
func (s Step) cores() string {
	parts := []float64{s.CPU, s.ServerCPU, s.HarnessCPU, s.DatabaseCPU}
	if slices.IndexFunc(parts, func(v float64) bool { return v > 0 }) < 0 {
		return "—"
	}
	out := make([]string, len(parts))
	for i, v := range parts {
		out[i] = "—"
		if v > 0 {
			out[i] = fmt.Sprintf("%.2f", v)
		}
	}
	return strings.Join(out, " / ")
}
