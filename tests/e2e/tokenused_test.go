package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/tooken/tooken/cmd/tooken/app"
	"github.com/tooken/tooken/sdk/webhook"
)

// tokenUsed is the envelope of a token.used delivery.
type tokenUsed struct {
	ID    string `json:"id"`
	Event string `json:"event"`
	Data  struct {
		WorkspaceID string                     `json:"workspace_id"`
		UsedAt      string                     `json:"used_at"`
		Token       map[string]json.RawMessage `json:"token"`
	} `json:"data"`
}

// A webhook subscribed to token.used gets exactly one event per token per minute, however many
// requests the token served and however many replicas flushed its use concurrently, signed so that
// the SDK helper accepts it; a webhook not subscribed to it gets none, and the audit log has none.
func TestTokenUsedIsDeliveredOncePerTokenPerMinute(t *testing.T) {
	t.Parallel()
	used, other := newReceiver(t, nil), newReceiver(t, nil)
	s := startServer(t, fastWebhooks, func(c *app.Config) { c.UsageFlush = time.Hour }) // flushed by hand below
	r := s.replica(t)
	ws := s.bootstrap(t, "Acme")
	_, secret := s.createWebhook(t, ws.APIKey, used.URL, "token.used")
	s.createWebhook(t, ws.APIKey, other.URL, "token.created", "token.revoked")
	a := s.createToken(t, ws.APIKey, map[string]any{"name": "a", "scopes": []string{"tokens:read"}})
	b := s.createToken(t, ws.APIKey, map[string]any{"name": "b", "scopes": []string{"tokens:read"}})

	useAndFlush := func(toks ...tokenJSON) {
		t.Helper()
		for _, srv := range []*server{s, r} {
			for _, tok := range toks {
				for range 3 {
					srv.do(t, "GET", "/v1/tokens/"+tok.ID, tok.Token, nil).want(t, http.StatusOK)
				}
			}
		}
		var wg sync.WaitGroup // both replicas flush at once
		for _, srv := range []*server{s, r} {
			wg.Go(func() {
				if err := srv.Service.FlushUsage(context.Background()); err != nil {
					t.Errorf("FlushUsage: %v", err)
				}
			})
		}
		wg.Wait()
	}
	s.Clock.Set(t0.Add(time.Minute))
	useAndFlush(a, b)
	s.Clock.Set(t0.Add(time.Minute + 30*time.Second))
	useAndFlush(a, b) // within the minute: nothing more
	s.Clock.Set(t0.Add(2 * time.Minute))
	useAndFlush(a) // a minute after a's sampled use: one more for a

	distinct := func(ds []delivery) map[string]delivery {
		m := map[string]delivery{}
		for _, d := range ds {
			m[d.ID] = d
		}
		return m
	}
	used.waitFor(t, "three token.used events", func(ds []delivery) bool { return len(distinct(ds)) >= 3 })
	other.waitFor(t, "two token.created events", func(ds []delivery) bool { return len(ds) >= 2 })
	time.Sleep(500 * time.Millisecond) // room for an extra delivery to show up
	used.mu.Lock()
	got := distinct(used.got)
	used.mu.Unlock()
	perToken := map[string][]string{}
	for _, d := range got {
		var env tokenUsed
		if err := json.Unmarshal(d.Body, &env); err != nil {
			t.Fatal(err)
		}
		var id string
		_ = json.Unmarshal(env.Data.Token["id"], &id)
		perToken[id] = append(perToken[id], env.Data.UsedAt)
		if env.Event != "token.used" || env.Data.WorkspaceID != ws.ID {
			t.Errorf("envelope %s", d.Body)
		}
		if _, leaked := env.Data.Token["token"]; leaked {
			t.Errorf("token.used carries the token's value: %s", d.Body)
		}
		if err := webhook.Verify(secret, d.Body, d.Header, s.Clock.Now(), 0); err != nil {
			t.Errorf("token.used does not verify: %v", err)
		}
	}
	first, second := rfc3339(t0.Add(time.Minute)), rfc3339(t0.Add(2*time.Minute))
	if len(got) != 3 || len(perToken[a.ID]) != 2 || len(perToken[b.ID]) != 1 || perToken[b.ID][0] != first ||
		!(perToken[a.ID][0] == first && perToken[a.ID][1] == second || perToken[a.ID][0] == second && perToken[a.ID][1] == first) {
		t.Errorf("token.used events (used_at per token) = %v; want a: %s and %s, b: %s", perToken, first, second, first)
	}
	other.mu.Lock()
	for _, d := range other.got {
		if d.Event != "token.created" {
			t.Errorf("the webhook not subscribed to token.used got %s", d.Event)
		}
	}
	other.mu.Unlock()
	if n := s.audit(t, ws, "action=token.used").Meta.Total; n != 0 {
		t.Errorf("%d token.used audit events, want none", n)
	}
}
