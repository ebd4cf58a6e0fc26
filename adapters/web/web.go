// Package web is the dashboard: server-rendered html/template pages with embedded assets. Every
// action calls the same core use case as the API, as a user principal built from the session and the
// account's membership, so roles and audit events are identical.
package web

import (
	"cmp"
	"crypto/subtle"
	"embed"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/tooken/tooken/adapters/ratelimit"
	"github.com/tooken/tooken/core"
	"github.com/tooken/tooken/ports"
)

//go:embed templates static
var assets embed.FS

// Options configures the dashboard.
type Options struct {
	Logger *slog.Logger
	// PublicURL decides whether cookies are Secure (https); requests over TLS always get Secure cookies.
	PublicURL string
	// LoginLimit is the failed sign-ins allowed per LoginWindow per client IP and per email (10 / 15 min).
	LoginLimit  int
	LoginWindow time.Duration
	// Now is the limiter's clock (default: the service clock).
	Now func() time.Time
}

// Server serves the dashboard.
type Server struct {
	svc       *core.Service
	log       *slog.Logger
	secure    bool
	pages     map[string]*pageTemplate
	ipLimit   *ratelimit.Limiter
	mailLimit *ratelimit.Limiter
}

// New returns the dashboard handler. Mount it on "/" next to the API.
func New(svc *core.Service, opt Options) http.Handler {
	s := &Server{svc: svc, log: cmp.Or(opt.Logger, slog.Default()), secure: strings.HasPrefix(opt.PublicURL, "https://")}
	now := opt.Now
	if now == nil {
		now = svc.Now
	}
	limit, window := cmp.Or(opt.LoginLimit, 10), cmp.Or(opt.LoginWindow, 15*time.Minute)
	s.ipLimit = ratelimit.New(limit, window).WithClock(now)
	s.mailLimit = ratelimit.New(limit, window).WithClock(now)
	s.pages = parsePages()
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.FileServerFS(assets))
	mux.HandleFunc("GET /docs", s.docs)
	mux.HandleFunc("GET /{$}", s.home)
	s.authRoutes(mux)
	s.workspaceRoutes(mux)
	s.tokenRoutes(mux)
	s.auditRoutes(mux)
	s.settingsRoutes(mux)
	s.apiKeyRoutes(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { s.notFound(w, r, nil) })
	return http.NewCrossOriginProtection().Handler(s.withMeta(mux))
}

// withMeta adds the request's client IP and user agent to the context, for audit events.
func (s *Server) withMeta(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Referrer-Policy", "same-origin")
		ctx := core.WithRequestMeta(r.Context(), core.RequestMeta{IP: clientIP(r), UserAgent: truncate(r.UserAgent(), 500)})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// req is one dashboard request of a signed-in account, in a workspace when the URL names one.
type req struct {
	w    http.ResponseWriter
	r    *http.Request
	sess *ports.Session
	p    *core.Principal  // nil outside a workspace
	ws   *ports.Workspace // nil outside a workspace
}

// signedIn wraps a handler that needs a session: no or an expired session redirects to sign-in;
// a POST must carry the session's CSRF token.
func (s *Server) signedIn(h func(*req)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess, err := s.svc.Session(r.Context(), s.cookie(r))
		if err != nil {
			if ports.ErrorCode(err) != ports.EUNAUTHORIZED {
				s.fail(w, r, err)
				return
			}
			s.clearCookie(w, r)
			http.Redirect(w, r, "/signin?next="+urlQuery(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost && !sameToken(r.PostFormValue("csrf_token"), sess.CSRFToken) {
			s.forbidden(w, r, "The form has expired or did not come from this site. Reload the page and try again.")
			return
		}
		h(&req{w: w, r: r, sess: sess})
	}
}

// inWorkspace wraps a handler of /app/{ws}/…: an account that is not a member of ws gets 404.
func (s *Server) inWorkspace(h func(*req)) http.HandlerFunc {
	return s.signedIn(func(q *req) {
		p, err := s.svc.SessionPrincipal(q.r.Context(), q.sess, q.r.PathValue("ws"))
		if err != nil {
			s.fail(q.w, q.r, err)
			return
		}
		ws, err := s.svc.GetWorkspace(q.r.Context(), p)
		if err != nil {
			s.fail(q.w, q.r, err)
			return
		}
		q.p, q.ws = p, ws
		h(q)
	})
}

func sameToken(got, want string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// fail renders err as a page: ENOTFOUND → 404, EFORBIDDEN → 403, anything unexpected → 500 (logged).
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch ports.ErrorCode(err) {
	case ports.ENOTFOUND:
		s.notFound(w, r, err)
	case ports.EFORBIDDEN:
		s.forbidden(w, r, ports.ErrorMessage(err))
	case ports.EUNAVAILABLE:
		s.errorPage(w, r, http.StatusServiceUnavailable, "Temporarily unavailable", "Please try again in a moment.")
	default:
		var pe *ports.Error
		if errors.As(err, &pe) && pe.Code != ports.EINTERNAL {
			s.errorPage(w, r, http.StatusBadRequest, "Request refused", ports.ErrorMessage(err))
			return
		}
		s.log.Error("dashboard", "path", r.URL.Path, "error", err)
		s.errorPage(w, r, http.StatusInternalServerError, "Something went wrong", "An internal error occurred.")
	}
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request, _ error) {
	s.errorPage(w, r, http.StatusNotFound, "Not found", "There is nothing here, or you do not have access to it.")
}

func (s *Server) forbidden(w http.ResponseWriter, r *http.Request, msg string) {
	s.errorPage(w, r, http.StatusForbidden, "Not allowed", msg)
}

func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	s.render(w, r, status, "error", &view{Title: title, Error: msg})
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	if _, err := s.svc.Session(r.Context(), s.cookie(r)); err == nil {
		http.Redirect(w, r, "/app", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}
