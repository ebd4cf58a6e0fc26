package main

import (
	"sync"
	"time"

	"github.com/tooken/tooken/tests/load"
)

// soakWarmup is the fraction of the soak left out of the growth fit (connection pools, caches and the
// heap settle in it).
const soakWarmup = 0.2

// soakFloor is growth always tolerated, in bytes: a few megabytes of GC sawtooth are not a leak.
const soakFloor = 4e6

// soak runs the mixed scenario at rate for d, sampling the server's RSS (every 250 ms) and live heap
// (every 2 s from /debug/vars: heap_live_bytes), and judges both with a linear fit.
func (r *runner) soak(sc scenario, rate float64, d time.Duration, tolerance float64) ([]load.Growth, []load.Check) {
	logf("soak: %s at %.0f req/s for %s", sc.name, rate, d)
	var heap []load.Sample
	stop := make(chan struct{})
	var wg sync.WaitGroup
	began := time.Now()
	wg.Go(func() {
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		for {
			if h, err := liveHeap(r.pprofAddr); err == nil {
				heap = append(heap, load.Sample{At: time.Since(began), Bytes: float64(h)})
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	})
	s := r.step(sc, "tooken (soak)", rate, d, true)
	close(stop)
	wg.Wait()
	var rss []load.Sample
	for _, x := range r.rss.between(began, began.Add(s.Duration+time.Second)) {
		rss = append(rss, load.Sample{At: r.rss.began.Add(x.At).Sub(began), Bytes: x.Bytes})
	}
	var growth []load.Growth
	var checks []load.Check
	for _, q := range []struct {
		what    string
		samples []load.Sample
	}{{"server RSS", rss}, {"server live heap (after the last collection)", heap}} {
		g, err := load.SoakGrowth(q.what, q.samples, soakWarmup)
		if err != nil {
			checks = append(checks, load.Check{Name: "soak: " + q.what + " does not grow", Detail: err.Error()})
			continue
		}
		growth = append(growth, g)
		checks = append(checks, g.Flat(tolerance, soakFloor))
	}
	return growth, checks
}
