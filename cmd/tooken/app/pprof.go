package app

import (
	"encoding/json"
	"errors"
	"expvar"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"time"

	"github.com/tooken/tooken/internal/gcfloor"
)

// listenPprof binds the opt-in profiling listener (TOOKEN_PPROF_ADDR). It serves the pprof profiles
// under /debug/pprof/ and the runtime's memory statistics and live heap as JSON at /debug/vars, on
// loopback only: profiles reveal internals and are never exposed beside the API.
func listenPprof(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("TOOKEN_PPROF_ADDR: %w", err)
	}
	if host != "localhost" {
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			return nil, errors.New("TOOKEN_PPROF_ADDR must be a loopback address (127.0.0.1:PORT, [::1]:PORT or localhost:PORT)")
		}
	}
	return net.Listen("tcp", addr)
}

// createLoad is what a store tells of its batches of token creates (both SQL stores do).
type createLoad interface {
	CreateLoad() (batches, creates uint64, busy time.Duration)
}

// createLoadHandler answers the store's counts of batches of token creates as JSON: batches
// written, creates they held, and the seconds spent writing them. The load harness reads it around
// a step to tell how occupied the write path of creates was.
func createLoadHandler(s createLoad) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		batches, creates, busy := s.CreateLoad()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"batches": batches, "creates": creates, "busy_seconds": busy.Seconds()})
	}
}

// pprofServer serves what listenPprof promises on its own mux (not http.DefaultServeMux), and the
// store's create batches at /debug/creates when it counts them.
func pprofServer(st store) *http.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	publishLiveHeap()
	mux.Handle("/debug/vars", expvar.Handler())
	if cl, ok := st.(createLoad); ok {
		mux.Handle("/debug/creates", createLoadHandler(cl))
	}
	return &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
}

// publishLiveHeap adds heap_live_bytes to /debug/vars, once per process: the heap the last collection
// found live. Unlike memstats' HeapAlloc it holds no garbage, so a leak shows in it without the
// collector's sawtooth (tens of MB under the heap-target floor of tooken serve).
var publishLiveHeap = sync.OnceFunc(func() {
	expvar.Publish("heap_live_bytes", expvar.Func(func() any { return gcfloor.LiveHeap() }))
})

// PprofAddr is the address the profiling listener is bound to, or "" when it is off.
func (m *Main) PprofAddr() string {
	if m.pprofLn == nil {
		return ""
	}
	return m.pprofLn.Addr().String()
}
