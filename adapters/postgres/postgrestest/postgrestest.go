// Package postgrestest gives tests a fresh, empty PostgreSQL database.
//
// It uses the server at TOOKEN_TEST_DATABASE_URL when set (CI sets it); otherwise it starts one
// PostgreSQL container per test process with testcontainers-go when a Docker engine is reachable
// (testcontainers' reaper removes it when the process exits). Without either, tests are skipped —
// except under CI=true, where a missing database is a failure, never a silent skip.
package postgrestest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	_ "github.com/lib/pq" // the postgres driver
	"github.com/testcontainers/testcontainers-go"
	tcpostgres "github.com/testcontainers/testcontainers-go/modules/postgres"
)

// EnvDatabaseURL names the variable holding the URL of a server tests may create databases on.
const EnvDatabaseURL = "TOOKEN_TEST_DATABASE_URL"

// image is the PostgreSQL image started when no server is configured.
const image = "postgres:16-alpine"

// NewDatabase creates a dedicated, empty database named tooken_t_<random> and returns its URL; the
// database is dropped when the test ends.
func NewDatabase(t testing.TB) string {
	t.Helper()
	admin := serverURL(t)
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("postgrestest: %s must be a postgres:// URL", EnvDatabaseURL)
	}
	name := "tooken_t_" + randomHex(8)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := execAdmin(ctx, admin, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("postgrestest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := execAdmin(ctx, admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("postgrestest: drop database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// serverURL returns the URL of a server to create databases on, or ends the test.
func serverURL(t testing.TB) string {
	t.Helper()
	if v := os.Getenv(EnvDatabaseURL); v != "" {
		return v
	}
	if err := dockerReachable(); err != nil {
		msg := fmt.Sprintf("postgrestest: no PostgreSQL: %s is unset and no Docker engine is reachable (%v)", EnvDatabaseURL, err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg + "; set " + EnvDatabaseURL + "=postgres://user@host:5432/postgres?sslmode=disable to run these tests")
	}
	container.once.Do(func() { container.url, container.err = startContainer() })
	if container.err != nil {
		t.Fatalf("postgrestest: start PostgreSQL container: %v", container.err)
	}
	return container.url
}

// container is the one PostgreSQL container of this test process.
var container struct {
	once sync.Once
	url  string
	err  error
}

func startContainer() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ctr, err := tcpostgres.Run(ctx, image, tcpostgres.BasicWaitStrategies())
	if err != nil {
		if ctr != nil {
			_ = testcontainers.TerminateContainer(ctr)
		}
		return "", err
	}
	return ctr.ConnectionString(ctx, "sslmode=disable")
}

// dockerReachable reports why no Docker engine can be used, or nil; testcontainers panics in some
// misconfigurations, so a panic counts as unreachable.
func dockerReachable() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	p, err := testcontainers.ProviderDefault.GetProvider()
	if err != nil {
		return err
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return p.Health(ctx)
}

func execAdmin(ctx context.Context, dsn, stmt string) error {
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, stmt)
	return err
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Querier is what Strings queries: a *sql.DB, *sql.Conn or *sql.Tx.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Strings runs a query returning one text column and collects it, failing t on any error (within
// 20 s).
func Strings(t testing.TB, q Querier, query string, args ...any) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		t.Fatal(err)
	}
	return out
}
