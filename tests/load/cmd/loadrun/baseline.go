package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// Files in the work directory holding the bodies the baseline answers with: the server's own answers
// to GET /v1/tokens/{id} and POST /v1/tokens/verify, captured before the run.
const (
	getBodyFile    = "get.json"
	verifyBodyFile = "verify.json"
)

// serveBaseline is the baseline process (`loadrun -baseline ADDR -workdir DIR`): a bare net/http
// handler answering the same JSON bytes as the server, with no authentication and no database.
// It runs in a process of its own so that it competes for the CPU as the server does.
func serveBaseline(addr, dir string) error {
	getBody, err := os.ReadFile(filepath.Join(dir, getBodyFile))
	if err != nil {
		return err
	}
	verifyBody, err := os.ReadFile(filepath.Join(dir, verifyBodyFile))
	if err != nil {
		return err
	}
	answer := func(body []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(body)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("GET /v1/tokens/{id}", answer(getBody))
	mux.Handle("POST /v1/tokens/verify", answer(verifyBody))
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return srv.ListenAndServe()
}
