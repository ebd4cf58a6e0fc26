package app_test

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"time"

	"github.com/tooken/tooken/adapters/jwks"
	"github.com/tooken/tooken/adapters/postgres/postgrestest"
	"github.com/tooken/tooken/cmd/tooken/app"
	"github.com/tooken/tooken/core"
	"github.com/tooken/tooken/internal/testclock"
)

// TestExpiryJobOnTwoReplicas runs two replicas on one PostgreSQL database with a short expiry period
// and a shared test clock: River's periodic expiry job records each token.expired and
// token.expiring notice exactly once, however many times it runs and on whichever replica.
func TestExpiryJobOnTwoReplicas(t *testing.T) {
	dbURL := postgrestest.NewDatabase(t)
	jobs := riverJobs(t, dbURL)
	expiryScenario(t, app.Config{DatabaseURL: dbURL, MasterKey: jwks.GenerateMasterKey()}, 2, func() {
		jobs.waitCompleted(t, jobs.completed(t)+3)
	})
}

// TestExpiryJobOnSQLite runs the expiry job on the embedded database (River's SQLite driver).
func TestExpiryJobOnSQLite(t *testing.T) {
	expiryScenario(t, app.Config{DataDir: t.TempDir()}, 1, func() {})
}

// expiryScenario starts n replicas on cfg's database with a short expiry period and a shared test
// clock, moves the clock over the thresholds of three tokens and checks that each notice is
// recorded exactly once; settle waits for more runs of the job before the final count.
func expiryScenario(t *testing.T, cfg app.Config, n int, settle func()) {
	start := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := testclock.New(start)
	ctx, cancel := context.WithCancel(context.Background())
	cfg.Addr, cfg.Migrate, cfg.Clock, cfg.Logger = "127.0.0.1:0", true, clock, quiet()
	cfg.ExpiryScan, cfg.JobPoll = 100*time.Millisecond, 20*time.Millisecond
	var replicas []*app.Main
	var running sync.WaitGroup
	for range n {
		m, err := app.Listen(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		replicas = append(replicas, m)
	}
	a := replicas[0]
	b, err := a.Service.Bootstrap(ctx, core.BootstrapInput{Email: "ops@example.com", Workspace: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.Service.Authenticate(ctx, b.APIKey)
	if err != nil {
		t.Fatal(err)
	}
	create := func(name string, in core.CreateTokenInput) string {
		t.Helper()
		in.Name, in.Scopes = name, []string{"tokens:read"}
		it, err := a.Service.CreateToken(ctx, p, in)
		if err != nil {
			t.Fatal(err)
		}
		return it.Token.ID
	}
	at := func(d time.Duration) *string { s := start.Add(d).Format(time.RFC3339); return &s }
	soon := create("soon", core.CreateTokenInput{ExpiresAt: at(2 * 24 * time.Hour)})
	later := create("later", core.CreateTokenInput{ExpiresAt: at(10 * 24 * time.Hour)})
	rotating := create("rotating", core.CreateTokenInput{RotationPeriod: new(int64(3 * 3600))})

	for _, m := range replicas {
		running.Go(func() {
			if err := m.Run(ctx); err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	defer func() {
		cancel()
		running.Wait()
		for _, m := range replicas {
			m.Close()
		}
	}()

	count := func(action, target string) int {
		t.Helper()
		_, _, n, err := a.Service.ListAuditEvents(ctx, p, core.ListAuditInput{Action: action, TargetID: target})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	type want struct {
		action, target string
		n              int
	}
	waitFor := func(wants ...want) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			done := true
			for _, w := range wants {
				if count(w.action, w.target) < w.n {
					done = false
				}
			}
			if done {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the expiry job did not record %v in time", wants)
			}
			time.Sleep(20 * time.Millisecond) // polls for the background job's progress; asserts no timing
		}
	}
	clock.Set(start.Add(150 * time.Minute)) // the rotating value (exp at +3h) is due a notice at +2h
	waitFor(want{core.ActionTokenExpiring, rotating, 1})
	clock.Set(start.Add(3*24*time.Hour + time.Hour)) // soon expired at +2d; later's 7-day notice at +3d
	waitFor(want{core.ActionTokenExpired, soon, 1}, want{core.ActionTokenExpiring, later, 1})

	// Let the job run several more times, on whichever replica, and race two direct scans.
	settle()
	var scans sync.WaitGroup
	for _, m := range replicas {
		scans.Go(func() {
			if n, err := m.Service.ScanExpiry(ctx); err != nil || n != 0 {
				t.Errorf("a direct scan recorded %d notices (%v), want 0", n, err)
			}
		})
	}
	scans.Wait()
	for _, w := range []want{
		{core.ActionTokenExpiring, rotating, 1}, {core.ActionTokenExpired, rotating, 0},
		{core.ActionTokenExpired, soon, 1}, {core.ActionTokenExpiring, soon, 0},
		{core.ActionTokenExpiring, later, 1}, {core.ActionTokenExpired, later, 0},
	} {
		if got := count(w.action, w.target); got != w.n {
			t.Errorf("%s events for %s = %d, want exactly %d", w.action, w.target, got, w.n)
		}
	}
}

// riverTable reads River's job table.
type riverTable struct{ db *sql.DB }

func riverJobs(t *testing.T, dbURL string) riverTable {
	db, err := sql.Open("postgres", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return riverTable{db}
}

// completed counts the expiry jobs River has completed.
func (r riverTable) completed(t *testing.T) int {
	t.Helper()
	var n int
	if err := r.db.QueryRow(`SELECT COUNT(*) FROM river_job WHERE kind = 'tooken.periodic' AND state = 'completed'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// waitCompleted waits until River has completed n expiry jobs.
func (r riverTable) waitCompleted(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for r.completed(t) < n {
		if time.Now().After(deadline) {
			t.Fatalf("River completed %d expiry jobs, want %d", r.completed(t), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
