package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// specPath is the contract: the repository root's openapi.yaml.
var specPath = filepath.Join("..", "..", "openapi.yaml")

// contractSpec is the loaded spec and a router over its operations.
type contractSpec struct {
	doc    *openapi3.T
	router routers.Router
}

var (
	specOnce sync.Once
	spec     *contractSpec
	specErr  error
)

// loadSpec loads and validates openapi.yaml once. Its servers are dropped so the router matches the
// paths of any test server.
func loadSpec() (*contractSpec, error) {
	specOnce.Do(func() {
		doc, err := openapi3.NewLoader().LoadFromFile(specPath)
		if err != nil {
			specErr = fmt.Errorf("loading %s: %w", specPath, err)
			return
		}
		doc.Servers = nil
		router, err := legacy.NewRouter(doc)
		if err != nil {
			specErr = fmt.Errorf("routing %s: %w", specPath, err)
			return
		}
		spec = &contractSpec{doc: doc, router: router}
	})
	return spec, specErr
}

// filterOptions: undocumented statuses fail; authentication is the server's business, not the
// validator's; defaults are never written into the request that is sent.
var filterOptions = &openapi3filter.Options{
	IncludeResponseStatus: true,
	MultiError:            true,
	SkipSettingDefaults:   true,
	AuthenticationFunc:    func(context.Context, *openapi3filter.AuthenticationInput) error { return nil },
}

type skipRequestValidationKey struct{}

// invalidRequest marks a request a test sends deliberately outside the spec: its request is not
// validated, its response still is.
func invalidRequest(ctx context.Context) context.Context {
	return context.WithValue(ctx, skipRequestValidationKey{}, true)
}

// validatingTransport checks every request and response against the spec and records each validated
// (operationId, status) in cov.
type validatingTransport struct {
	spec *contractSpec
	base http.RoundTripper
	cov  *coverage
}

func (v *validatingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	route, params, err := v.spec.router.FindRoute(req)
	if err != nil {
		return nil, fmt.Errorf("contract: %s %s is no operation of the spec: %w", req.Method, req.URL.Path, err)
	}
	op := route.Operation.OperationID
	checked := req.Clone(req.Context())
	checked.Body = io.NopCloser(bytes.NewReader(body))
	in := &openapi3filter.RequestValidationInput{Request: checked, PathParams: params, Route: route, Options: filterOptions}
	if skip, _ := req.Context().Value(skipRequestValidationKey{}).(bool); !skip {
		if err := openapi3filter.ValidateRequest(req.Context(), in); err != nil {
			return nil, fmt.Errorf("contract: %s: request violates the spec: %w", op, err)
		}
	}

	send := req.Clone(req.Context())
	send.Body = io.NopCloser(bytes.NewReader(body))
	send.ContentLength = int64(len(body))
	if req.Body == nil {
		send.Body = nil
	}
	resp, err := v.base.RoundTrip(send)
	if err != nil {
		return nil, err
	}
	if isEventStream(resp) {
		return v.checkEventStream(in, op, resp)
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(data))
	if err := openapi3filter.ValidateResponse(req.Context(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(data)), Options: filterOptions,
	}); err != nil {
		return nil, fmt.Errorf("contract: %s answered %d, which violates the spec: %w\nbody: %s", op, resp.StatusCode, err, truncate(data))
	}
	if err := checkStatusDocumented(route.Operation, resp.StatusCode); err != nil {
		return nil, fmt.Errorf("contract: %s answered %d: %w", op, resp.StatusCode, err)
	}
	if err := checkDeclaredHeaders(route.Operation, resp); err != nil {
		return nil, fmt.Errorf("contract: %s answered %d: %w", op, resp.StatusCode, err)
	}
	if resp.StatusCode >= 400 {
		if err := checkErrorResponse(resp, data); err != nil {
			return nil, fmt.Errorf("contract: %s answered %d: %w\nbody: %s", op, resp.StatusCode, err, truncate(data))
		}
	}
	v.cov.record(op, resp.StatusCode)
	return resp, nil
}

// isEventStream reports whether a successful response is a Server-Sent Events stream, whose body
// never ends: reading it whole would hang.
func isEventStream(resp *http.Response) bool {
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return resp.StatusCode < 300 && mt == "text/event-stream"
}

// checkEventStream validates what can be checked of a stream before its body: the status, the
// headers and that the operation documents text/event-stream for it. The body goes to the caller
// unread; the test reads its events as they arrive.
func (v *validatingTransport) checkEventStream(in *openapi3filter.RequestValidationInput, op string, resp *http.Response) (*http.Response, error) {
	fail := func(err error) (*http.Response, error) {
		resp.Body.Close()
		return nil, fmt.Errorf("contract: %s answered %d: %w", op, resp.StatusCode, err)
	}
	opts := *filterOptions
	opts.ExcludeResponseBody = true
	if err := openapi3filter.ValidateResponse(in.Request.Context(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header, Body: http.NoBody, Options: &opts,
	}); err != nil {
		return fail(fmt.Errorf("violates the spec: %w", err))
	}
	if err := checkStatusDocumented(in.Route.Operation, resp.StatusCode); err != nil {
		return fail(err)
	}
	ref := in.Route.Operation.Responses.Status(resp.StatusCode)
	if ref == nil || ref.Value == nil || ref.Value.Content.Get("text/event-stream") == nil {
		return fail(fmt.Errorf("the spec documents no text/event-stream body for this status"))
	}
	if err := checkDeclaredHeaders(in.Route.Operation, resp); err != nil {
		return fail(err)
	}
	v.cov.record(op, resp.StatusCode)
	return resp, nil
}

// checkStatusDocumented refuses a status that only the `default` response covers unless it is one
// of those the spec's `default` stands for (500 internal_error, 503 unavailable, and 413
// payload_too_large for operations that take a body).
func checkStatusDocumented(op *openapi3.Operation, status int) error {
	if op.Responses.Value(strconv.Itoa(status)) != nil || status == 500 || status == 503 || status == 413 && op.RequestBody != nil {
		return nil
	}
	return fmt.Errorf("status %d is not documented for this operation (default covers only 500, 503 and, with a body, 413)", status)
}

// checkDeclaredHeaders requires every header the spec declares for the response, except Link, which
// is present only when there are other pages.
func checkDeclaredHeaders(op *openapi3.Operation, resp *http.Response) error {
	ref := op.Responses.Status(resp.StatusCode)
	if ref == nil || ref.Value == nil {
		return nil
	}
	var missing []string
	for name := range ref.Value.Headers {
		if name != "Link" && resp.Header.Get(name) == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("declared headers missing: %s", strings.Join(missing, ", "))
	}
	return nil
}

// errorCodes is the API error code of each error status.
var errorCodes = map[int]string{
	400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict", 413: "payload_too_large",
	422: "unprocessable_entity", 429: "rate_limited", 500: "internal_error", 503: "unavailable",
}

// Challenges of 401 and 403 answers (RFC 6750).
const (
	invalidTokenChallenge      = `Bearer realm="tooken", error="invalid_token"`
	insufficientScopeChallenge = `Bearer realm="tooken", error="insufficient_scope"`
)

// checkErrorResponse checks what every error answer must carry: the error body with the HTTP status,
// a message and a request id, and the RFC 6750 challenge on 401 and 403.
func checkErrorResponse(resp *http.Response, data []byte) error {
	var e struct {
		Error     string `json:"error"`
		Message   string `json:"message"`
		Status    int    `json:"status"`
		RequestID string `json:"request_id"`
	}
	if err := json.Unmarshal(data, &e); err != nil {
		return fmt.Errorf("error body is not JSON: %w", err)
	}
	var problems []string
	if want := errorCodes[resp.StatusCode]; e.Error != want {
		problems = append(problems, fmt.Sprintf("error = %q, want %q", e.Error, want))
	}
	if e.Status != resp.StatusCode {
		problems = append(problems, "status = "+strconv.Itoa(e.Status))
	}
	if e.Message == "" {
		problems = append(problems, "empty message")
	}
	if e.RequestID == "" {
		problems = append(problems, "empty request_id")
	}
	switch challenge := resp.Header.Get("WWW-Authenticate"); resp.StatusCode {
	case http.StatusUnauthorized:
		if challenge != invalidTokenChallenge {
			problems = append(problems, fmt.Sprintf("WWW-Authenticate = %q, want %q", challenge, invalidTokenChallenge))
		}
	case http.StatusForbidden:
		if !strings.HasPrefix(challenge, insufficientScopeChallenge) {
			problems = append(problems, fmt.Sprintf("WWW-Authenticate = %q, want prefix %q", challenge, insufficientScopeChallenge))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("bad error response: %s", strings.Join(problems, "; "))
	}
	return nil
}

func truncate(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "…"
	}
	return string(b)
}

// coverage records the (operationId, status) pairs the suite observed in validated responses.
type coverage struct {
	mu   sync.Mutex
	seen map[string]map[int]bool
}

var cov = &coverage{seen: map[string]map[int]bool{}}

func (c *coverage) record(op string, status int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen[op] == nil {
		c.seen[op] = map[int]bool{}
	}
	c.seen[op][status] = true
}

// missing lists, from the spec itself, every operation never exercised and every documented status
// (the default response excepted) an operation never returned.
func (c *coverage) missing(doc *openapi3.T) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			seen := c.seen[op.OperationID]
			if len(seen) == 0 {
				out = append(out, fmt.Sprintf("%s (%s %s): never exercised", op.OperationID, method, path))
				continue
			}
			var statuses []string
			for code := range op.Responses.Map() {
				if code == "default" {
					continue
				}
				if !seenStatus(seen, code) {
					statuses = append(statuses, code)
				}
			}
			if len(statuses) > 0 {
				slices.Sort(statuses)
				out = append(out, fmt.Sprintf("%s (%s %s): never returned %s", op.OperationID, method, path, strings.Join(statuses, ", ")))
			}
		}
	}
	slices.Sort(out)
	return out
}

// seenStatus reports whether a documented status ("404", or a range such as "4XX") was observed.
func seenStatus(seen map[int]bool, code string) bool {
	if n, err := strconv.Atoi(code); err == nil {
		return seen[n]
	}
	if len(code) == 3 && strings.EqualFold(code[1:], "XX") {
		for n := range seen {
			if strconv.Itoa(n/100) == code[:1] {
				return true
			}
		}
	}
	return false
}
