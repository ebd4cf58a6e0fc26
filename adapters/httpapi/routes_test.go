package httpapi_test

import (
	"encoding/json"
	"net/http"
	"testing"
)

// TestUnknownRoutesGetTheErrorBody: a path no operation has, and a known path with a method it does
// not take, are answered 404 with the standard error body naming the request (never the mux's plain
// text or a bare 405); an unclean path is still redirected to its clean form.
func TestUnknownRoutesGetTheErrorBody(t *testing.T) {
	a := newAPI(t)
	for _, c := range []struct{ method, path, message string }{
		{http.MethodGet, "/v1/nowhere", "No route for GET /v1/nowhere"},
		{http.MethodPut, "/v1/tokens", "No route for PUT /v1/tokens"},
		{http.MethodGet, "/nowhere", "No route for GET /nowhere"},
	} {
		rec := a.serve(c.method, c.path, "", "Bearer "+a.apiKey, nil)
		var got struct{ Error, Message string }
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != http.StatusNotFound ||
			got.Error != "not_found" || got.Message != c.message {
			t.Errorf("%s %s: %d %s; want 404 not_found %q", c.method, c.path, rec.Code, rec.Body, c.message)
		}
	}
	if rec := a.serve(http.MethodGet, "/v1/tokens/../tokens", "", "Bearer "+a.apiKey, nil); rec.Code/100 != 3 ||
		rec.Header().Get("Location") != "/v1/tokens" {
		t.Errorf("unclean path: %d, Location %q; want a redirect to /v1/tokens", rec.Code, rec.Header().Get("Location"))
	}
	if rec := a.serve(http.MethodGet, "/openapi.yaml", "", "", nil); rec.Code != http.StatusOK {
		t.Errorf("GET /openapi.yaml: %d", rec.Code)
	}
}

// TestOtherMethodsOnTheVerifyPathAreTokenRoutes: only POST /v1/tokens/verify is the unauthenticated
// verify; GET and DELETE of that path address a token whose id is "verify", so they need a credential
// (401 without) and find no such token (404) — they once skipped authentication and crashed (500).
func TestOtherMethodsOnTheVerifyPathAreTokenRoutes(t *testing.T) {
	a := newAPI(t)
	for _, method := range []string{http.MethodGet, http.MethodDelete} {
		if rec := a.serve(method, "/v1/tokens/verify", "", "", nil); rec.Code != http.StatusUnauthorized {
			t.Errorf("%s without a credential: %d %s; want 401", method, rec.Code, rec.Body)
		}
		if rec := a.serve(method, "/v1/tokens/verify", "", "Bearer "+a.apiKey, nil); rec.Code != http.StatusNotFound {
			t.Errorf("%s with the API key: %d %s; want 404", method, rec.Code, rec.Body)
		}
	}
}
