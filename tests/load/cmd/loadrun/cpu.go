package main

import (
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/tooken/tooken/tests/load"
)

// clockTicks is Linux's USER_HZ, the unit of /proc/<pid>/stat's CPU times.
const clockTicks = 100

// cpuMeter measures, between its start and stop, the machine's CPU use and steal (/proc/stat) and
// the CPU time of one process (/proc/<pid>/stat; pid 0 for none).
type cpuMeter struct {
	began     time.Time
	machine   load.MachineTimes
	machineOK bool
	pid       int
	ticks     uint64
	procOK    bool
}

func startCPU(pid int) cpuMeter {
	m := cpuMeter{began: time.Now(), pid: pid}
	m.machine, m.machineOK = machineTimes()
	m.ticks, m.procOK = processTicks(pid)
	return m
}

// stop sets the step's Steal (-1 when unknown), CPU and ServerCPU (zero when unknown).
func (m cpuMeter) stop(s *load.Step) {
	wall := time.Since(m.began).Seconds()
	s.Steal = -1
	if now, ok := machineTimes(); ok && m.machineOK && now.Total > m.machine.Total {
		total := float64(now.Total - m.machine.Total)
		s.Steal = float64(now.Steal-m.machine.Steal) / total
		s.CPU = float64(now.Busy-m.machine.Busy) / total * float64(runtime.NumCPU())
	}
	if now, ok := processTicks(m.pid); ok && m.procOK && wall > 0 {
		s.ServerCPU = float64(now-m.ticks) / clockTicks / wall
	}
}

func machineTimes() (load.MachineTimes, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return load.MachineTimes{}, false
	}
	t, err := load.ParseProcStat(string(b))
	return t, err == nil
}

func processTicks(pid int) (uint64, bool) {
	if pid <= 0 {
		return 0, false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	t, err := load.ParseProcessTicks(string(b))
	return t, err == nil
}
