package e2e

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// names returns the names of a page of tokens, in order.
func (l tokenList) names() []string {
	var out []string
	for _, t := range l.Data {
		out = append(out, t.Name)
	}
	return out
}

// TestTokenListIsNewestFirstPagedAndLinked creates tokens one minute apart and pages through them two
// at a time: newest first, the total on every page, and RFC 8288 next/prev links.
func TestTokenListIsNewestFirstPagedAndLinked(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ws := s.bootstrap(t, "Acme")
	for _, n := range []string{"one", "two", "three", "four", "five"} {
		s.createToken(t, ws.APIKey, map[string]any{"name": n, "scopes": []string{"tokens:read"}})
		s.Clock.Advance(time.Minute)
	}
	pages := []struct {
		names      []string
		next, prev bool
	}{
		{[]string{"five", "four"}, true, false},
		{[]string{"three", "two"}, true, true},
		{[]string{"one"}, false, true},
		{nil, false, true},
	}
	for i, want := range pages {
		page := i + 1
		var l tokenList
		r := s.do(t, "GET", "/v1/tokens?per_page=2&page="+strconv.Itoa(page), ws.APIKey, nil).want(t, http.StatusOK)
		r.decode(t, &l)
		if !slices.Equal(l.names(), want.names) || l.Meta.Total != 5 || l.Meta.Page != page || l.Meta.PerPage != 2 {
			t.Errorf("page %d = %v %+v, want %v with total 5", page, l.names(), l.Meta, want.names)
		}
		link := r.Header.Get("Link")
		if got := strings.Contains(link, `rel="next"`); got != want.next {
			t.Errorf("page %d Link %q: next link present = %v, want %v", page, link, got, want.next)
		}
		if got := strings.Contains(link, `rel="prev"`); got != want.prev {
			t.Errorf("page %d Link %q: prev link present = %v, want %v", page, link, got, want.prev)
		}
		if want.next && !strings.Contains(link, "page="+strconv.Itoa(page+1)) {
			t.Errorf("page %d Link %q does not point to page %d", page, link, page+1)
		}
	}
}

// TestTokenNameFilterIsACaseInsensitiveLiteralSubstring checks ?name=: case-insensitive, and LIKE
// wildcards (% and _) and backslashes in the filter match only themselves.
func TestTokenNameFilterIsACaseInsensitiveLiteralSubstring(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ws := s.bootstrap(t, "Acme")
	for _, n := range []string{"billing-api", "Billing-Worker", "web_1", "webx1", "100%-legit", `back\slash`} {
		s.createToken(t, ws.APIKey, map[string]any{"name": n, "scopes": []string{"tokens:read"}})
		s.Clock.Advance(time.Second)
	}
	cases := map[string][]string{
		"BILLING":  {"Billing-Worker", "billing-api"},
		"_":        {"web_1"},
		"%":        {"100%-legit"},
		`\`:        {`back\slash`},
		"web":      {"webx1", "web_1"},
		"absent":   nil,
		"i-worker": nil, // substring, not a fuzzy match
	}
	for q, want := range cases {
		var l tokenList
		s.do(t, "GET", "/v1/tokens?name="+url.QueryEscape(q), ws.APIKey, nil).want(t, http.StatusOK).decode(t, &l)
		if !slices.Equal(l.names(), want) || l.Meta.Total != len(want) {
			t.Errorf("name=%q lists %v (total %d), want %v", q, l.names(), l.Meta.Total, want)
		}
	}
	// Filters combine.
	tok := s.createToken(t, ws.APIKey, map[string]any{"name": "billing-old", "scopes": []string{"tokens:read"}})
	s.do(t, "DELETE", "/v1/tokens/"+tok.ID, ws.APIKey, nil).want(t, http.StatusNoContent)
	var l tokenList
	s.do(t, "GET", "/v1/tokens?status=revoked&name=BILL", ws.APIKey, nil).want(t, http.StatusOK).decode(t, &l)
	if !slices.Equal(l.names(), []string{"billing-old"}) {
		t.Errorf("status=revoked&name=BILL lists %v, want [billing-old]", l.names())
	}
}
