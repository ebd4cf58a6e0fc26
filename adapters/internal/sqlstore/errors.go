package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"

	"github.com/tooken/tooken/ports"
)

// wrap translates a database error into a ports error: no rows → ENOTFOUND with notFound, a unique
// violation → ECONFLICT with conflict, an unreachable database → EUNAVAILABLE, anything else →
// EINTERNAL. A ports error passes through unchanged, so wrap may be applied more than once.
func (db *DB) wrap(err error, notFound, conflict string) error {
	if err == nil {
		return nil
	}
	var pe *ports.Error
	if errors.As(err, &pe) {
		return err
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return &ports.Error{Code: ports.ENOTFOUND, Message: orDefault(notFound, "not found"), Err: err}
	case db.d.IsUnique(err):
		return &ports.Error{Code: ports.ECONFLICT, Message: orDefault(conflict, "already exists"), Err: err}
	case IsUnavailable(err) || db.d.IsUnavailable(err):
		return &ports.Error{Code: ports.EUNAVAILABLE, Message: "database unavailable", Err: err}
	}
	return ports.Internal(err)
}

// IsUnavailable reports whether err is a dialect-neutral sign that the database cannot be reached:
// a broken or closed connection, a network error, or a deadline that expired while waiting on it.
func IsUnavailable(err error) bool {
	var ne net.Error
	return errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF) ||
		errors.As(err, &ne) ||
		err.Error() == "sql: database is closed" ||
		err.Error() == "sql: statement is closed" // a cached statement, closed with the database
}

func notFoundErr(msg string) error {
	return &ports.Error{Code: ports.ENOTFOUND, Message: msg}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
