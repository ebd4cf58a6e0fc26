// Package river runs Tooken's background jobs on River (github.com/riverqueue/river), a job queue
// kept in the application's own database: PostgreSQL through database/sql (riverdatabasesql) or the
// embedded SQLite file (riversqlite). Jobs are rows, so they survive restarts and are shared by every
// replica: River elects one leader among the replicas, only the leader enqueues periodic jobs, and
// each job is locked by the one worker that runs it.
//
// This package drives the core the way httpapi does, through plain functions given by the wiring
// (cmd/tooken/app); the core knows nothing of River. Webhook deliveries are River jobs inserted with
// InsertManyTx in the transaction that writes their event (Queue.EnqueueTx, which the wiring hands
// to the SQL store as its outbox), on their own queue, retried with exponential backoff and jitter
// for about a day.
package river

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	riverqueue "github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

// Periodic is work run every Interval by one replica at a time (the one River's leader enqueues it
// for). Run must tolerate being run again for the same period (a retry after a crash).
type Periodic struct {
	Name     string // unique among the periodic jobs; identifies the job across replicas
	Interval time.Duration
	Run      func(ctx context.Context) error
}

// Options configures a Queue.
type Options struct {
	Periodic []Periodic
	// Logger receives River's warnings and errors; nil discards them.
	Logger *slog.Logger
	// PollInterval is how often a replica looks for new jobs (default 1 s).
	PollInterval time.Duration
	// Deliveries, when set, runs webhook delivery jobs (see Queue.EnqueueTx).
	Deliveries *Deliveries
	// RescueAfter is how long a job may stay running before it is presumed lost (its replica was
	// killed mid-job) and retried by the leader (default DefaultRescueAfter). No job runs longer:
	// job timeouts are capped at it, so a job still working is not run twice.
	RescueAfter time.Duration
}

// DefaultRescueAfter is Options.RescueAfter's default: four times the default bound of a delivery
// attempt's job (15 s), so that a delivery interrupted by a crash is retried within about a minute
// (River's own default is an hour).
const DefaultRescueAfter = 4 * defaultDeliveryTimeout

// Queue is a River client of one replica.
type Queue struct {
	client     *riverqueue.Client[*sql.Tx]
	deliveries *Deliveries
}

// periodicArgs are the arguments of a periodic job: the name of the Periodic to run.
type periodicArgs struct {
	Name string `json:"name"`
}

// Kind implements river.JobArgs.
func (periodicArgs) Kind() string { return "tooken.periodic" }

// periodicWorker runs periodic jobs by name.
type periodicWorker struct {
	riverqueue.WorkerDefaults[periodicArgs]
	run map[string]func(context.Context) error
}

// Work runs the job's Periodic; an unknown name (a job enqueued by a newer replica) is cancelled.
func (w *periodicWorker) Work(ctx context.Context, job *riverqueue.Job[periodicArgs]) error {
	run, ok := w.run[job.Args.Name]
	if !ok {
		return riverqueue.JobCancel(fmt.Errorf("unknown periodic job %q", job.Args.Name))
	}
	return run(ctx)
}

// NewPostgres returns a Queue on a PostgreSQL pool (lib/pq over database/sql). The pool must not set
// lib/pq's binary_parameters: River passes JSON arguments as bytes.
func NewPostgres(db *sql.DB, o Options) (*Queue, error) {
	return newQueue(riverdatabasesql.New(db), o)
}

// NewSQLite returns a Queue on an SQLite pool. River's many concurrent operations need the pool to
// hold one connection (db.SetMaxOpenConns(1)); the database's busy timeout covers the time the
// application's own writer holds the file.
func NewSQLite(db *sql.DB, o Options) (*Queue, error) {
	return newQueue(riversqlite.New(db), o)
}

func newQueue(driver riverdriver.Driver[*sql.Tx], o Options) (*Queue, error) {
	workers := riverqueue.NewWorkers()
	w := &periodicWorker{run: map[string]func(context.Context) error{}}
	var jobs []*riverqueue.PeriodicJob
	for _, p := range o.Periodic {
		if p.Interval <= 0 || p.Run == nil || p.Name == "" {
			return nil, fmt.Errorf("periodic job %q: a name, a positive interval and Run are required", p.Name)
		}
		w.run[p.Name] = p.Run
		args, interval := periodicArgs{Name: p.Name}, p.Interval
		jobs = append(jobs, riverqueue.NewPeriodicJob(riverqueue.PeriodicInterval(interval),
			func() (riverqueue.JobArgs, *riverqueue.InsertOpts) {
				// One job per name and period (River's least: 1 s), even if leadership changes
				// hands mid-period.
				return args, &riverqueue.InsertOpts{MaxAttempts: 3,
					UniqueOpts: riverqueue.UniqueOpts{ByArgs: true, ByPeriod: max(interval, time.Second)}}
			}, &riverqueue.PeriodicJobOpts{ID: p.Name, RunOnStart: true}))
	}
	if err := riverqueue.AddWorkerSafely(workers, w); err != nil {
		return nil, err
	}
	queues := map[string]riverqueue.QueueConfig{riverqueue.QueueDefault: {MaxWorkers: 4}}
	rescue := cmp.Or(o.RescueAfter, DefaultRescueAfter)
	if d := o.Deliveries; d != nil {
		d.defaults()
		d.Timeout = min(d.Timeout, rescue)
		if err := riverqueue.AddWorkerSafely(workers, &deliveryWorker{o: d}); err != nil {
			return nil, err
		}
		queues[QueueWebhooks] = riverqueue.QueueConfig{MaxWorkers: deliveryWorkers}
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	client, err := riverqueue.NewClient(driver, &riverqueue.Config{
		Queues:               queues,
		Workers:              workers,
		PeriodicJobs:         jobs,
		Logger:               logger,
		FetchPollInterval:    o.PollInterval,
		FetchCooldown:        min(o.PollInterval, riverqueue.FetchCooldownDefault), // at most the poll interval
		PollOnly:             true,                                                 // database/sql and SQLite have no LISTEN
		JobTimeout:           min(riverqueue.JobTimeoutDefault, rescue),
		RescueStuckJobsAfter: rescue,
	})
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	return &Queue{client: client, deliveries: o.Deliveries}, nil
}

// deliveryWorkers is how many webhook deliveries one replica attempts at once. River fetches at most
// this many jobs per fetch cooldown (100 ms), so it bounds delivery throughput: 16 gave ~130 events/s
// on SQLite, 64 gives ~460 (BenchmarkWebhookDelivery).
const deliveryWorkers = 64

// Start starts fetching and working jobs, and taking part in leader election, in the background.
func (q *Queue) Start(ctx context.Context) error { return q.client.Start(ctx) }

// Stop stops fetching jobs and waits, until ctx ends, for running ones to finish; then it cancels
// them.
func (q *Queue) Stop(ctx context.Context) error {
	err := q.client.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		return q.client.StopAndCancel(cctx)
	}
	return err
}

// MigratePostgres applies River's pending migrations to a PostgreSQL database, each in its own
// transaction (one of them adds an enum value, which PostgreSQL refuses to use in the transaction
// that adds it), under a session-level advisory lock so that replicas migrating at once take turns.
func MigratePostgres(ctx context.Context, db *sql.DB) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	const key = 7249213440981337
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
		return err
	}
	defer func() { _, _ = conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, key) }()
	m, err := rivermigrate.New(riverdatabasesql.New(db), &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	return nil
}

// MigrateSQLite applies River's pending migrations to an SQLite database in one transaction, so
// that processes migrating at once take turns (SQLite serialises writers).
func MigrateSQLite(ctx context.Context, db *sql.DB) error {
	m, err := rivermigrate.New(riversqlite.New(nil), &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := m.MigrateTx(ctx, tx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	return tx.Commit()
}
