package contract

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tooken/tooken/sdk"
)

// These tests prove the checking transport itself: a response that breaks the spec must fail the
// call, so the suite cannot pass by accident. They use a fake server and their own coverage.

func fakeServer(t *testing.T, status int, header http.Header, body string) (*sdk.ClientWithResponses, *atomic.Int64, *coverage) {
	t.Helper()
	s, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	var hits atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		for k, v := range header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(ts.Close)
	local := &coverage{seen: map[string]map[int]bool{}}
	c, err := sdk.New(ts.URL, "tok_live_x", sdk.WithHTTPClient(&http.Client{
		Transport: &validatingTransport{spec: s, base: ts.Client().Transport, cov: local}}))
	if err != nil {
		t.Fatal(err)
	}
	return c, &hits, local
}

var quota = http.Header{"X-Ratelimit-Limit": {"10"}, "X-Ratelimit-Remaining": {"9"}, "X-Ratelimit-Reset": {"1900000000"}}

// withQuota returns the rate-limit headers plus one more.
func withQuota(name, value string) http.Header {
	h := quota.Clone()
	h.Set(name, value)
	return h
}

const workspaceJSON = `{"id":"ws_1","name":"A","slug":"a","timezone":"UTC","issuer":"http://x/w/ws_1","default_audience":"ws_1","signing_algorithm":"ES256","audit_retention_days":null,"created_at":"2030-01-01T00:00:00Z"}`

func TestTransportAcceptsAConformingResponseAndRecordsIt(t *testing.T) {
	c, _, local := fakeServer(t, 200, quota, workspaceJSON)
	res, err := c.GetWorkspaceWithResponse(t.Context())
	want(t, res, err, http.StatusOK)
	if !local.seen["getWorkspace"][200] {
		t.Errorf("coverage = %v, want getWorkspace 200 recorded", local.seen)
	}
}

func TestTransportRejectsResponsesThatBreakTheSpec(t *testing.T) {
	for name, tc := range map[string]struct {
		status int
		header http.Header
		body   string
		want   string
	}{
		"undocumented status":     {418, quota, `{"error":"bad_request","message":"m","status":418,"request_id":"r"}`, "status 418 is not documented"},
		"missing required field":  {200, quota, `{"id":"ws_1"}`, "violates the spec"},
		"wrong type":              {200, quota, strings.Replace(workspaceJSON, `"UTC"`, `5`, 1), "violates the spec"},
		"bad date-time":           {200, quota, strings.Replace(workspaceJSON, "2030-01-01T00:00:00Z", "yesterday", 1), "violates the spec"},
		"declared header missing": {200, nil, workspaceJSON, "X-RateLimit-Limit"},
		"error status mismatch": {401, withQuota("Www-Authenticate", invalidTokenChallenge),
			`{"error":"unauthorized","message":"m","status":400,"request_id":"r"}`, "status = 400"},
		"401 without the challenge": {401, withQuota("Www-Authenticate", "Basic"),
			`{"error":"unauthorized","message":"m","status":401,"request_id":"r"}`, "WWW-Authenticate"},
		"error without request id": {401, withQuota("Www-Authenticate", invalidTokenChallenge),
			`{"error":"unauthorized","message":"m","status":401,"request_id":""}`, "request_id"},
	} {
		t.Run(name, func(t *testing.T) {
			c, _, local := fakeServer(t, tc.status, tc.header, tc.body)
			_, err := c.GetWorkspaceWithResponse(t.Context())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.want)
			}
			if len(local.seen) != 0 {
				t.Errorf("a rejected response was recorded: %v", local.seen)
			}
		})
	}
}

func TestTransportRejectsAnInvalidRequestUnlessMarked(t *testing.T) {
	c, hits, _ := fakeServer(t, 400, nil, `{"error":"bad_request","message":"m","status":400,"request_id":"r"}`)
	if _, err := c.ListTokensWithResponse(t.Context(), &sdk.ListTokensParams{PerPage: ptr(0)}); err == nil || hits.Load() != 0 {
		t.Fatalf("per_page=0 went out (err %v, %d requests); the request must be refused before sending", err, hits.Load())
	}
	res, err := c.ListTokensWithResponse(invalidRequest(t.Context()), &sdk.ListTokensParams{PerPage: ptr(0)})
	want(t, res, err, http.StatusBadRequest)
}

func TestCoverageGateListsEveryOperationAndStatusNotObserved(t *testing.T) {
	s, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	local := &coverage{seen: map[string]map[int]bool{}}
	local.record("readyz", 200)
	gaps := strings.Join(local.missing(s.doc), "\n")
	for _, wantGap := range []string{"readyz (GET /readyz): never returned 503", "healthz (GET /healthz): never exercised",
		"createToken (POST /v1/tokens): never exercised"} {
		if !strings.Contains(gaps, wantGap) {
			t.Errorf("gaps lack %q:\n%s", wantGap, gaps)
		}
	}
}

// sseServer answers every request with an event stream that sends one event, then stays open until
// the client leaves.
func sseServer(t *testing.T) (*sdk.ClientWithResponses, *coverage) {
	t.Helper()
	s, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range quota {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("event: heartbeat\ndata: {\"time\":1}\n\n"))
		http.NewResponseController(w).Flush()
		<-r.Context().Done()
	}))
	t.Cleanup(ts.Close)
	local := &coverage{seen: map[string]map[int]bool{}}
	c, err := sdk.New(ts.URL, "", sdk.WithHTTPClient(&http.Client{
		Transport: &validatingTransport{spec: s, base: ts.Client().Transport, cov: local}}))
	if err != nil {
		t.Fatal(err)
	}
	return c, local
}

func TestTransportHandsAnEventStreamThroughUnreadAndRecordsIt(t *testing.T) {
	c, local := sseServer(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	resp, err := c.StreamRevocations(ctx, "ws_1", nil) // returns although the body never ends
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if !local.seen["streamRevocations"][200] {
		t.Errorf("coverage = %v, want streamRevocations 200 recorded", local.seen)
	}
	ev := newEventReader(t, resp).next(t)
	if ev.Event != "heartbeat" || ev.Data != `{"time":1}` {
		t.Errorf("first event = %+v", ev)
	}
}

func TestTransportRejectsAnEventStreamTheOperationDoesNotDocument(t *testing.T) {
	c, local := sseServer(t)
	_, err := c.GetWorkspace(t.Context())
	if err == nil || !strings.Contains(err.Error(), "text/event-stream") {
		t.Fatalf("err = %v, want the undocumented event stream refused", err)
	}
	if len(local.seen) != 0 {
		t.Errorf("a rejected response was recorded: %v", local.seen)
	}
}
