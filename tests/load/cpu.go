package load

import (
	"errors"
	"fmt"
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

// ParseProcessTicks reads a process's CPU time (utime + stime, fields 14 and 15, in clock ticks) from
// the text of /proc/<pid>/stat. Field 2, the command name in parentheses, may hold spaces and
// parentheses itself, so the fields are counted from after its last ')'.
func ParseProcessTicks(stat string) (uint64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("no command name in /proc/<pid>/stat")
	}
	f := strings.Fields(stat[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, errors.New("short /proc/<pid>/stat")
	}
	utime, err := strconv.ParseUint(f[11], 10, 64)
	if err != nil {
		return 0, err
	}
	stime, err := strconv.ParseUint(f[12], 10, 64)
	return utime + stime, err
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
	server := ""
	if got.ServerCPU > 0 {
		server = fmt.Sprintf(" (the server %s)", ms(time.Duration(got.ServerCPU/got.Throughput*float64(time.Second))))
	}
	c.Detail += fmt.Sprintf("; CPU per request %s%s against %s for %s: with every core busy, at most %.0f %%",
		ms(g), server, ms(r), ref.Target, float64(r)/float64(g)*100)
	return c
}

// cores renders a step's CPU use: "1.93 / 1.10" (the machine's / the serving process's cores).
func (s Step) cores() string {
	part := func(v float64) string {
		if v <= 0 {
			return "—"
		}
		return fmt.Sprintf("%.2f", v)
	}
	if s.CPU <= 0 && s.ServerCPU <= 0 {
		return "—"
	}
	return part(s.CPU) + " / " + part(s.ServerCPU)
}
