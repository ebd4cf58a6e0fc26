package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestStrictBodyRefusesWhatTheDecoderWouldReadUnlikeTheSpec posts bodies that Go's decoder would
// accept but read differently from the spec — a key differing from a field only by case, null for a
// non-nullable field (at the top and nested), data after the value — and a few the generated decoder
// refuses itself: each gets 400 naming what is wrong, and none creates a token.
func TestStrictBodyRefusesWhatTheDecoderWouldReadUnlikeTheSpec(t *testing.T) {
	a := newAPI(t)
	before := tokenCount(t, a)
	cases := map[string]struct{ body, detail, message string }{
		"key differing by case":     {`{"NAME":"a","scopes":["tokens:read"]}`, "NAME", "case-sensitive: name"},
		"null for a required field": {`{"name":null,"scopes":["tokens:read"]}`, "name", "must not be null"},
		"null inside an array":      {`{"name":"b","scopes":[null]}`, "scopes[0]", "must not be null"},
		"null body":                 {`null`, "body", "must not be null"},
		"data after the value":      {`{"name":"c","scopes":["tokens:read"]}{}`, "", "not valid JSON (at byte 38)"},
		"invalid JSON":              {`{"name":"d",`, "", ""},
		"an array, not an object":   {`[{"name":"e"}]`, "", ""},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			rec := a.serve(http.MethodPost, "/v1/tokens", "", "Bearer "+a.apiKey, []byte(c.body))
			var got struct {
				Error   string            `json:"error"`
				Message string            `json:"message"`
				Details map[string]string `json:"details"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != http.StatusBadRequest {
				t.Fatalf("status %d, body %s (%v); want 400 with the error body", rec.Code, rec.Body, err)
			}
			if c.detail != "" && got.Details[c.detail] == "" {
				t.Errorf("details %v lack %q", got.Details, c.detail)
			}
			if all := got.Message + " " + strings.Join(mapValues(got.Details), " "); !strings.Contains(all, c.message) {
				t.Errorf("message %q and details %v do not say %q", got.Message, got.Details, c.message)
			}
		})
	}
	if after := tokenCount(t, a); after != before {
		t.Errorf("refused bodies created tokens: %d before, %d after", before, after)
	}
	rec := a.serve(http.MethodPost, "/v1/tokens", "", "Bearer "+a.apiKey, []byte(`{"name":"ok","scopes":["tokens:read"],"metadata":{"NAME":null}}`))
	if rec.Code != http.StatusCreated {
		t.Errorf("free-form metadata with any keys and nulls: status %d, body %s; want 201", rec.Code, rec.Body)
	}
}

func tokenCount(t *testing.T, a *api) int {
	t.Helper()
	var list struct{ Meta struct{ Total int } }
	rec := a.serve(http.MethodGet, "/v1/tokens", "", "Bearer "+a.apiKey, nil)
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("listing tokens: %d %s", rec.Code, rec.Body)
	}
	return list.Meta.Total
}

func mapValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
