package verify

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
)

type claimsKey struct{}

// ContextWithClaims returns a copy of ctx carrying c, as Middleware does; useful in handler tests.
func ContextWithClaims(ctx context.Context, c *Claims) context.Context {
	return context.WithValue(ctx, claimsKey{}, c)
}

// ClaimsFromContext returns the claims Middleware put in the request context.
func ClaimsFromContext(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*Claims)
	return c, ok && c != nil
}

// Middleware protects a handler: the request must carry "Authorization: Bearer <token>" with a token
// that verifies and holds every one of requiredScopes. Otherwise it answers 401 (no or invalid
// token), 403 (insufficient scope) or 503 (revocation feed stale, see WithMaxStaleness), with a
// WWW-Authenticate challenge (RFC 6750) and a JSON body {"error", "message"}. On success the claims
// are available to the handler through ClaimsFromContext.
func (v *Verifier) Middleware(requiredScopes ...string) func(http.Handler) http.Handler {
	required := append([]string(nil), requiredScopes...)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			token, ok := bearer(r.Header.Get("Authorization"))
			if !ok {
				deny(w, http.StatusUnauthorized, `Bearer realm="tooken"`, "unauthorized", "bearer token required")
				return
			}
			c, err := v.Verify(r.Context(), token)
			switch {
			case errors.Is(err, ErrStaleFeed):
				w.Header().Set("Retry-After", "5")
				deny(w, http.StatusServiceUnavailable, "", "unavailable", "token revocation status unavailable")
				return
			case err != nil:
				deny(w, http.StatusUnauthorized, `Bearer realm="tooken", error="invalid_token"`, "unauthorized", publicMessage(err))
				return
			}
			if missing := c.missingScopes(required); len(missing) > 0 {
				challenge := `Bearer realm="tooken", error="insufficient_scope", scope="` + strings.Join(required, " ") + `"`
				deny(w, http.StatusForbidden, challenge, "forbidden", "missing scope: "+strings.Join(missing, " "))
				return
			}
			next.ServeHTTP(w, r.WithContext(ContextWithClaims(r.Context(), c)))
		})
	}
}

// bearer extracts the token of an Authorization header using the Bearer scheme.
func bearer(h string) (string, bool) {
	scheme, token, ok := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	return token, ok && strings.EqualFold(scheme, "Bearer") && token != "" && !strings.ContainsAny(token, " \t")
}

func deny(w http.ResponseWriter, status int, challenge, code, message string) {
	if challenge != "" {
		w.Header().Set("WWW-Authenticate", challenge)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}{code, message})
}
