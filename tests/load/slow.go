package load

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// P99Target is the latency target for the fixed-rate steps at half the baseline's rate.
const P99Target = 10 * time.Millisecond

// SlowWindow is the span in which a step's slow requests are counted, and busiestWindows how many of
// the fullest windows Slow.Text names the share of.
const (
	SlowWindow     = 100 * time.Millisecond
	busiestWindows = 5
)

// Slow is how the requests of a fixed-rate step that took longer than Limit were spread over the
// step, in windows of SlowWindow counted from its start. Slow requests crowded into a few windows are
// stalls — the machine stopped serving for a moment and the requests sent meanwhile queued (on a shared
// VM, the hypervisor can do that); slow requests in most windows are a server too slow for the rate.
type Slow struct {
	Limit    time.Duration
	Requests uint64 // requests over Limit
	Windows  int    // windows holding at least one of them
	Of       int    // windows in the step
	Busiest  uint64 // of Requests, those in the busiestWindows fullest windows
	// BusiestAt is where those windows start in the step, in order (as many as Windows, up to
	// busiestWindows): windows a second apart are something the server does every second.
	BusiestAt [busiestWindows]time.Duration
}

// SlowCounter counts a step's requests over a limit by the window of SlowWindow they were sent in.
type SlowCounter struct {
	limit  time.Duration
	start  time.Time
	counts map[int64]uint64
	last   int64 // the latest window any request was sent in
}

// NewSlowCounter counts requests over limit of a step that started at start.
func NewSlowCounter(limit time.Duration, start time.Time) *SlowCounter {
	return &SlowCounter{limit: limit, start: start, counts: map[int64]uint64{}}
}

// Add notes one request, sent at sent, that took latency.
func (c *SlowCounter) Add(sent time.Time, latency time.Duration) {
	w := int64(max(sent.Sub(c.start), 0) / SlowWindow)
	c.last = max(c.last, w)
	if latency > c.limit {
		c.counts[w]++
	}
}

// Summary is what the counter saw over a step of duration d: its windows are those of d, and any
// later one a request was sent in (a server that fell behind has the last of them sent late).
func (c *SlowCounter) Summary(d time.Duration) Slow {
	s := Slow{Limit: c.limit, Windows: len(c.counts), Of: max(int((d+SlowWindow-1)/SlowWindow), int(c.last)+1)}
	windows := slices.SortedFunc(maps.Keys(c.counts), func(a, b int64) int {
		return cmp.Or(cmp.Compare(c.counts[b], c.counts[a]), cmp.Compare(a, b))
	})
	for i, w := range windows {
		s.Requests += c.counts[w]
		if i < busiestWindows {
			s.Busiest += c.counts[w]
		}
	}
	busiest := windows[:min(busiestWindows, len(windows))]
	slices.Sort(busiest)
	for i, w := range busiest {
		s.BusiestAt[i] = time.Duration(w) * SlowWindow
	}
	return s
}

// Text renders the spread: "1,050 requests over 10.00 ms, in 23 of 100 windows of 100 ms; 78 % of them
// in the busiest 5 (from 1.0, 2.0, 2.1, 3.0, 7.4 s)"; empty when no request was over the limit.
func (s Slow) Text() string {
	if s.Requests == 0 {
		return ""
	}
	n := min(busiestWindows, s.Windows)
	at := make([]string, n)
	for i, d := range s.BusiestAt[:n] {
		at[i] = fmt.Sprintf("%.1f", d.Seconds())
	}
	requests := "requests"
	if s.Requests == 1 {
		requests = "request"
	}
	return fmt.Sprintf("%s %s over %s, in %s of %s windows of %d ms; %.0f %% of them in the busiest %d (from %s s)",
		group(int64(s.Requests)), requests, ms(s.Limit), group(int64(s.Windows)), group(int64(s.Of)),
		SlowWindow.Milliseconds(), 100*float64(s.Busiest)/float64(s.Requests), n, strings.Join(at, ", "))
}
