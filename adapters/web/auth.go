package web

import (
	"cmp"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"math"
	"net/http"
	"strings"

	"github.com/tooken/tooken/adapters/ratelimit"
	"github.com/tooken/tooken/core"
	"github.com/tooken/tooken/ports"
)

const (
	sessionCookie = "tooken_session"
	// formCookie carries the double-submit CSRF token of the signed-out forms (sign in, sign up).
	formCookie = "tooken_form"
)

func (s *Server) authRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /signin", s.signInForm)
	mux.HandleFunc("POST /signin", s.signIn)
	mux.HandleFunc("GET /signup", s.signUpForm)
	mux.HandleFunc("POST /signup", s.signUp)
	mux.HandleFunc("POST /signout", s.signedIn(s.signOut))
}

func (s *Server) isSecure(r *http.Request) bool { return s.secure || r.TLS != nil }

func (s *Server) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		Secure: s.isSecure(r), SameSite: http.SameSiteLaxMode})
}

func (s *Server) cookie(r *http.Request) string {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return ""
	}
	return c.Value
}

func (s *Server) clearCookie(w http.ResponseWriter, r *http.Request) {
	s.setCookie(w, r, sessionCookie, "", -1)
}

// anonymousForm renders a signed-out form with a fresh double-submit CSRF token.
func (s *Server) anonymousForm(w http.ResponseWriter, r *http.Request, status int, page string, v *view) {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	v.CSRF = base64.RawURLEncoding.EncodeToString(b)
	s.setCookie(w, r, formCookie, v.CSRF, 3600)
	s.render(w, r, status, page, v)
}

// anonymousCSRF checks the double-submit token of a signed-out form.
func anonymousCSRF(r *http.Request) bool {
	c, err := r.Cookie(formCookie)
	return err == nil && sameToken(r.PostFormValue("csrf_token"), c.Value)
}

type authForm struct {
	Email string
	Next  string
}

func (s *Server) signInForm(w http.ResponseWriter, r *http.Request) {
	s.anonymousForm(w, r, http.StatusOK, "signin", &view{Title: "Sign in", Data: authForm{Next: safeNext(r.FormValue("next"))}})
}

func (s *Server) signUpForm(w http.ResponseWriter, r *http.Request) {
	s.anonymousForm(w, r, http.StatusOK, "signup", &view{Title: "Create your account", Data: authForm{Next: safeNext(r.FormValue("next"))}})
}

// safeNext keeps only a local dashboard path to return to after sign-in.
func safeNext(next string) string {
	if (strings.HasPrefix(next, "/app") || strings.HasPrefix(next, "/invitations/")) && !strings.HasPrefix(next, "//") && !strings.Contains(next, "\\") {
		return next
	}
	return ""
}

// signIn refuses an IP or email past its failure quota before checking anything, so that even the
// right password waits out the window.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	form := authForm{Email: strings.TrimSpace(r.PostFormValue("email")), Next: safeNext(r.PostFormValue("next"))}
	v := &view{Title: "Sign in", Data: form}
	if !anonymousCSRF(r) {
		s.forbidden(w, r, "The form has expired or did not come from this site. Reload the page and try again.")
		return
	}
	ipKey, mailKey := clientIP(r), strings.ToLower(form.Email)
	for _, q := range []ratelimit.Quota{s.ipLimit.Peek(ipKey), s.mailLimit.Peek(mailKey)} {
		if !q.Allowed {
			w.Header().Set("Retry-After", fmt.Sprint(int(q.RetryAfter.Seconds())))
			v.Error = fmt.Sprintf("Too many failed sign-in attempts. Try again in %d minute(s).", int(math.Ceil(q.RetryAfter.Minutes())))
			s.anonymousForm(w, r, http.StatusTooManyRequests, "signin", v)
			return
		}
	}
	in, err := s.svc.SignIn(r.Context(), form.Email, r.PostFormValue("password"))
	if err != nil {
		if ports.ErrorCode(err) != ports.EUNAUTHORIZED {
			s.fail(w, r, err)
			return
		}
		s.ipLimit.Take(ipKey)
		s.mailLimit.Take(mailKey)
		v.Error = ports.ErrorMessage(err)
		s.anonymousForm(w, r, http.StatusUnauthorized, "signin", v)
		return
	}
	// A new session (new id) on every sign-in: a session id planted before sign-in is useless.
	if old := s.cookie(r); old != "" {
		_ = s.svc.SignOut(r.Context(), old)
	}
	s.setCookie(w, r, sessionCookie, in.Secret, int(core.SessionLifetime.Seconds()))
	s.setCookie(w, r, formCookie, "", -1)
	http.Redirect(w, r, cmp.Or(form.Next, "/app"), http.StatusSeeOther)
}

func (s *Server) signUp(w http.ResponseWriter, r *http.Request) {
	form := authForm{Email: strings.TrimSpace(r.PostFormValue("email")), Next: safeNext(r.PostFormValue("next"))}
	v := &view{Title: "Create your account", Data: form}
	if !anonymousCSRF(r) {
		s.forbidden(w, r, "The form has expired or did not come from this site. Reload the page and try again.")
		return
	}
	pw := r.PostFormValue("password")
	if pw != r.PostFormValue("password_confirm") {
		v.Error, v.Fields = "The passwords do not match.", map[string]string{"password_confirm": "does not match"}
		s.anonymousForm(w, r, http.StatusUnprocessableEntity, "signup", v)
		return
	}
	if _, err := s.svc.SignUp(r.Context(), form.Email, pw); err != nil {
		if code := ports.ErrorCode(err); code != ports.EINVALID && code != ports.ECONFLICT {
			s.fail(w, r, err)
			return
		}
		v.Error = ports.ErrorMessage(err)
		if pe, ok := err.(*ports.Error); ok {
			v.Fields = pe.Details
		}
		s.anonymousForm(w, r, http.StatusUnprocessableEntity, "signup", v)
		return
	}
	in, err := s.svc.SignIn(r.Context(), form.Email, pw)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.setCookie(w, r, sessionCookie, in.Secret, int(core.SessionLifetime.Seconds()))
	s.setCookie(w, r, formCookie, "", -1)
	http.Redirect(w, r, cmp.Or(form.Next, "/app"), http.StatusSeeOther)
}

func (s *Server) signOut(q *req) {
	_ = s.svc.SignOut(q.r.Context(), s.cookie(q.r))
	s.clearCookie(q.w, q.r)
	http.Redirect(q.w, q.r, "/signin", http.StatusSeeOther)
}
