package sqlstore

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestBatcherGroupsCallsQueuedDuringABatch holds the first batch open, queues more calls (one of
// them with a context that ends while it waits) and checks that the next batch holds exactly the
// live ones, that each call gets its own error, and that the ended call never reaches run.
func TestBatcherGroupsCallsQueuedDuringABatch(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	var batches [][]int
	b := &batcher[int]{run: func(ctx context.Context, items []*batchItem[int]) {
		var vs []int
		for _, it := range items {
			vs = append(vs, it.v)
			if it.v%2 == 1 {
				it.err = errors.New("odd")
			}
		}
		mu.Lock()
		batches = append(batches, vs)
		mu.Unlock()
		if vs[0] == 0 {
			<-release
		}
	}}
	errs := make([]error, 6)
	var wg sync.WaitGroup
	wg.Go(func() { errs[0] = b.do(t.Context(), 0) })
	time.Sleep(50 * time.Millisecond)
	ended, cancel := context.WithCancel(t.Context())
	for i := 1; i < 6; i++ {
		ctx := t.Context()
		if i == 3 {
			ctx = ended
		}
		wg.Go(func() { errs[i] = b.do(ctx, i) })
	}
	time.Sleep(50 * time.Millisecond)
	cancel()
	close(release)
	wg.Wait()

	if len(batches) != 2 || !slices.Equal(batches[0], []int{0}) {
		t.Fatalf("batches %v, want [0] and then the calls queued meanwhile", batches)
	}
	second := slices.Sorted(slices.Values(batches[1]))
	if !slices.Equal(second, []int{1, 2, 4, 5}) {
		t.Errorf("second batch %v, want [1 2 4 5] (3's context ended while it was queued)", second)
	}
	for i, err := range errs {
		switch {
		case i == 3 && !errors.Is(err, context.Canceled):
			t.Errorf("call 3: %v, want context.Canceled", err)
		case i != 3 && i%2 == 1 && (err == nil || err.Error() != "odd"):
			t.Errorf("call %d: %v, want its own error", i, err)
		case i%2 == 0 && err != nil:
			t.Errorf("call %d: %v, want nil", i, err)
		}
	}
	for deadline := time.Now().Add(time.Second); ; time.Sleep(time.Millisecond) {
		b.mu.Lock()
		running := b.running
		b.mu.Unlock()
		if !running {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the batcher still runs a second after its queue emptied")
		}
	}
}
