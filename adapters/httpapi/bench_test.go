package httpapi_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// discardWriter is a ResponseWriter that keeps only the status, so that a benchmark measures the
// handler and not a recorder.
type discardWriter struct {
	header http.Header
	code   int
}

func (w *discardWriter) Header() http.Header         { return w.header }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }

// benchHandler serves req b.N times through the real handler (memory stores), failing on any answer
// other than want; body, when set, gives the body of the i-th request. It measures the API's own work
// per request — middleware, routing, authentication, the use case and the JSON answer — without a
// socket.
func benchHandler(b *testing.B, a *api, req *http.Request, want int, body func(i int) []byte) {
	b.Helper()
	w := &discardWriter{header: http.Header{}}
	rd := bytes.NewReader(nil)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		clear(w.header)
		w.code = http.StatusOK
		if body != nil {
			rd.Reset(body(i))
			req.Body = io.NopCloser(rd)
		}
		a.handler.ServeHTTP(w, req)
		if w.code != want {
			b.Fatalf("status %d, want %d", w.code, want)
		}
	}
}

// BenchmarkHandlerGetToken is the hot path of load scenario (1): GET /v1/tokens/{id} authenticated by
// the token itself.
func BenchmarkHandlerGetToken(b *testing.B) {
	a := newAPI(b)
	rec := a.serve(http.MethodGet, "/v1/tokens/"+a.tokenID, "", "Bearer "+a.token, nil)
	if rec.Code != http.StatusOK {
		b.Fatalf("GET: %d %s", rec.Code, rec.Body)
	}
	req := httptest.NewRequest(http.MethodGet, "/v1/tokens/"+a.tokenID, nil)
	req.Header.Set("Authorization", "Bearer "+a.token)
	benchHandler(b, a, req, http.StatusOK, nil)
}

// BenchmarkHandlerVerifyToken is load scenario (3): POST /v1/tokens/verify of a valid value.
func BenchmarkHandlerVerifyToken(b *testing.B) {
	a := newAPI(b)
	body := []byte(`{"token":"` + a.token + `"}`)
	req := httptest.NewRequest(http.MethodPost, "/v1/tokens/verify", nil)
	req.Header.Set("Content-Type", "application/json")
	benchHandler(b, a, req, http.StatusOK, func(int) []byte { return body })
}

// BenchmarkHandlerCreateToken is load scenario (2) without the database: POST /v1/tokens with an API
// key, each request naming a new token as the load harness does.
func BenchmarkHandlerCreateToken(b *testing.B) {
	a := newAPI(b)
	req := httptest.NewRequest(http.MethodPost, "/v1/tokens", nil)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+a.apiKey)
	var buf []byte
	benchHandler(b, a, req, http.StatusCreated, func(i int) []byte {
		buf = fmt.Appendf(buf[:0], `{"name":"bench-%d","scopes":["tokens:read"],"expires_at":"2031-01-01T00:00:00Z"}`, i)
		return buf
	})
}
