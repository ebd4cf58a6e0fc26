package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tooken/tooken/adapters/postgres"
	"github.com/tooken/tooken/cmd/tooken/app"
	"github.com/tooken/tooken/sdk/webhook"
)

// delivery is one request a test receiver got.
type delivery struct {
	Header http.Header
	Body   []byte
	Event  string
	ID     string
}

// receiver is a real HTTP webhook receiver on loopback. fail, when set, answers each request with
// the returned status (0 means 200).
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	got  []delivery
	fail func(n int) int
	n    atomic.Int64
}

func newReceiver(t *testing.T, fail func(n int) int) *receiver {
	r := &receiver{fail: fail}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var env struct{ ID, Event string }
		_ = json.Unmarshal(body, &env)
		n := int(r.n.Add(1))
		r.mu.Lock()
		r.got = append(r.got, delivery{Header: req.Header.Clone(), Body: body, Event: env.Event, ID: env.ID})
		r.mu.Unlock()
		if r.fail != nil {
			if st := r.fail(n); st != 0 {
				w.WriteHeader(st)
				return
			}
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(r.Close)
	return r
}

// waitFor polls until the receiver holds what ok wants, or fails after 30 s.
func (r *receiver) waitFor(t *testing.T, what string, ok func([]delivery) bool) []delivery {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r.mu.Lock()
		got := slices.Clone(r.got)
		r.mu.Unlock()
		if ok(got) {
			return got
		}
		if time.Now().After(deadline) {
			events := []string{}
			for _, d := range got {
				events = append(events, d.Event)
			}
			t.Fatalf("timed out waiting for %s; got %v", what, events)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func fastWebhooks(c *app.Config) {
	c.WebhookAllowPrivate, c.WebhookRetryBase, c.JobPoll = true, 20*time.Millisecond, 50*time.Millisecond
}

func (s *server) createWebhook(t *testing.T, key, url string, events ...string) (id, secret string) {
	t.Helper()
	var w struct{ ID, Secret string }
	s.do(t, "POST", "/v1/webhooks", key, map[string]any{"url": url, "events": events}).want(t, http.StatusCreated).decode(t, &w)
	return w.ID, w.Secret
}

// Every event type reaches a real receiver, signed so that the SDK helper accepts it.
func TestWebhooksDeliverEveryEventTypeSigned(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, nil)
	s := startServer(t, fastWebhooks)
	ws := s.bootstrap(t, "Acme")
	_, secret := s.createWebhook(t, ws.APIKey, rcv.URL+"/hook",
		"token.created", "token.revoked", "token.rotated", "token.expired", "token.expiring")

	tok := s.createToken(t, ws.APIKey, map[string]any{"name": "short", "scopes": []string{"tokens:read"},
		"expires_at": rfc3339(t0.Add(30 * time.Hour))})
	s.do(t, "POST", "/v1/tokens/"+tok.ID+"/rotate", ws.APIKey, map[string]any{}).want(t, http.StatusOK)
	other := s.createToken(t, ws.APIKey, map[string]any{"name": "gone", "scopes": []string{"tokens:read"}})
	s.do(t, "DELETE", "/v1/tokens/"+other.ID, ws.APIKey, nil).want(t, http.StatusNoContent)
	s.Clock.Set(t0.Add(7 * time.Hour))
	if _, err := s.Service.ScanExpiry(context.Background()); err != nil { // token.expiring (1 day before)
		t.Fatal(err)
	}
	s.Clock.Set(t0.Add(31 * time.Hour))
	if _, err := s.Service.ScanExpiry(context.Background()); err != nil { // token.expired
		t.Fatal(err)
	}

	all := []string{"token.created", "token.rotated", "token.revoked", "token.expiring", "token.expired"}
	got := rcv.waitFor(t, "every event type", func(ds []delivery) bool {
		for _, e := range all {
			if !slices.ContainsFunc(ds, func(d delivery) bool { return d.Event == e }) {
				return false
			}
		}
		return true
	})
	// Deliveries are signed with the server clock, which the test moved by 31 hours meanwhile.
	for _, d := range got {
		if err := webhook.Verify(secret, d.Body, d.Header, s.Clock.Now(), 48*time.Hour); err != nil {
			t.Errorf("%s: Verify = %v", d.Event, err)
		}
		if !webhook.VerifySignature(secret, d.Body, d.Header.Get("X-Tooken-Signature")) {
			t.Errorf("%s: X-Tooken-Signature does not verify", d.Event)
		}
		if d.Header.Get("X-Tooken-Event-Id") != d.ID || d.ID == "" {
			t.Errorf("%s: X-Tooken-Event-Id = %q, envelope id %q", d.Event, d.Header.Get("X-Tooken-Event-Id"), d.ID)
		}
		if webhook.Verify("whsec_wrong", d.Body, d.Header, s.Clock.Now(), 48*time.Hour) == nil {
			t.Errorf("%s verifies with a wrong secret", d.Event)
		}
	}
}

// A receiver that fails twice gets the event a third time; the delivery log shows three attempts.
func TestWebhookDeliveryIsRetriedUntilTheReceiverAccepts(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, func(n int) int {
		if n <= 2 {
			return http.StatusInternalServerError
		}
		return 0
	})
	s := startServer(t, fastWebhooks)
	ws := s.bootstrap(t, "Acme")
	hookID, _ := s.createWebhook(t, ws.APIKey, rcv.URL, "token.created")
	s.createToken(t, ws.APIKey, map[string]any{"name": "retry-me", "scopes": []string{"tokens:read"}})
	got := rcv.waitFor(t, "three attempts", func(ds []delivery) bool { return len(ds) >= 3 })
	if got[0].ID != got[1].ID || got[1].ID != got[2].ID {
		t.Errorf("attempts carry different events: %s %s %s", got[0].ID, got[1].ID, got[2].ID)
	}
	time.Sleep(300 * time.Millisecond) // no fourth attempt after the success
	if n := rcv.n.Load(); n != 3 {
		t.Errorf("the receiver got %d requests, want 3", n)
	}

	db, err := postgres.Open(context.Background(), s.cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var attempts []int
	var statuses []int
	deadline := time.Now().Add(10 * time.Second)
	for len(attempts) < 3 && time.Now().Before(deadline) {
		log, err := db.Stores().Deliveries.Attempts(context.Background(), ws.ID, hookID, 10)
		if err != nil {
			t.Fatal(err)
		}
		attempts, statuses = nil, nil
		for _, a := range log {
			attempts, statuses = append(attempts, a.Attempt), append(statuses, a.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
	slices.Sort(attempts)
	slices.Sort(statuses)
	if !slices.Equal(attempts, []int{1, 2, 3}) || !slices.Equal(statuses, []int{200, 500, 500}) {
		t.Errorf("delivery log: attempts %v, statuses %v; want 1,2,3 and two 500s then 200", attempts, statuses)
	}
}

// Without the allow flag, non-public targets are refused at validation: nothing connects to them.
func TestWebhookSSRFTargetsAreRefusedWithoutConnecting(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var accepted atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	port := ln.Addr().(*net.TCPAddr).Port
	s := startServer(t)
	ws := s.bootstrap(t, "Acme")
	for _, u := range []string{
		"http://127.0.0.1:" + strconv.Itoa(port) + "/hook", "https://127.0.0.1:" + strconv.Itoa(port) + "/hook",
		"https://localhost:" + strconv.Itoa(port) + "/hook", "http://169.254.169.254/latest/meta-data",
		"https://169.254.169.254/", "https://10.0.0.1/hook",
	} {
		r := s.do(t, "POST", "/v1/webhooks", ws.APIKey, map[string]any{"url": u, "events": []string{"token.created"}})
		requireError(t, r, http.StatusUnprocessableEntity, "unprocessable_entity", "")
	}
	time.Sleep(100 * time.Millisecond)
	if n := accepted.Load(); n != 0 {
		t.Errorf("the loopback listener accepted %d connections", n)
	}
}

// After a secret rotation both secrets sign for 24 hours (both validate with the SDK helper); then
// only the new one does. A test ping and a redelivery arrive signed like any delivery, and the
// delivery log lists them.
func TestWebhookSecretRotationPingAndRedeliver(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, nil)
	s := startServer(t, fastWebhooks)
	ws := s.bootstrap(t, "Acme")
	hookID, oldSecret := s.createWebhook(t, ws.APIKey, rcv.URL, "token.created")
	var rotated struct{ Secret string }
	s.do(t, "POST", "/v1/webhooks/"+hookID+"/rotate-secret", ws.APIKey, nil).want(t, http.StatusOK).decode(t, &rotated)

	var ping struct {
		DeliveryID string `json:"delivery_id"`
		EventID    string `json:"event_id"`
	}
	s.do(t, "POST", "/v1/webhooks/"+hookID+"/test", ws.APIKey, nil).want(t, http.StatusAccepted).decode(t, &ping)
	got := rcv.waitFor(t, "the ping", func(ds []delivery) bool { return len(ds) >= 1 })
	if got[0].Event != "webhook.ping" || got[0].Header.Get("X-Tooken-Event-Id") != ping.EventID {
		t.Errorf("ping delivery = %s %s", got[0].Event, got[0].Header.Get("X-Tooken-Event-Id"))
	}
	for name, secret := range map[string]string{"old": oldSecret, "new": rotated.Secret} {
		if err := webhook.Verify(secret, got[0].Body, got[0].Header, s.Clock.Now(), 0); err != nil {
			t.Errorf("during the overlap the %s secret does not verify: %v", name, err)
		}
		if !webhook.VerifySignature(secret, got[0].Body, got[0].Header.Get("X-Tooken-Signature")) {
			t.Errorf("during the overlap X-Tooken-Signature does not verify with the %s secret", name)
		}
	}

	s.Clock.Set(t0.Add(24*time.Hour + time.Second))
	s.createToken(t, ws.APIKey, map[string]any{"name": "after-overlap", "scopes": []string{"tokens:read"}})
	got = rcv.waitFor(t, "token.created", func(ds []delivery) bool { return len(ds) >= 2 })
	after := got[1]
	if err := webhook.Verify(rotated.Secret, after.Body, after.Header, s.Clock.Now(), 0); err != nil {
		t.Errorf("after the overlap the new secret does not verify: %v", err)
	}
	if webhook.Verify(oldSecret, after.Body, after.Header, s.Clock.Now(), 0) == nil ||
		webhook.VerifySignature(oldSecret, after.Body, after.Header.Get("X-Tooken-Signature")) {
		t.Error("after the overlap the old secret still verifies")
	}

	// The delivery log shows both deliveries; redelivering the token.created sends the same event again.
	var log struct {
		Data []struct {
			DeliveryID string `json:"delivery_id"`
			EventID    string `json:"event_id"`
			Event      string `json:"event"`
			StatusCode *int   `json:"status_code"`
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(log.Data) < 2 && time.Now().Before(deadline) {
		s.do(t, "GET", "/v1/webhooks/"+hookID+"/deliveries", ws.APIKey, nil).want(t, http.StatusOK).decode(t, &log)
		time.Sleep(20 * time.Millisecond)
	}
	if len(log.Data) != 2 || log.Data[0].Event != "token.created" || log.Data[0].StatusCode == nil || *log.Data[0].StatusCode != 200 {
		t.Fatalf("delivery log = %+v", log.Data)
	}
	s.do(t, "POST", "/v1/webhooks/"+hookID+"/deliveries/"+log.Data[0].DeliveryID+"/redeliver", ws.APIKey, nil).want(t, http.StatusAccepted)
	got = rcv.waitFor(t, "the redelivery", func(ds []delivery) bool { return len(ds) >= 3 })
	if got[2].ID != log.Data[0].EventID || string(got[2].Body) != string(got[1].Body) {
		t.Errorf("redelivery carries %s, want the event %s with the same body", got[2].ID, log.Data[0].EventID)
	}
}

// A webhook whose deliveries fail continuously for 72 hours is disabled, with an audit event.
func TestWebhookFailingFor72HoursIsDisabled(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, func(int) int { return http.StatusServiceUnavailable })
	s := startServer(t, fastWebhooks)
	ws := s.bootstrap(t, "Acme")
	hookID, _ := s.createWebhook(t, ws.APIKey, rcv.URL, "token.created")
	s.createToken(t, ws.APIKey, map[string]any{"name": "unlucky", "scopes": []string{"tokens:read"}})
	// Two attempts: the second starts only after the first has been recorded as the start of the
	// failures (at t0); the receiver seeing the first does not mean that happened yet, and moving the
	// clock before it would date the failures from t0+73h.
	rcv.waitFor(t, "two failed attempts", func(ds []delivery) bool { return len(ds) >= 2 })
	var hook struct{ Enabled bool }
	s.do(t, "GET", "/v1/webhooks/"+hookID, ws.APIKey, nil).want(t, http.StatusOK).decode(t, &hook)
	if !hook.Enabled {
		t.Fatal("disabled after one failure")
	}
	s.Clock.Set(t0.Add(73 * time.Hour))
	// The next attempt decides. Automatic retries double from 20 ms, so on a loaded machine the next
	// one may be a minute away by now; a test ping is an attempt too, made at once.
	s.do(t, "POST", "/v1/webhooks/"+hookID+"/test", ws.APIKey, nil).want(t, http.StatusAccepted)
	// Polled every 250 ms: faster polling for that long runs into the workspace's rate limit.
	deadline := time.Now().Add(60 * time.Second)
	for hook.Enabled && time.Now().Before(deadline) {
		time.Sleep(250 * time.Millisecond)
		s.do(t, "GET", "/v1/webhooks/"+hookID, ws.APIKey, nil).want(t, http.StatusOK).decode(t, &hook)
	}
	if hook.Enabled {
		var log json.RawMessage
		s.do(t, "GET", "/v1/webhooks/"+hookID+"/deliveries", ws.APIKey, nil).want(t, http.StatusOK).decode(t, &log)
		t.Fatalf("still enabled after 72 hours of failures; receiver saw %d attempts; delivery log: %s", rcv.n.Load(), log)
	}
	var events struct {
		Data []struct {
			Actor  struct{ Type string }
			Target struct{ ID string }
		}
	}
	s.do(t, "GET", "/v1/audit-logs?action=webhook.disabled", ws.APIKey, nil).want(t, http.StatusOK).decode(t, &events)
	if len(events.Data) != 1 || events.Data[0].Actor.Type != "system" || events.Data[0].Target.ID != hookID {
		t.Errorf("webhook.disabled events = %+v", events.Data)
	}
}
