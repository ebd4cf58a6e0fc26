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
	mux := routes{ServeMux: http.NewServeMux(), s: s, schemas: bodySchemas()}
	strict := NewStrictHandlerWithOptions(s, nil, StrictHTTPServerOptions{
		RequestErrorHandlerFunc:  s.errs.requestError,
		ResponseErrorHandlerFunc: s.errs.write,
	})
	HandlerWithOptions(strict, StdHTTPServerOptions{BaseRouter: mux, ErrorHandlerFunc: s.errs.requestError})
	mux.HandleFunc("GET /openapi.yaml", serveSpec)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { s.errs.write(w, r, notFoundRoute(r)) })
	return s.withRequest(s.withAuth(s.withExactFields(mux)))
}

func defaultInt(v, d int) int {
	if v <= 0 {
		return d
	}
	return v
}

// routes is the API's mux: a route whose operation takes a JSON body (schemas: pattern → body
// schema) first passes that body through strictBody. Unknown routes, and known paths with another
// method, get the standard error body from the catch-all "/" instead of the mux's plain text.
type routes struct {
	*http.ServeMux
	s       *Server
	schemas map[string]*openapi3.Schema
}

// HandleFunc implements the generated code's ServeMux.
func (m routes) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	schema, ok := m.schemas[pattern]
	if !ok {
		m.ServeMux.HandleFunc(pattern, h)
		return
	}
	m.ServeMux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody && !m.s.strictBody(w, r, schema) {
			return
		}
		h(w, r)
	})
}

func notFoundRoute(r *http.Request) error {
	return ports.Errorf(ports.ENOTFOUND, "No route for %s %s", r.Method, truncateMsg(r.URL.Path))
}

func serveSpec(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write(tooken.OpenAPI)
}
