package sqlstore

import (
	"context"
	"sync"
	"time"
)

// maxBatch bounds the calls one batch writes, and with it the size of its multi-row statements.
const maxBatch = 64

// batchTimeout bounds one batch: it runs detached from its callers' contexts (it writes for all of
// them), so that a database that stops answering fails the batch instead of holding every later
// write behind it.
const batchTimeout = 15 * time.Second

// batcher groups concurrent calls of one write into shared transactions (group commit). A call
// queues its item; one goroutine at a time takes everything queued (up to maxBatch) and hands it
// to run, which writes the items in one transaction and sets each item's error. Under load a batch
// forms while the previous one commits, so N concurrent writers cost one commit (one WAL flush, one
// audit-chain lock) instead of N; alone, a call is a batch of one and waits for nobody. One batch
// at a time is deliberate: batches of one workspace take turns on its audit-chain lock anyway, and
// measured on PostgreSQL, 2 or 4 concurrent batches made smaller batches and fewer creates per
// second (1,230–1,360/s with one, 950–1,310 with two, 710–760 with four, 16 clients), and again
// once a batch became one statement (2,680–3,010/s with one, 2,120–2,230 with two). A pipeline
// measured worse too: the next batch sent while one commits, chained to the head that one will
// leave, its head check moved from WHERE to SET (WHERE is first tried on the statement's snapshot,
// where it fails without waiting). Over HTTP it made 2,058 creates/s against 2,458; writing from 16
// goroutines, once a batch that had overtaken its predecessor (13 % of them) was sent again,
// 4,438–4,509/s against 4,802–5,352. The commit happens under the head's lock, so little of a batch
// overlaps, and the batches shrank (4.4–5.3 creates instead of 7–8): PostgreSQL's CPU per create
// rose from 0.18 to 0.27 ms.
type batcher[T any] struct {
	run func(ctx context.Context, items []*batchItem[T])

	mu      sync.Mutex
	queue   []*batchItem[T]
	running bool
}

// batchItem is one queued call: its value, and the error run sets before done is closed.
type batchItem[T any] struct {
	ctx  context.Context
	v    T
	err  error
	done chan struct{}
}

// do queues v and waits until the batch holding it has committed or failed. A call whose context
// ends while it is still queued is dropped with the context's error; once its batch has started it
// waits for the outcome, so that the error it returns says what happened to its write.
func (b *batcher[T]) do(ctx context.Context, v T) error {
	it := &batchItem[T]{ctx: ctx, v: v, done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, it)
	start := !b.running
	b.running = true
	b.mu.Unlock()
	if start {
		go b.loop()
	}
	<-it.done
	return it.err
}

// loop runs batches until the queue is empty.
func (b *batcher[T]) loop() {
	for {
		b.mu.Lock()
		n := min(len(b.queue), maxBatch)
		if n == 0 {
			b.running = false
			b.mu.Unlock()
			return
		}
		taken := make([]*batchItem[T], n)
		copy(taken, b.queue)
		b.queue = append(b.queue[:0], b.queue[n:]...)
		b.mu.Unlock()

		live := taken[:0:0]
		for _, it := range taken {
			if err := it.ctx.Err(); err != nil {
				it.err = err
				continue
			}
			live = append(live, it)
		}
		if len(live) > 0 {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(live[0].ctx), batchTimeout)
			b.run(ctx, live)
			cancel()
		}
		for _, it := range taken {
			close(it.done)
		}
	}
}
