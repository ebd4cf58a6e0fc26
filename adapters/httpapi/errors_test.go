package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tooken/tooken/ports"
)

func errorBody(t *testing.T, rec *httptest.ResponseRecorder) Error {
	t.Helper()
	var e Error
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
		t.Fatalf("body %q: %v", rec.Body, err)
	}
	return e
}

func TestEveryDomainCodeMapsToItsDocumentedStatus(t *testing.T) {
	ew := errorWriter{log: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))}
	for code, want := range map[string]int{
		ports.EINVALID: 400, ports.EUNAUTHORIZED: 401, ports.EFORBIDDEN: 403, ports.ENOTFOUND: 404,
		ports.ECONFLICT: 409, ports.EUNPROCESSABLE: 422, ports.ERATELIMITED: 429,
		ports.EINTERNAL: 500, ports.EUNAVAILABLE: 503, ports.ETOOLARGE: 413, "made_up": 500,
	} {
		rec := httptest.NewRecorder()
		ew.write(rec, httptest.NewRequest("GET", "/v1/tokens", nil), &ports.Error{Code: code, Message: "m"})
		if rec.Code != want || errorBody(t, rec).Status != want {
			t.Errorf("%s → %d, want %d", code, rec.Code, want)
		}
	}
}

func TestUnknownErrorsAreLoggedWithTheRequestIDButNeverShown(t *testing.T) {
	var logs bytes.Buffer
	s := &Server{errs: errorWriter{log: slog.New(slog.NewTextHandler(&logs, nil))}}
	h := s.withRequest(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.errs.write(w, r, errors.New("pq: password authentication failed for secret-detail"))
	}))
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/v1/tokens", nil)
	req.Header.Set("X-Request-Id", "req_test42")
	h.ServeHTTP(rec, req)
	e := errorBody(t, rec)
	if rec.Code != 500 || e.Message != "internal error" || e.RequestId != "req_test42" || strings.Contains(rec.Body.String(), "secret-detail") {
		t.Fatalf("500 body leaks or lacks fields: %s", rec.Body)
	}
	if !strings.Contains(logs.String(), "req_test42") || !strings.Contains(logs.String(), "secret-detail") {
		t.Fatalf("the log must keep the cause with the request id: %s", logs.String())
	}
}

func TestPanicsBecomeTheStandardInternalError(t *testing.T) {
	s := &Server{errs: errorWriter{log: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))}}
	h := s.withRequest(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/tokens", nil))
	if e := errorBody(t, rec); rec.Code != 500 || e.Error != ErrorErrorInternalError || e.RequestId == "" {
		t.Fatalf("panic answered %d %s", rec.Code, rec.Body)
	}
}

func TestUnauthorizedAndForbiddenCarryTheirChallenges(t *testing.T) {
	ew := errorWriter{log: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))}
	rec := httptest.NewRecorder()
	ew.write(rec, httptest.NewRequest("GET", "/", nil), ports.ErrTokenExpired)
	if got := rec.Header().Get("WWW-Authenticate"); got != `Bearer realm="tooken", error="invalid_token"` {
		t.Fatalf("401 challenge %q", got)
	}
	if e := errorBody(t, rec); e.Message != "Token has expired" {
		t.Fatalf("401 message %q", e.Message)
	}
	rec = httptest.NewRecorder()
	ew.write(rec, httptest.NewRequest("GET", "/", nil), &ports.Error{Code: ports.EFORBIDDEN, Message: "m", Scope: "tokens:write"})
	if got := rec.Header().Get("WWW-Authenticate"); got != `Bearer realm="tooken", error="insufficient_scope", scope="tokens:write"` {
		t.Fatalf("403 challenge %q", got)
	}
	rec = httptest.NewRecorder()
	ew.write(rec, httptest.NewRequest("GET", "/", nil), &ports.Error{Code: ports.EUNAVAILABLE, Message: "database unavailable"})
	if rec.Header().Get("Retry-After") == "" {
		t.Fatal("503 without Retry-After")
	}
}
