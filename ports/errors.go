// Package ports holds Tooken's interfaces (the ports of the hexagon), the plain records they pass and
// the transport-neutral error codes. It is the leaf package: it imports only the standard library.
//
// In this project "ports" means the interfaces the core depends on and the adapters implement; it does
// not mean inbound handlers.
package ports

import (
	"errors"
	"fmt"
)

// Error codes. Every error that crosses a port carries one of them; adapters translate their library's
// errors at the boundary, and the HTTP adapter maps each code to a status in one table.
const (
	EINVALID       = "invalid"       // malformed or missing input (bad JSON, wrong type, bad length)
	EUNPROCESSABLE = "unprocessable" // well-formed input that breaks a rule (expiry in the past)
	ENOTFOUND      = "not_found"     // no such resource in the caller's workspace
	ECONFLICT      = "conflict"      // duplicate name, state that forbids the change
	EUNAUTHORIZED  = "unauthorized"  // missing, invalid, expired or revoked credential
	EFORBIDDEN     = "forbidden"     // valid credential lacking the permission
	ERATELIMITED   = "rate_limited"  // too many requests
	EUNAVAILABLE   = "unavailable"   // a dependency (the database) is down; try again
	EINTERNAL      = "internal"      // anything else; never shown to clients in detail
	ETOOLARGE      = "too_large"     // the request body exceeds the size limit
)

// Error is the one error type of the domain. Message is safe to show to the client.
type Error struct {
	Code    string
	Message string
	// Details lists field errors for EINVALID / EUNPROCESSABLE, keyed by field name.
	Details map[string]string
	// Scope is the permission that was missing, for EFORBIDDEN.
	Scope string
	// Err is the underlying cause, for logs only (never shown to clients).
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Internal wraps an unexpected error as EINTERNAL, keeping the cause for logs.
func Internal(err error) *Error {
	return &Error{Code: EINTERNAL, Message: "internal error", Err: err}
}

// ErrorCode returns the code of err: the Code of an *Error in its chain, "" for nil, EINTERNAL otherwise.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the client-safe message of err; unknown errors read "internal error".
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != EINTERNAL {
		return e.Message
	}
	return "internal error"
}

// Sentinel credential errors; core and adapters return them as they are so callers can use errors.Is.
var (
	// ErrMissingCredential: no usable bearer value at all, or an API key that is malformed or unknown.
	ErrMissingCredential = &Error{Code: EUNAUTHORIZED, Message: "Invalid or missing API key"}
	// ErrInvalidToken: a JWT that does not verify (signature, algorithm, type, issuer, unknown key…).
	ErrInvalidToken = &Error{Code: EUNAUTHORIZED, Message: "Invalid token"}
	// ErrTokenExpired: a genuine token whose expiry has passed.
	ErrTokenExpired = &Error{Code: EUNAUTHORIZED, Message: "Token has expired"}
	// ErrTokenRevoked: a genuine token that was revoked.
	ErrTokenRevoked = &Error{Code: EUNAUTHORIZED, Message: "Token has been revoked"}
	// ErrTokenRotated: a genuine value of a token that was rotated (and whose grace period is over).
	ErrTokenRotated = &Error{Code: EUNAUTHORIZED, Message: "Token value has been rotated"}
)
