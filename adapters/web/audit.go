package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/tooken/tooken/core"
	"github.com/tooken/tooken/ports"
)

func (s *Server) auditRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /app/{ws}/audit", s.inWorkspace(s.audit))
}

type auditData struct {
	Events                          []ports.AuditEvent
	Action, Actor, Target           string
	Since, Until                    string // datetime-local values, in the workspace timezone
	Page, PrevPage, NextPage, Total int
}

// audit lists the workspace's audit events; since/until are read in the workspace timezone.
func (s *Server) audit(q *req) {
	_ = q.r.ParseForm()
	f := q.r.Form
	d := &auditData{Action: f.Get("action"), Actor: f.Get("actor"), Target: f.Get("target"),
		Since: f.Get("since"), Until: f.Get("until")}
	d.Page, _ = strconv.Atoi(f.Get("page"))
	d.Page = max(d.Page, 1)
	pp := perPage
	in := core.ListAuditInput{PageInput: core.PageInput{Page: &d.Page, PerPage: &pp},
		Action: d.Action, ActorID: d.Actor, TargetID: d.Target}
	v := &view{Title: "Audit Log", Nav: "audit", Data: d}
	var err error
	if in.Since, err = localTime("since", d.Since, q.ws.Timezone); err == nil {
		in.Until, err = localTime("until", d.Until, q.ws.Timezone)
	}
	if err == nil {
		d.Events, _, d.Total, err = s.svc.ListAuditEvents(q.r.Context(), q.p, in)
	}
	if err != nil {
		s.formError(q, "audit", v, err)
		return
	}
	if d.Page > 1 {
		d.PrevPage = d.Page - 1
	}
	if d.Page*perPage < d.Total {
		d.NextPage = d.Page + 1
	}
	s.page(q, http.StatusOK, "audit", v)
}

// localTime turns a datetime-local value in the workspace timezone into RFC 3339 UTC ("" stays "").
func localTime(field, v, tz string) (string, error) {
	if v == "" {
		return "", nil
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc = time.UTC
	}
	t, err := time.ParseInLocation("2006-01-02T15:04", v, loc)
	if err != nil {
		return "", &ports.Error{Code: ports.EINVALID, Message: field + " must be a date and time",
			Details: map[string]string{field: "not a date and time"}}
	}
	return t.UTC().Format(time.RFC3339), nil
}
