package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/tooken/tooken/core"
	"github.com/tooken/tooken/ports"
)

const perPage = 20

func (s *Server) tokenRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /app/{ws}/tokens", s.inWorkspace(s.tokens))
	mux.HandleFunc("POST /app/{ws}/tokens", s.inWorkspace(s.createToken))
	mux.HandleFunc("GET /app/{ws}/tokens/{id}", s.inWorkspace(s.token))
	mux.HandleFunc("POST /app/{ws}/tokens/{id}/revoke", s.inWorkspace(s.revokeToken))
	mux.HandleFunc("POST /app/{ws}/tokens/{id}/rotate", s.inWorkspace(s.rotateToken))
}

// tokensData is the tokens page: the filtered list, the New Token form's scopes and, right after a
// creation, the value shown once.
type tokensData struct {
	Tokens     []ports.Token
	Name       string
	Status     string
	Page       int
	Total      int
	PrevPage   int
	NextPage   int
	Scopes     []ports.Scope
	Now        time.Time
	New        *core.IssuedToken
	FormName   string
	FormScopes []string
}

func (s *Server) tokenList(q *req, d *tokensData) error {
	d.Name, d.Status = q.r.FormValue("q"), q.r.FormValue("status")
	d.Page, _ = strconv.Atoi(q.r.FormValue("page"))
	d.Page = max(d.Page, 1)
	pp := perPage
	list, _, total, err := s.svc.ListTokens(q.r.Context(), q.p, core.ListTokensInput{
		PageInput: core.PageInput{Page: &d.Page, PerPage: &pp}, Status: d.Status, Name: d.Name})
	if err != nil {
		return err
	}
	d.Tokens, d.Total, d.Now = list, total, s.svc.Now()
	if d.Page > 1 {
		d.PrevPage = d.Page - 1
	}
	if d.Page*perPage < total {
		d.NextPage = d.Page + 1
	}
	custom, err := s.svc.ListScopes(q.r.Context(), q.p)
	d.Scopes = make([]ports.Scope, 0, len(core.BuiltinScopes)+len(custom))
	for _, name := range core.BuiltinScopes {
		d.Scopes = append(d.Scopes, ports.Scope{Name: name})
	}
	d.Scopes = append(d.Scopes, custom...)
	return err
}

func (s *Server) tokens(q *req) {
	d := &tokensData{}
	if err := s.tokenList(q, d); err != nil {
		s.fail(q.w, q.r, err)
		return
	}
	s.page(q, http.StatusOK, "tokens", &view{Title: "Tokens", Nav: "tokens", Data: d})
}

// createToken creates a token and renders the list with its value in a dialog (shown once).
func (s *Server) createToken(q *req) {
	in := core.CreateTokenInput{Name: q.r.PostFormValue("name"), Scopes: q.r.PostForm["scopes"]}
	d := &tokensData{FormName: in.Name, FormScopes: in.Scopes}
	v := &view{Title: "Tokens", Nav: "tokens", Data: d}
	if date := q.r.PostFormValue("expires_on"); date != "" {
		exp, err := endOfDay(date, q.ws.Timezone)
		if err != nil {
			_ = s.tokenList(q, d)
			s.formError(q, "tokens", v, err)
			return
		}
		in.ExpiresAt = &exp
	}
	issued, err := s.svc.CreateToken(q.r.Context(), q.p, in)
	if lerr := s.tokenList(q, d); lerr != nil && err == nil {
		err = lerr
	}
	if err != nil {
		s.formError(q, "tokens", v, err)
		return
	}
	d.New, d.FormName, d.FormScopes = issued, "", nil
	s.page(q, http.StatusCreated, "tokens", v)
}

// endOfDay is the RFC 3339 instant a date's day ends in the workspace timezone: a token set to
// expire "on" a date is usable throughout that day.
func endOfDay(date, tz string) (string, error) {
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc = time.UTC
	}
	d, err := time.ParseInLocation("2006-01-02", date, loc)
	if err != nil {
		return "", &ports.Error{Code: ports.EINVALID, Message: "expiration date must be a date (YYYY-MM-DD)",
			Details: map[string]string{"expires_on": "not a date"}}
	}
	return d.AddDate(0, 0, 1).UTC().Format(time.RFC3339), nil
}

type tokenData struct {
	Token *ports.Token
	Now   time.Time
	New   *core.IssuedToken
}

func (s *Server) token(q *req) {
	t, err := s.svc.GetToken(q.r.Context(), q.p, q.r.PathValue("id"))
	if err != nil {
		s.fail(q.w, q.r, err)
		return
	}
	s.page(q, http.StatusOK, "token", &view{Title: t.Name, Nav: "tokens", Data: &tokenData{Token: t, Now: s.svc.Now()}})
}

func (s *Server) revokeToken(q *req) {
	id := q.r.PathValue("id")
	if err := s.svc.RevokeToken(q.r.Context(), q.p, id); err != nil {
		s.fail(q.w, q.r, err)
		return
	}
	http.Redirect(q.w, q.r, wsURL(q.ws.ID, "tokens", id), http.StatusSeeOther)
}

func (s *Server) rotateToken(q *req) {
	issued, err := s.svc.RotateToken(q.r.Context(), q.p, q.r.PathValue("id"), nil)
	if err != nil {
		s.fail(q.w, q.r, err)
		return
	}
	s.page(q, http.StatusOK, "token", &view{Title: issued.Token.Name, Nav: "tokens",
		Data: &tokenData{Token: &issued.Token, Now: s.svc.Now(), New: issued}})
}
