package gcfloor

import (
	"context"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func TestPercentPutsTheHeapTargetAtTheFloorForSmallHeaps(t *testing.T) {
	const mb = 1 << 20
	for _, c := range []struct {
		live, floor uint64
		want        int
	}{
		{8 * mb, 32 * mb, 300},   // target 8 MB × 4 = 32 MB
		{4 * mb, 32 * mb, 700},   // target 4 MB × 8 = 32 MB
		{2 * mb, 32 * mb, 800},   // target the runtime's minimum, 4 MB × 8
		{0, 32 * mb, 800},        // before the first collection: the same
		{16 * mb, 32 * mb, 100},  // 2 × live reaches the floor
		{100 * mb, 32 * mb, 100}, // a large heap keeps GOGC=100
		{15 * mb, 32 * mb, 113},
	} {
		if got := Percent(c.live, c.floor); got != c.want {
			t.Errorf("Percent(%d MB, %d MB) = %d, want %d", c.live/mb, c.floor/mb, got, c.want)
		}
		p := uint64(Percent(c.live, c.floor))
		if target := max(c.live+c.live*p/100, heapMinimum*p/100); target < min(c.floor, 2*c.live) || target > max(c.floor, 2*c.live) {
			t.Errorf("live %d MB: heap target %.1f MB, want %d MB", c.live/mb, float64(target)/mb, max(c.floor, 2*c.live)/mb)
		}
	}
}

func TestKeepFollowsTheLiveHeapAfterEachCollectionAndRestoresThePercentAfter(t *testing.T) {
	t.Setenv("GOGC", "")
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	const floor = 64 << 20
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { Keep(ctx, floor); close(done) }()
	waitFor := func(what string, ok func(p int) bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for p := gogc(); !ok(p); p = gogc() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: GC percent %d", what, p)
			}
			runtime.GC()
			time.Sleep(time.Millisecond)
		}
	}
	waitFor("a small heap under a 64 MB floor, want above 100", func(p int) bool { return p > 100 })
	big := make([]*[1 << 20]byte, 48)
	for i := range big {
		big[i] = new([1 << 20]byte)
	}
	waitFor("48 MB live under a 64 MB floor, want 100", func(p int) bool { return p == 100 })
	runtime.KeepAlive(big)
	waitFor("the 48 MB released, want above 100 again", func(p int) bool { return p > 100 })
	cancel()
	<-done
	runtime.GC()
	time.Sleep(10 * time.Millisecond)
	if p := gogc(); p != 100 {
		t.Errorf("GC percent %d after Keep returned, want the 100 it found", p)
	}
}

func gogc() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}
