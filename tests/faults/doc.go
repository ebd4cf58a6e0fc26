// Package faults holds Tooken's fault drills: the real server on PostgreSQL while its database
// disappears behind a TCP proxy, while it is killed with SIGKILL or stopped with SIGTERM as a child
// process, and while one of two replicas dies under load. Each drill checks what must survive: no
// hang, no 500, no half-written state, no missed revocation. The package has no non-test code.
//
// Run: TOOKEN_TEST_DATABASE_URL='postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable' go test -race ./tests/faults/
package faults
