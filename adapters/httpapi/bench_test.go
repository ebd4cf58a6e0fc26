package httpapi_test

import (
	"bytes"
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
// other than 200; body, when set, is sent afresh each time. It measures the API's own work per
// request — middleware, routing, authentication, the use case and the JSON answer — without a socket.
func benchHandler(b *testing.B, a *api, req *http.Request, body []byte) {
	b.Helper()
	w := &discardWriter{header: http.Header{}}
	rd := bytes.NewReader(body)
	b.ReportAllocs()
	for b.Loop() {
		clear(w.header)
		w.code = http.StatusOK
		if body != nil {
			rd.Reset(body)
			req.Body = io.NopCloser(rd)
		}
		a.handler.ServeHTTP(w, req)
		if w.code != http.StatusOK {
			b.Fatalf("status %d", w.code)
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
	benchHandler(b, a, req, nil)
}

// BenchmarkHandlerVerifyToken is load scenario (3): POST /v1/tokens/verify of a valid value.
func BenchmarkHandlerVerifyToken(b *testing.B) {
	a := newAPI(b)
	body := []byte(`{"token":"` + a.token + `"}`)
	req := httptest.NewRequest(http.MethodPost, "/v1/tokens/verify", nil)
	req.Header.Set("Content-Type", "application/json")
	benchHandler(b, a, req, body)
}
