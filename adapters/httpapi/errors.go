package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"

	"github.com/tooken/tooken/ports"
)

// statusOf is the one table mapping domain error codes to HTTP statuses and API error codes.
var statusOf = map[string]struct {
	status int
	code   ErrorError
}{
	ports.EINVALID:       {http.StatusBadRequest, ErrorErrorBadRequest},
	ports.EUNAUTHORIZED:  {http.StatusUnauthorized, ErrorErrorUnauthorized},
	ports.EFORBIDDEN:     {http.StatusForbidden, ErrorErrorForbidden},
	ports.ENOTFOUND:      {http.StatusNotFound, ErrorErrorNotFound},
	ports.ECONFLICT:      {http.StatusConflict, ErrorErrorConflict},
	ports.EUNPROCESSABLE: {http.StatusUnprocessableEntity, ErrorErrorUnprocessableEntity},
	ports.ERATELIMITED:   {http.StatusTooManyRequests, ErrorErrorRateLimited},
	ports.EUNAVAILABLE:   {http.StatusServiceUnavailable, ErrorErrorUnavailable},
	ports.EINTERNAL:      {http.StatusInternalServerError, ErrorErrorInternalError},
	ports.ETOOLARGE:      {http.StatusRequestEntityTooLarge, ErrorErrorPayloadTooLarge},
}

// unavailableRetryAfter is what a 503 tells clients to wait.
const unavailableRetryAfter = "5"

// errorWriter renders every failure with the spec's error body; unknown errors are logged with the
// request id and shown only as "internal error".
type errorWriter struct {
	log *slog.Logger
}

func (ew errorWriter) write(w http.ResponseWriter, r *http.Request, err error) {
	var pe *ports.Error
	if !errors.As(err, &pe) {
		pe = ports.Internal(err)
	}
	entry, ok := statusOf[pe.Code]
	if !ok {
		entry = statusOf[ports.EINTERNAL]
	}
	reqID := requestID(r.Context())
	msg := pe.Message
	switch entry.status {
	case http.StatusInternalServerError, http.StatusServiceUnavailable:
		ew.log.ErrorContext(r.Context(), "request failed", "request_id", reqID, "method", r.Method,
			"path", r.URL.Path, "code", pe.Code, "error", err)
		if entry.status == http.StatusInternalServerError {
			msg = "internal error"
		}
	}
	h := w.Header()
	switch entry.status {
	case http.StatusUnauthorized:
		h.Set("WWW-Authenticate", `Bearer realm="tooken", error="invalid_token"`)
	case http.StatusForbidden:
		challenge := `Bearer realm="tooken", error="insufficient_scope"`
		if pe.Scope != "" {
			challenge += fmt.Sprintf(`, scope=%q`, pe.Scope)
		}
		h.Set("WWW-Authenticate", challenge)
	case http.StatusServiceUnavailable:
		h.Set("Retry-After", unavailableRetryAfter)
	}
	body := Error{Error: entry.code, Message: msg, Status: entry.status, RequestId: reqID}
	if len(pe.Details) > 0 && entry.status < 500 {
		d := pe.Details
		body.Details = &d
	}
	writeJSON(w, entry.status, body)
}

// requestError renders a request the generated code could not decode (bad JSON, bad parameter).
func (ew errorWriter) requestError(w http.ResponseWriter, r *http.Request, err error) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		ew.write(w, r, ports.Errorf(ports.ETOOLARGE, "request body exceeds %d bytes", tooBig.Limit))
		return
	}
	ew.write(w, r, decodeError(err))
}

// decodeError describes a body or parameter the generated code could not decode without exposing
// Go type names.
func decodeError(err error) *ports.Error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field != "":
		msg := fmt.Sprintf("%s must be %s", typeErr.Field, jsonKind(typeErr.Type.Kind()))
		return &ports.Error{Code: ports.EINVALID, Message: msg, Details: map[string]string{typeErr.Field: msg}}
	case errors.As(err, &typeErr):
		return ports.Errorf(ports.EINVALID, "request body must be a JSON object")
	case errors.As(err, &syntaxErr):
		return ports.Errorf(ports.EINVALID, "request body is not valid JSON (at byte %d)", syntaxErr.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return ports.Errorf(ports.EINVALID, "request body is not valid JSON (it ends too early)")
	}
	return &ports.Error{Code: ports.EINVALID, Message: truncateMsg(err.Error())}
}

func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	default:
		return "an object"
	}
}

func truncateMsg(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"internal_error","message":"internal error","status":500,"request_id":""}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
