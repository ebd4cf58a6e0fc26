package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/tooken/tooken/tests/load"
)

// clockTicks is Linux's USER_HZ, the unit of /proc/<pid>/stat's CPU times.
const clockTicks = 100

// cpuMeter measures, between its start and stop, the machine's CPU use and steal (/proc/stat) and
// the CPU time of the serving process (pid 0 for none), of this process (the load generator) and of
// PostgreSQL's processes on this machine (/proc/<pid>/stat).
type cpuMeter struct {
	began     time.Time
	machine   load.MachineTimes
	machineOK bool
	pid       int
	server    ticks
	harness   ticks
	database  ticks
}

// ticks is a CPU time in clock ticks and whether it could be read.
type ticks struct {
	n  uint64
	ok bool
}

// cores is the CPU time from t to now in cores over wall seconds; 0 when either is unknown.
func (t ticks) cores(now ticks, wall float64) float64 {
	if !t.ok || !now.ok || wall <= 0 || now.n < t.n {
		return 0
	}
	return float64(now.n-t.n) / clockTicks / wall
}

func startCPU(pid int) cpuMeter {
	m := cpuMeter{began: time.Now(), pid: pid}
	m.machine, m.machineOK = machineTimes()
	m.server, m.harness, m.database = processTicks(pid), processTicks(os.Getpid()), postgresTicks()
	return m
}

// stop sets the step's Steal (-1 when unknown) and its CPU uses (zero when unknown).
func (m cpuMeter) stop(s *load.Step) {
	wall := time.Since(m.began).Seconds()
	s.Steal = -1
	if now, ok := machineTimes(); ok && m.machineOK && now.Total > m.machine.Total {
		total := float64(now.Total - m.machine.Total)
		s.Steal = float64(now.Steal-m.machine.Steal) / total
		s.CPU = float64(now.Busy-m.machine.Busy) / total * float64(runtime.NumCPU())
	}
	s.ServerCPU = m.server.cores(processTicks(m.pid), wall)
	s.HarnessCPU = m.harness.cores(processTicks(os.Getpid()), wall)
	s.DatabaseCPU = m.database.cores(postgresTicks(), wall)
}

func machineTimes() (load.MachineTimes, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return load.MachineTimes{}, false
	}
	t, err := load.ParseProcStat(string(b))
	return t, err == nil
}

func processStat(path string) (load.ProcessTimes, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return load.ProcessTimes{}, false
	}
	t, err := load.ParseProcessStat(string(b))
	return t, err == nil
}

func processTicks(pid int) ticks {
	if pid <= 0 {
		return ticks{}
	}
	t, ok := processStat(fmt.Sprintf("/proc/%d/stat", pid))
	return ticks{n: t.Ticks, ok: ok}
}

// postgresTicks is the CPU time of every process named postgres, with that of their exited children:
// the postmaster waits for its backends, so a backend that ends during a step (pgbench's) still counts.
func postgresTicks() ticks {
	paths, _ := filepath.Glob("/proc/[0-9]*/stat")
	var t ticks
	for _, p := range paths {
		if pt, ok := processStat(p); ok && pt.Name == "postgres" {
			t.n += pt.Ticks + pt.Children
			t.ok = true
		}
	}
	return t
}
