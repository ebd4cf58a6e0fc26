package verify

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestMiddleware(t *testing.T) {
	t.Parallel()
	k := newTestKey(t, "ES256")
	f := newFakeIssuer(t, k)
	v := f.verifier(WithMaxStaleness(time.Minute))
	var seen *Claims
	h := v.Middleware("orders:read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := ClaimsFromContext(r.Context())
		if !ok {
			t.Error("no claims in the request context")
		}
		seen = c
		w.WriteHeader(http.StatusNoContent)
	}))
	good := f.token(k, nil)
	narrow := f.token(k, func(_, c map[string]any) { c["scope"] = "tokens:read" })
	expired := f.token(k, func(_, c map[string]any) { c["exp"] = c["iat"].(int64) - 1 })

	cases := []struct {
		name, auth, challenge, code string
		status                      int
	}{
		{"no header", "", `Bearer realm="tooken"`, "unauthorized", 401},
		{"other scheme", "Basic dXNlcjpwYXNz", `Bearer realm="tooken"`, "unauthorized", 401},
		{"garbage token", "Bearer abc.def.ghi", `Bearer realm="tooken", error="invalid_token"`, "unauthorized", 401},
		{"expired", "Bearer " + expired, `Bearer realm="tooken", error="invalid_token"`, "unauthorized", 401},
		{"missing scope", "Bearer " + narrow, `Bearer realm="tooken", error="insufficient_scope", scope="orders:read"`, "forbidden", 403},
		{"ok", "bearer " + good, "", "", 204},
	}
	for _, tc := range cases {
		seen = nil
		req := httptest.NewRequest(http.MethodGet, "/orders", nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.status || rec.Header().Get("WWW-Authenticate") != tc.challenge {
			t.Errorf("%s: %d %q, want %d %q", tc.name, rec.Code, rec.Header().Get("WWW-Authenticate"), tc.status, tc.challenge)
		}
		if tc.status == 204 {
			if seen == nil || seen.Subject != "tok_abc" || !seen.HasScope("orders:read") {
				t.Errorf("%s: claims in context = %+v", tc.name, seen)
			}
			continue
		}
		if seen != nil {
			t.Errorf("%s: the handler ran", tc.name)
		}
		var body struct{ Error, Message string }
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error != tc.code || body.Message == "" {
			t.Errorf("%s: body %q", tc.name, rec.Body.String())
		}
	}

	// The stream must be up before it is taken down: one still connecting would record a contact
	// on its first line, read after the clock has moved.
	eventually(t, "stream connected", v.streamUp.Load)
	f.set(func(f *fakeIssuer) { f.down = true })
	f.killStreams()
	eventually(t, "stream disconnected", func() bool { return !v.streamUp.Load() })
	f.clock.Advance(2 * time.Minute)
	req := httptest.NewRequest(http.MethodGet, "/orders", nil)
	req.Header.Set("Authorization", "Bearer "+f.token(k, nil))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("stale feed: %d, want 503", rec.Code)
	}
}

func TestClaimsFromContextWithoutMiddleware(t *testing.T) {
	t.Parallel()
	if _, ok := ClaimsFromContext(t.Context()); ok {
		t.Error("claims found in a bare context")
	}
	c := &Claims{Subject: "tok_x"}
	if got, ok := ClaimsFromContext(ContextWithClaims(t.Context(), c)); !ok || got != c {
		t.Error("ContextWithClaims did not round-trip")
	}
}
