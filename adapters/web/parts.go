package web

import "cmp"

// showTab renders a page after an action: the first error (the action's, then the lists') in place
// of the notice, or the page as it is now.
func (s *Server) showTab(q *req, status int, page string, v *view, errs ...error) {
	if err := cmp.Or(errs...); err != nil {
		v.Notice = ""
		s.formError(q, page, v, err)
		return
	}
	s.page(q, status, page, v)
}

// dict builds a template argument from key/value pairs: dict "ID" "x" "Title" "y".
func dict(kv ...any) map[string]any {
	m := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		if k, ok := kv[i].(string); ok {
			m[k] = kv[i+1]
		}
	}
	return m
}
