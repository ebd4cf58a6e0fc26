package web

import (
	"bytes"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/tooken/tooken/ports"
)

// view is what every page template receives: the layout's data plus the page's own (Data).
type view struct {
	Title      string
	Nav        string // the active sidebar entry: tokens | audit | settings
	Tab        string // the active settings tab
	CSRF       string
	Email      string // of the signed-in account; "" when signed out
	WS         *ports.Workspace
	Role       ports.Role
	Workspaces []ports.AccountWorkspace
	Error      string
	Notice     string
	Fields     map[string]string // field errors
	loc        *time.Location
	Data       any
}

// CanWrite reports whether the member may create, revoke and rotate tokens.
func (v *view) CanWrite() bool { return v.Role == ports.RoleOwner || v.Role == ports.RoleAdmin }

// Tabs are the Settings tabs.
func (v *view) Tabs() any { return settingsTabs }

// IsOwner reports whether the member may change settings.
func (v *view) IsOwner() bool { return v.Role == ports.RoleOwner }

// Time formats t in the workspace timezone.
func (v *view) Time(t any) string {
	var tt time.Time
	switch x := t.(type) {
	case time.Time:
		tt = x
	case *time.Time:
		if x == nil {
			return "—"
		}
		tt = *x
	default:
		return ""
	}
	loc := v.loc
	if loc == nil {
		loc = time.UTC
	}
	return tt.In(loc).Format("2006-01-02 15:04:05 MST")
}

type pageTemplate struct{ t *template.Template }

func parsePages() map[string]*pageTemplate {
	base := template.Must(template.New("").Funcs(template.FuncMap{
		"join": strings.Join,
		"has": func(list []string, s string) bool {
			for _, x := range list {
				if x == s {
					return true
				}
			}
			return false
		},
		"list":   func(s ...string) []string { return s },
		"secret": func(title, value string) map[string]string { return map[string]string{"Title": title, "Value": value} },
		"dict":   dict,
	}).ParseFS(assets, "templates/layout.html", "templates/parts/*.html"))
	names, err := fs.Glob(assets, "templates/pages/*.html")
	if err != nil {
		panic(err)
	}
	pages := map[string]*pageTemplate{}
	for _, n := range names {
		t := template.Must(template.Must(base.Clone()).ParseFS(assets, n))
		pages[strings.TrimSuffix(path.Base(n), ".html")] = &pageTemplate{t}
	}
	return pages
}

// render writes page with v, filling the layout's data from the request.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page string, v *view) {
	var buf bytes.Buffer
	if err := s.pages[page].t.ExecuteTemplate(&buf, "layout", v); err != nil {
		s.log.Error("dashboard: rendering", "page", page, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// page renders a page of a signed-in request, with the session, workspace and switcher filled in.
func (s *Server) page(q *req, status int, page string, v *view) {
	v.CSRF, v.Email = q.sess.CSRFToken, q.sess.Email
	if q.ws != nil {
		v.WS, v.Role = q.ws, q.p.Role
		if loc, err := time.LoadLocation(q.ws.Timezone); err == nil {
			v.loc = loc
		}
	}
	if list, err := s.svc.AccountWorkspaces(q.r.Context(), q.sess.AccountID); err == nil {
		v.Workspaces = list
	}
	s.render(q.w, q.r, status, page, v)
}

// formError re-renders a form page with err's message (and field details) at the matching status.
func (s *Server) formError(q *req, page string, v *view, err error) {
	status := http.StatusBadRequest
	switch ports.ErrorCode(err) {
	case ports.EINVALID, ports.EUNPROCESSABLE:
		status = http.StatusUnprocessableEntity
	case ports.ECONFLICT:
		status = http.StatusConflict
	case ports.EFORBIDDEN:
		status = http.StatusForbidden
	case ports.ENOTFOUND, ports.EINTERNAL, ports.EUNAVAILABLE:
		s.fail(q.w, q.r, err)
		return
	}
	v.Error = ports.ErrorMessage(err)
	if pe, ok := err.(*ports.Error); ok {
		v.Fields = pe.Details
	}
	s.page(q, status, page, v)
}

func urlQuery(s string) string { return url.QueryEscape(s) }

// wsURL is the dashboard URL of a workspace page.
func wsURL(wsID string, parts ...string) string {
	return "/app/" + wsID + "/" + strings.Join(parts, "/")
}
