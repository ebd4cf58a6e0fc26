package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/tooken/tooken/ports"
)

func (s *Server) policyRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /app/{ws}/settings/policies", s.inWorkspace(s.policies))
	mux.HandleFunc("POST /app/{ws}/settings/policies", s.inWorkspace(s.setPolicy))
}

// durationUnits are the units a policy duration is entered in, largest first.
var durationUnits = []struct {
	Name    string
	Seconds int64
}{{"days", 86400}, {"hours", 3600}, {"minutes", 60}, {"seconds", 1}}

// policyField is one optional duration of the policy as the form shows it: a number and a unit.
type policyField struct {
	Name, Label, Help string
	Value             string
	Unit              string
}

// policiesData is the Policies tab: the form's fields and the tokens breaking the policy now.
type policiesData struct {
	Fields        []policyField
	RequireExpiry bool
	NonCompliant  []string
	Total         int
	Units         any
}

func newPoliciesData(pol ports.Policy) *policiesData {
	d := &policiesData{RequireExpiry: pol.RequireExpiry, Units: durationUnits}
	for _, f := range []struct {
		name, label, help string
		v                 *int64
	}{
		{"max_lifetime", "Maximum lifetime", "A token's expiration may be at most this long after its creation.", pol.MaxLifetime},
		{"default_lifetime", "Default lifetime", "Applied when a token is created without an expiration.", pol.DefaultLifetime},
		{"max_rotation_period", "Maximum rotation period", "Every token must declare a rotation period no longer than this (at least 5 minutes).", pol.MaxRotationPeriod},
	} {
		pf := policyField{Name: f.name, Label: f.label, Help: f.help, Unit: "days"}
		if f.v != nil {
			for _, u := range durationUnits {
				if *f.v%u.Seconds == 0 {
					pf.Value, pf.Unit = strconv.FormatInt(*f.v/u.Seconds, 10), u.Name
					break
				}
			}
		}
		d.Fields = append(d.Fields, pf)
	}
	return d
}

func (s *Server) policies(q *req) {
	rep, err := s.svc.GetPolicy(q.r.Context(), q.p)
	if err != nil {
		s.fail(q.w, q.r, err)
		return
	}
	d := newPoliciesData(rep.Policy)
	d.NonCompliant, d.Total = rep.NonCompliant, rep.NonCompliantTotal
	s.page(q, http.StatusOK, "settings_policies", &view{Title: "Policies", Nav: "settings", Tab: "policies", Data: d})
}

// setPolicy replaces the policy (core allows owners only); an empty duration means no limit.
func (s *Server) setPolicy(q *req) {
	pol := ports.Policy{RequireExpiry: q.r.PostFormValue("require_expiry") == "on"}
	v := &view{Title: "Policies", Nav: "settings", Tab: "policies"}
	for name, dst := range map[string]**int64{"max_lifetime": &pol.MaxLifetime, "default_lifetime": &pol.DefaultLifetime,
		"max_rotation_period": &pol.MaxRotationPeriod} {
		n, err := formDuration(q.r.PostFormValue(name), q.r.PostFormValue(name+"_unit"))
		if err != nil {
			v.Data = newPoliciesData(pol)
			s.formError(q, "settings_policies", v, ports.Errorf(ports.EINVALID, "%s: %s", strings.ReplaceAll(name, "_", " "), err.Error()))
			return
		}
		*dst = n
	}
	rep, err := s.svc.SetPolicy(q.r.Context(), q.p, pol)
	d := newPoliciesData(pol)
	v.Data = d
	if err != nil {
		s.formError(q, "settings_policies", v, err)
		return
	}
	d.NonCompliant, d.Total, v.Notice = rep.NonCompliant, rep.NonCompliantTotal, "Policy saved. Existing tokens are never revoked by a policy change."
	s.page(q, http.StatusOK, "settings_policies", v)
}

// formDuration reads a number of units as seconds; "" is nil (no limit).
func formDuration(value, unit string) (*int64, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(value, 10, 64)
	if err != nil || n < 1 {
		return nil, errNotPositive
	}
	for _, u := range durationUnits {
		if u.Name == unit {
			if n > (1<<62)/u.Seconds {
				return nil, errNotPositive
			}
			secs := n * u.Seconds
			return &secs, nil
		}
	}
	return nil, errNotPositive
}

var errNotPositive = ports.Errorf(ports.EINVALID, "enter a whole number of at least 1 and a unit")
