package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// concurrently sends n requests at once (request i built by req) and returns the answers in order.
func (s *server) concurrently(t *testing.T, n int, req func(i int) (method, path string, h http.Header, body any)) []*response {
	t.Helper()
	out := make([]*response, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			method, path, h, body := req(i)
			<-start
			out[i], errs[i] = s.send(method, path, h, body)
		}()
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestConcurrentRevokesAllSucceedAndRecordOneEvent revokes one token from 16 requests at once: all
// are 204 and the audit log holds exactly one token.revoked event.
func TestConcurrentRevokesAllSucceedAndRecordOneEvent(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ws := s.bootstrap(t, "Acme")
	tok := s.createToken(t, ws.APIKey, map[string]any{"name": "web", "scopes": []string{"tokens:read"}})

	rs := s.concurrently(t, 16, func(int) (string, string, http.Header, any) {
		return "DELETE", "/v1/tokens/" + tok.ID, bearer(ws.APIKey), nil
	})
	for _, r := range rs {
		if r.Status != http.StatusNoContent {
			t.Errorf("%v; want 204", r)
		}
	}
	if n := s.audit(t, ws, "action=token.revoked").Meta.Total; n != 1 {
		t.Errorf("%d token.revoked events after 16 concurrent revokes, want 1", n)
	}
	if s.works(t, tok.Token, tok.ID) {
		t.Error("the revoked token still works")
	}
}

// TestConcurrentRotationsLeaveExactlyOneLiveValue rotates one token from 8 requests at once (no grace
// period): every answer is 200 or a clean 409, there is one token.rotated event per 200, and of all
// the values handed out exactly one works afterwards.
func TestConcurrentRotationsLeaveExactlyOneLiveValue(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ws := s.bootstrap(t, "Acme")
	tok := s.createToken(t, ws.APIKey, map[string]any{"name": "web", "scopes": []string{"tokens:read"}})

	rs := s.concurrently(t, 8, func(int) (string, string, http.Header, any) {
		return "POST", "/v1/tokens/" + tok.ID + "/rotate", bearer(ws.APIKey), nil
	})
	var values []string
	for _, r := range rs {
		switch r.Status {
		case http.StatusOK:
			var got tokenJSON
			r.decode(t, &got)
			values = append(values, got.Token)
		case http.StatusConflict:
			requireError(t, r, http.StatusConflict, "conflict", tok.ID)
		default:
			t.Errorf("%v; want 200 or 409", r)
		}
	}
	if len(values) == 0 {
		t.Fatal("no rotation succeeded")
	}
	if n := s.audit(t, ws, "action=token.rotated").Meta.Total; n != len(values) {
		t.Errorf("%d token.rotated events for %d successful rotations", n, len(values))
	}
	live := 0
	for _, v := range values {
		if s.works(t, v, tok.ID) {
			live++
		}
	}
	if live != 1 {
		t.Errorf("%d of the %d rotated values work, want exactly 1", live, len(values))
	}
	if s.works(t, tok.Token, tok.ID) {
		t.Error("the original value still works")
	}
}

// TestConcurrentCreatesOfOneNameCreateOneToken creates the same name (in varying case) from 12
// requests at once: exactly one 201, the rest 409, and one token and one event more than before.
func TestConcurrentCreatesOfOneNameCreateOneToken(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ws := s.bootstrap(t, "Acme")
	before := s.snapshot(t, ws)

	rs := s.concurrently(t, 12, func(i int) (string, string, http.Header, any) {
		name := "deploy-bot"
		if i%2 == 1 {
			name = strings.ToUpper(name)
		}
		return "POST", "/v1/tokens", bearer(ws.APIKey), map[string]any{"name": name, "scopes": []string{"tokens:read"}}
	})
	created := 0
	for _, r := range rs {
		switch r.Status {
		case http.StatusCreated:
			created++
		case http.StatusConflict:
			requireError(t, r, http.StatusConflict, "conflict", "")
		default:
			t.Errorf("%v; want 201 or 409", r)
		}
	}
	if created != 1 {
		t.Errorf("%d of 12 concurrent creates of one name succeeded, want 1", created)
	}
	after := s.snapshot(t, ws)
	if after.Tokens != before.Tokens+1 || after.Events != before.Events+1 {
		t.Errorf("before %+v, after %+v: want exactly one token and one event more", before, after)
	}
	var raw map[string]json.RawMessage
	s.do(t, "GET", "/v1/tokens?name=DEPLOY", ws.APIKey, nil).want(t, http.StatusOK).decode(t, &raw)
	var meta listMeta
	if err := json.Unmarshal(raw["meta"], &meta); err != nil || meta.Total != 1 {
		t.Errorf("name=DEPLOY lists %s, want total 1", raw["meta"])
	}
}
