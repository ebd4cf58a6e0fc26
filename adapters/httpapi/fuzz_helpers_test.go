package httpapi_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	tooken "github.com/tooken/tooken"
	"github.com/tooken/tooken/adapters/argon2id"
	"github.com/tooken/tooken/adapters/httpapi"
	"github.com/tooken/tooken/adapters/jwks"
	"github.com/tooken/tooken/adapters/memory"
	"github.com/tooken/tooken/core"
	"github.com/tooken/tooken/internal/testclock"
)

// api is the real HTTP handler on memory stores, with one workspace whose owner API key and one
// token value are the only credentials that exist.
type api struct {
	handler http.Handler
	apiKey  string
	token   string
	tokenID string
	wsID    string
}

// newAPI builds an api whose limits never interfere: fuzzing sends millions of bad credentials.
func newAPI(tb testing.TB) *api {
	tb.Helper()
	clock := testclock.New(time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC))
	stores := memory.New().Stores()
	signer, err := jwks.New(stores.SigningKeys, make([]byte, 32), "https://tooken.test", clock)
	if err != nil {
		tb.Fatal(err)
	}
	svc := core.New(core.Config{PublicURL: "https://tooken.test"}, stores, signer, clock,
		argon2id.Hasher{Memory: 1024, Time: 1, Threads: 1})
	ctx := context.Background()
	b, err := svc.Bootstrap(ctx, core.BootstrapInput{Email: "owner@fuzz.test", Workspace: "Fuzz"})
	if err != nil {
		tb.Fatal(err)
	}
	p, err := svc.Authenticate(ctx, b.APIKey)
	if err != nil {
		tb.Fatal(err)
	}
	it, err := svc.CreateToken(ctx, p, core.CreateTokenInput{Name: "seed", Scopes: core.BuiltinScopes})
	if err != nil {
		tb.Fatal(err)
	}
	h := httpapi.New(svc, httpapi.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		RateLimit: 1 << 30, IPRateLimit: 1 << 30, AuthFailureLimit: 1 << 30})
	return &api{handler: h, apiKey: b.APIKey, token: it.Value, tokenID: it.Token.ID, wsID: b.Workspace.ID}
}

// serve sends one request (path, raw query string) through the handler and returns the recorded
// answer.
func (a *api) serve(method, path, rawQuery, authorization string, body []byte) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	req.URL.RawQuery = rawQuery
	req.RequestURI = req.URL.RequestURI()
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	a.handler.ServeHTTP(rec, req)
	return rec
}

// specRouter routes requests to the operations of the embedded openapi.yaml.
var specRouter = sync.OnceValues(func() (routers.Router, error) {
	doc, err := openapi3.NewLoader().LoadFromData(tooken.OpenAPI)
	if err != nil {
		return nil, err
	}
	doc.Servers = nil
	return legacy.NewRouter(doc)
})

// violatesSpec reports why the request (method, target, JSON body) breaks openapi.yaml, or nil when
// it conforms.
func violatesSpec(tb testing.TB, method, target string, body []byte) error {
	tb.Helper()
	router, err := specRouter()
	if err != nil {
		tb.Fatal(err)
	}
	req := httptest.NewRequest(method, target, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	route, params, err := router.FindRoute(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, target, err)
	}
	return openapi3filter.ValidateRequest(context.Background(), &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{
			SkipSettingDefaults: true,
			AuthenticationFunc:  func(context.Context, *openapi3filter.AuthenticationInput) error { return nil },
		},
	})
}

// wantNo5xx fails when the handler answered a server error.
func wantNo5xx(t *testing.T, what string, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("%s → %d: %s", what, rec.Code, rec.Body)
	}
}
