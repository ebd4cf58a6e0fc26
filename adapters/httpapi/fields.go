package httpapi

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/tooken/tooken/ports"
)

// exactFields lists, for requests that replace a whole resource (PUT) or set one field (PATCH of a
// member), the JSON keys the body must hold — no more, no fewer; keys are path.Match patterns. The
// generated decoder cannot tell a missing key from a null one, and a missing or misspelt key there
// would silently lift a rule.
var exactFields = map[string][]string{
	"PUT /v1/workspace/policy": {"default_lifetime", "max_lifetime", "max_rotation_period", "require_expiry"},
	"PUT /v1/workspace/scopes": {"custom"},
	"PATCH /v1/members/*":      {"role"},
}

// exactFieldsOf returns the keys the body of r must hold, if r is a request listed in exactFields
// (all of which replace or set: other methods are not looked up).
func exactFieldsOf(r *http.Request) ([]string, bool) {
	if r.Method != http.MethodPut && r.Method != http.MethodPatch {
		return nil, false
	}
	route := r.Method + " " + r.URL.Path
	for pattern, keys := range exactFields {
		if ok, _ := path.Match(pattern, route); ok {
			return keys, true
		}
	}
	return nil, false
}

// withExactFields refuses, with 400 naming the keys, a replacing request whose body lacks a required
// key or carries an unknown one.
func (s *Server) withExactFields(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		want, ok := exactFieldsOf(r)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			s.errs.requestError(w, r, err)
			return
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(body, &fields); err != nil {
			s.errs.write(w, r, decodeError(err))
			return
		}
		details := map[string]string{}
		for _, k := range want {
			if _, ok := fields[k]; !ok {
				details[k] = "required"
			}
		}
		for k := range fields {
			if !slices.Contains(want, k) {
				details[k] = "unknown field"
			}
		}
		if len(details) > 0 {
			keys := make([]string, 0, len(details))
			for k := range details {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			s.errs.write(w, r, &ports.Error{Code: ports.EINVALID, Details: details,
				Message: "the body must hold exactly " + strings.Join(want, ", ") + "; check " + strings.Join(keys, ", ")})
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}
