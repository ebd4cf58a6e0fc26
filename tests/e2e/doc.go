// Package e2e holds Tooken's end-to-end tests: each test starts the real server (app.Listen + Run on
// 127.0.0.1:0) against a fresh PostgreSQL database — or, for the README quickstart, embedded SQLite —
// with an injected test clock, and talks to it over real HTTP only. The package has no non-test code.
//
// Run: TOOKEN_TEST_DATABASE_URL='postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable' go test -race ./tests/e2e/
package e2e
