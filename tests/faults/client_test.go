package faults

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// client talks to one Tooken server over HTTP.
type client struct {
	URL  string
	http *http.Client
}

func newClient(url string) *client {
	return &client{URL: url, http: &http.Client{Timeout: 20 * time.Second,
		Transport: http.DefaultTransport.(*http.Transport).Clone()}}
}

// result is one HTTP exchange, read in full, with how long it took.
type result struct {
	Method, Path string
	Status       int
	Header       http.Header
	Body         []byte
	Took         time.Duration
}

func (r *result) String() string {
	return fmt.Sprintf("%s %s → %d in %v: %s", r.Method, r.Path, r.Status, r.Took.Round(time.Millisecond), r.Body)
}

// send makes one request from any goroutine; credential, when set, is sent as a bearer token and
// body, when not nil, as JSON.
func (c *client) send(method, path, credential string, body any) (*result, error) {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.URL+path, rd)
	if err != nil {
		return nil, err
	}
	if credential != "" {
		req.Header.Set("Authorization", "Bearer "+credential)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	res, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the body: %w", method, path, err)
	}
	return &result{Method: method, Path: path, Status: res.StatusCode, Header: res.Header, Body: raw, Took: time.Since(start)}, nil
}

// do is send for the test goroutine: it requires status and decodes the body into out (when not nil).
func (c *client) do(t *testing.T, method, path, credential string, body any, status int, out any) {
	t.Helper()
	r, err := c.send(method, path, credential, body)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != status {
		t.Fatalf("%v; want status %d", r, status)
	}
	if out != nil {
		if err := json.Unmarshal(r.Body, out); err != nil {
			t.Fatalf("%v: %v", r, err)
		}
	}
}

// token is the part of the API's token object the drills use.
type token struct {
	ID    string `json:"id"`
	Token string `json:"token"`
}

// createToken mints a token with an API key (201 required).
func (c *client) createToken(t *testing.T, apiKey, name string) token {
	t.Helper()
	var tok token
	c.do(t, "POST", "/v1/tokens", apiKey, tokenRequest(name), http.StatusCreated, &tok)
	return tok
}

// tokenRequest is a create-token body; names are unique per workspace, so prefix gets a serial number.
func tokenRequest(prefix string) map[string]any {
	return map[string]any{"name": fmt.Sprintf("%s-%d", prefix, serial.Add(1)), "scopes": []string{"tokens:read"}}
}

var serial atomic.Int64

// createWebhook registers url for events (201 required).
func (c *client) createWebhook(t *testing.T, apiKey, url string, events ...string) {
	t.Helper()
	c.do(t, "POST", "/v1/webhooks", apiKey, map[string]any{"url": url, "events": events}, http.StatusCreated, nil)
}

// checkUnavailable returns why r is not the spec's 503: status 503, Retry-After, and the standard
// JSON error body {error: "unavailable", message, status, request_id} with no stack trace.
func checkUnavailable(r *result) error {
	if r.Status != http.StatusServiceUnavailable {
		return fmt.Errorf("%v: want 503", r)
	}
	if r.Header.Get("Retry-After") == "" {
		return fmt.Errorf("%v: no Retry-After", r)
	}
	var body map[string]any
	if err := json.Unmarshal(r.Body, &body); err != nil {
		return fmt.Errorf("%v: body is not JSON: %v", r, err)
	}
	msg, _ := body["message"].(string)
	reqID, _ := body["request_id"].(string)
	status, _ := body["status"].(float64)
	if body["error"] != "unavailable" || msg == "" || int(status) != 503 || reqID == "" || len(body) != 4 {
		return fmt.Errorf("%v: not the standard unavailable body", r)
	}
	if strings.Contains(msg, "goroutine") || strings.Contains(msg, ".go:") || strings.Contains(msg, "dial tcp") {
		return fmt.Errorf("%v: the message leaks internals", r)
	}
	return nil
}
