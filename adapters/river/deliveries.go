package river

import (
	"context"
	"database/sql"
	"errors"
	"math/rand/v2"
	"time"

	riverqueue "github.com/riverqueue/river"
	"github.com/tooken/tooken/ports"
)

// QueueWebhooks is the River queue of webhook deliveries, apart from the maintenance jobs so that
// slow receivers cannot delay them.
const QueueWebhooks = "webhooks"

// Deliveries configures webhook delivery jobs.
type Deliveries struct {
	// Attempt makes attempt n (from 1) of a delivery; nil means success. ErrDrop (wrapped) ends the
	// delivery without further attempts.
	Attempt func(ctx context.Context, d ports.WebhookDelivery, n int) error
	// RetryBase is the delay before the second attempt (default 30 s); each later delay doubles, up to
	// an hour, with ±20 % jitter, and attempts go on for about RetryFor.
	RetryBase time.Duration
	// RetryFor is how long a failing delivery is retried (default 24 h).
	RetryFor time.Duration
	// Timeout bounds one attempt's job (default 15 s, at most Options.RescueAfter; the HTTP attempt
	// has its own, shorter, bound).
	Timeout time.Duration
}

// defaultDeliveryTimeout is Deliveries.Timeout's default.
const defaultDeliveryTimeout = 15 * time.Second

// ErrDrop, returned (wrapped) by Deliveries.Attempt, cancels the delivery: its webhook is gone.
var ErrDrop = errors.New("river: drop the delivery")

// maxDelay bounds the delay between two attempts.
const maxDelay = time.Hour

// retryDelay is the delay after failed attempt n (from 1), before jitter.
func (o *Deliveries) retryDelay(n int) time.Duration {
	d := o.RetryBase
	for i := 1; i < n && d < maxDelay; i++ {
		d *= 2
	}
	return min(d, maxDelay)
}

// maxAttempts is the number of attempts whose delays add up to RetryFor.
func (o *Deliveries) maxAttempts() int {
	var total time.Duration
	n := 1
	for total < o.RetryFor && n < 200 {
		total += o.retryDelay(n)
		n++
	}
	return n
}

// deliveryArgs are a delivery job's arguments.
type deliveryArgs struct {
	Delivery ports.WebhookDelivery `json:"delivery"`
}

// Kind implements river.JobArgs.
func (deliveryArgs) Kind() string { return "tooken.webhook_delivery" }

// deliveryWorker runs delivery jobs.
type deliveryWorker struct {
	riverqueue.WorkerDefaults[deliveryArgs]
	o *Deliveries
}

// Work makes one attempt; a failure is retried (at-least-once) until MaxAttempts.
func (w *deliveryWorker) Work(ctx context.Context, job *riverqueue.Job[deliveryArgs]) error {
	err := w.o.Attempt(ctx, job.Args.Delivery, job.Attempt)
	if errors.Is(err, ErrDrop) {
		return riverqueue.JobCancel(err)
	}
	return err
}

// NextRetry backs off exponentially with jitter.
func (w *deliveryWorker) NextRetry(job *riverqueue.Job[deliveryArgs]) time.Time {
	d := w.o.retryDelay(job.Attempt)
	jitter := time.Duration(float64(d) * (rand.Float64()*0.4 - 0.2))
	return time.Now().Add(d + jitter)
}

// Timeout bounds one attempt.
func (w *deliveryWorker) Timeout(*riverqueue.Job[deliveryArgs]) time.Duration { return w.o.Timeout }

func (o *Deliveries) defaults() {
	if o.RetryBase <= 0 {
		o.RetryBase = 30 * time.Second
	}
	if o.RetryFor <= 0 {
		o.RetryFor = 24 * time.Hour
	}
	if o.Timeout <= 0 {
		o.Timeout = defaultDeliveryTimeout
	}
}

// EnqueueTx inserts one delivery job per delivery in tx, the transaction that writes their events;
// they become visible to workers when it commits. It needs Options.Deliveries.
func (q *Queue) EnqueueTx(ctx context.Context, tx *sql.Tx, ds []ports.WebhookDelivery) error {
	if q.deliveries == nil {
		return errors.New("river: the queue was built without Deliveries")
	}
	params := make([]riverqueue.InsertManyParams, len(ds))
	for i, d := range ds {
		params[i] = riverqueue.InsertManyParams{Args: deliveryArgs{Delivery: d},
			InsertOpts: &riverqueue.InsertOpts{Queue: QueueWebhooks, MaxAttempts: q.deliveries.maxAttempts()}}
	}
	_, err := q.client.InsertManyTx(ctx, tx, params)
	return err
}

// Enqueue inserts one delivery job (a redelivery or a test ping), outside any event's transaction.
func (q *Queue) Enqueue(ctx context.Context, d ports.WebhookDelivery) error {
	if q.deliveries == nil {
		return errors.New("river: the queue was built without Deliveries")
	}
	_, err := q.client.Insert(ctx, deliveryArgs{Delivery: d},
		&riverqueue.InsertOpts{Queue: QueueWebhooks, MaxAttempts: q.deliveries.maxAttempts()})
	return err
}
