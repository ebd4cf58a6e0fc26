package httpapi

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tooken/tooken/adapters/ratelimit"
	"github.com/tooken/tooken/core"
	"github.com/tooken/tooken/ports"
)

type stateKey struct{}

// requestState is what the middleware learns of a request, in its context under one key (one
// context and one request copy per request): the id from withRequest, then the principal withAuth
// authenticated, set in place before the handlers run.
type requestState struct {
	id        string
	principal *core.Principal
}

func stateOf(ctx context.Context) *requestState {
	st, _ := ctx.Value(stateKey{}).(*requestState)
	if st == nil {
		return &requestState{}
	}
	return st
}

func requestID(ctx context.Context) string { return stateOf(ctx).id }

func principal(ctx context.Context) *core.Principal { return stateOf(ctx).principal }

// maxBody bounds every request body.
const maxBody = 1 << 20

// withRequest assigns the request id, bounds the body, records request metadata for audit events and
// turns panics into 500s with the standard body.
func (s *Server) withRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 64 || strings.ContainsFunc(id, func(c rune) bool { return c < '!' || c > '~' }) {
			id = newRequestID()
		}
		w.Header()[headerRequestID] = []string{id}
		ctx := context.WithValue(r.Context(), stateKey{}, &requestState{id: id})
		ctx = core.WithRequestMeta(ctx, core.RequestMeta{IP: clientIP(r), UserAgent: truncateMsg(r.UserAgent()), RequestID: id})
		r = r.WithContext(ctx)
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.errs.write(w, r, ports.Internal(panicError{v}))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// requestIDAlphabet is lower-case base32 (RFC 4648's letters and digits 2–7).
const requestIDAlphabet = "abcdefghijklmnopqrstuvwxyz234567"

// newRequestID makes the id of a request that came without a usable X-Request-Id: "req_" and 20
// characters, 100 random bits. An id correlates a request with its logs and audit events and guards
// nothing, so it comes from math/rand/v2's generator (seeded by the runtime, no system call) rather
// than crypto/rand, whose read and formatting cost 2 % of the server's CPU on a cached GET.
func newRequestID() string {
	var b [24]byte
	copy(b[:], "req_")
	for i, r := 4, rand.Uint64(); i < len(b); i++ {
		if i == 16 {
			r = rand.Uint64()
		}
		b[i] = requestIDAlphabet[r&31]
		r >>= 5
	}
	return string(b[:])
}

type panicError struct{ v any }

func (p panicError) Error() string {
	return "panic: " + strings.TrimSpace(strings.ReplaceAll(fmt.Sprint(p.v), "\n", " "))
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// withAuth authenticates every /v1 request except verify (POST; any other method on that path is a
// token route: GET /v1/tokens/{id} with id "verify"), then applies the workspace's rate limit.
// Unauthenticated /v1 calls (verify) are limited per client IP. Repeated authentication failures from
// one IP are refused before any lookup so credentials cannot be guessed.
func (s *Server) withAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/v1/") {
			next.ServeHTTP(w, r)
			return
		}
		ip := clientIP(r)
		if r.Method == http.MethodPost && r.URL.Path == "/v1/tokens/verify" {
			if !s.limit(w, r, s.ipLimiter.Take("ip:"+ip)) {
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		if q := s.failLimiter.Peek(ip); !q.Allowed {
			s.limit(w, r, q)
			return
		}
		p, err := s.svc.Authenticate(r.Context(), bearerValue(r.Header.Get("Authorization")))
		if err != nil {
			if ports.ErrorCode(err) == ports.EUNAUTHORIZED {
				setQuotaHeaders(w, s.failLimiter.Take(ip))
			}
			s.errs.write(w, r, err)
			return
		}
		if !s.limit(w, r, s.wsLimiter.Take(p.WorkspaceID)) {
			return
		}
		if st, ok := r.Context().Value(stateKey{}).(*requestState); ok {
			st.principal = p
		} else {
			r = r.WithContext(context.WithValue(r.Context(), stateKey{}, &requestState{principal: p}))
		}
		next.ServeHTTP(w, r)
	})
}

// bearerValue returns the credential of an `Authorization: Bearer …` header, or "" if there is none.
func bearerValue(h string) string {
	scheme, value, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(value)
}

// The canonical forms of the headers every request gets, assigned directly so that no request
// canonicalizes them again (on the wire: X-RateLimit-Limit, …, as the spec spells them, since header
// names are case-insensitive).
const (
	headerRequestID      = "X-Request-Id"
	headerLimit          = "X-Ratelimit-Limit"
	headerLimitRemaining = "X-Ratelimit-Remaining"
	headerLimitReset     = "X-Ratelimit-Reset"
)

func setQuotaHeaders(w http.ResponseWriter, q ratelimit.Quota) {
	v := []string{strconv.Itoa(q.Limit), strconv.Itoa(q.Remaining), strconv.FormatInt(q.Reset.Unix(), 10)}
	h := w.Header()
	h[headerLimit], h[headerLimitRemaining], h[headerLimitReset] = v[0:1:1], v[1:2:2], v[2:3:3]
}

// limit writes the rate-limit headers and, when q is spent, the 429 answer; it reports whether the
// request may go on.
func (s *Server) limit(w http.ResponseWriter, r *http.Request, q ratelimit.Quota) bool {
	setQuotaHeaders(w, q)
	if q.Allowed {
		return true
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(q.RetryAfter/time.Second)))
	s.errs.write(w, r, ports.Errorf(ports.ERATELIMITED, "Rate limit exceeded; retry in %d s", int(q.RetryAfter/time.Second)))
	return false
}
