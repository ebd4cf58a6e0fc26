// Package httpapi is the HTTP adapter: the handlers of the generated strict server (from openapi.yaml)
// calling the core use cases, authentication and rate limiting, and the one error table.
package httpapi

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	tooken "github.com/tooken/tooken"
	"github.com/tooken/tooken/adapters/ratelimit"
	"github.com/tooken/tooken/core"
	"github.com/tooken/tooken/ports"
)

// Options configures the HTTP adapter.
type Options struct {
	Logger *slog.Logger
	// RateLimit is the requests allowed per minute per workspace (default 1000).
	RateLimit int
	// IPRateLimit is the unauthenticated requests (verify) allowed per minute per client IP (default 600).
	IPRateLimit int
	// AuthFailureLimit is the failed authentications allowed per minute per client IP (default 60).
	AuthFailureLimit int
	// JWKSMaxAge is the Cache-Control max-age of the issuer documents (default 5 minutes).
	JWKSMaxAge time.Duration
	// Heartbeat is the interval of revocation-stream heartbeats (default 15 s).
	Heartbeat time.Duration
	// Done ends every open revocation stream when closed (graceful shutdown would otherwise wait
	// for them until its timeout).
	Done <-chan struct{}
}

// Server implements the generated StrictServerInterface on top of core.Service.
type Server struct {
	svc         *core.Service
	errs        errorWriter
	wsLimiter   *ratelimit.Limiter
	ipLimiter   *ratelimit.Limiter
	failLimiter *ratelimit.Limiter
	jwksMaxAge  time.Duration
	heartbeat   time.Duration
	done        <-chan struct{}
}

var _ StrictServerInterface = (*Server)(nil)

// New returns the HTTP handler serving the whole API.
func New(svc *core.Service, opt Options) http.Handler {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	opt.RateLimit = defaultInt(opt.RateLimit, 1000)
	opt.IPRateLimit = defaultInt(opt.IPRateLimit, 600)
	opt.AuthFailureLimit = defaultInt(opt.AuthFailureLimit, 60)
	if opt.JWKSMaxAge <= 0 {
		opt.JWKSMaxAge = 5 * time.Minute
	}
	if opt.Heartbeat <= 0 {
		opt.Heartbeat = 15 * time.Second
	}
	s := &Server{
		svc:         svc,
		errs:        errorWriter{log: opt.Logger},
		wsLimiter:   ratelimit.New(opt.RateLimit, time.Minute),
		ipLimiter:   ratelimit.New(opt.IPRateLimit, time.Minute),
		failLimiter: ratelimit.New(opt.AuthFailureLimit, time.Minute),
		jwksMaxAge:  opt.JWKSMaxAge,
		heartbeat:   opt.Heartbeat,
		done:        opt.Done,
	}
	mux := http.NewServeMux()
	strict := NewStrictHandlerWithOptions(s, nil, StrictHTTPServerOptions{
		RequestErrorHandlerFunc:  s.errs.requestError,
		ResponseErrorHandlerFunc: s.errs.write,
	})
	HandlerWithOptions(strict, StdHTTPServerOptions{BaseRouter: mux, ErrorHandlerFunc: s.errs.requestError})
	mux.HandleFunc("GET /openapi.yaml", serveSpec)
	return s.withRequest(s.withAuth(s.withExactFields(s.routed(mux, bodySchemas()))))
}

func defaultInt(v, d int) int {
	if v <= 0 {
		return d
	}
	return v
}

// routed serves a request through mux once its route is known (one lookup before the mux's own):
// an unknown route gets the standard error body instead of the mux's plain text, and a JSON body of
// a route in schemas (pattern → body schema) must first pass strictBody.
func (s *Server) routed(mux *http.ServeMux, schemas map[string]*openapi3.Schema) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, pattern := mux.Handler(r)
		if pattern == "" {
			s.errs.write(w, r, notFoundRoute(r))
			return
		}
		if schema, ok := schemas[pattern]; ok && r.Body != nil && r.Body != http.NoBody && !s.strictBody(w, r, schema) {
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func notFoundRoute(r *http.Request) error {
	return ports.Errorf(ports.ENOTFOUND, "No route for %s %s", r.Method, truncateMsg(r.URL.Path))
}

func serveSpec(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write(tooken.OpenAPI)
}
