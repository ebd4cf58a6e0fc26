// Package gcfloor keeps the garbage collector's heap target at or above a floor. Tooken's live heap
// is small (a few MB beside its caches), so with Go's default GOGC=100 it collects every few MB
// allocated — tens of times a second under load, for a tenth of its CPU. A floor of some tens of MB
// makes small heaps collect far less often, and leaves large ones (full caches) at GOGC=100.
package gcfloor

import (
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// heapMinimum is the runtime's heap target for a GOGC of 100 when the live heap is tiny; it scales
// with GOGC (runtime/mgcpacer.go: defaultHeapMinimum).
const heapMinimum = 4 << 20

// Percent is the GOGC that puts the heap target of a live heap of live bytes at max(2×live, floor):
// 100 when 2×live reaches floor, more below it. The runtime's target is the larger of
// live×(1+GOGC/100) and heapMinimum×GOGC/100, so under heapMinimum the second one decides.
func Percent(live, floor uint64) int {
	if 2*live >= floor {
		return 100
	}
	p := 100 * floor / heapMinimum
	if live > 0 {
		p = min(p, 100*(floor-live)/live)
	}
	return int(max(p, 100))
}

// Keep sets the GC percent from the live heap now and after every collection until ctx ends, then
// restores the one it found. Setting it after each collection, from the live heap that collection
// marked, keeps a heap that has just grown from a percent meant for a small one. It does nothing when
// floor is 0 or GOGC is set in the environment (the operator's choice stands).
func Keep(ctx context.Context, floor uint64) {
	if floor == 0 || os.Getenv("GOGC") != "" {
		return
	}
	var mu sync.Mutex
	stopped := false
	prev := debug.SetGCPercent(Percent(LiveHeap(), floor))
	var afterGC func()
	afterGC = func() {
		mu.Lock()
		defer mu.Unlock()
		if !stopped {
			debug.SetGCPercent(Percent(LiveHeap(), floor))
			onNextGC(afterGC)
		}
	}
	onNextGC(afterGC)
	<-ctx.Done()
	mu.Lock()
	stopped = true
	debug.SetGCPercent(prev)
	mu.Unlock()
}

// LiveHeap is the heap the last collection found live (0 before the first one).
func LiveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// sentinel is an object nothing refers to, whose finalizer therefore runs after the next collection.
type sentinel struct{ _ *byte }

// onNextGC runs f on the finalizer goroutine after the next collection.
func onNextGC(f func()) {
	runtime.SetFinalizer(&sentinel{}, func(*sentinel) { f() })
}
