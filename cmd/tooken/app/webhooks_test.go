package app_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tooken/tooken/cmd/tooken/app"
	"github.com/tooken/tooken/core"
	"github.com/tooken/tooken/ports"
)

// TestWebhookOutboxOnSQLite keeps the webhook's secret sealed in the database, and writes events while no worker runs (the server is open but not
// started): their deliveries wait in the job queue, committed with the events, and reach the
// receiver once the server runs. A mutation that fails (a duplicate token name) enqueues nothing.
func TestWebhookOutboxOnSQLite(t *testing.T) {
	var mu sync.Mutex
	var events []string
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var env struct{ Event string }
		_ = json.Unmarshal(body, &env)
		mu.Lock()
		events = append(events, env.Event+" "+r.Header.Get("X-Tooken-Event-Id"))
		mu.Unlock()
	}))
	defer rcv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	dir := t.TempDir()
	cfg := app.Config{Addr: "127.0.0.1:0", DataDir: dir, Migrate: true, Logger: quiet(),
		WebhookAllowPrivate: true, WebhookRetryBase: 10 * time.Millisecond, JobPoll: 20 * time.Millisecond}
	m, err := app.Listen(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.Service.Bootstrap(ctx, core.BootstrapInput{Email: "ops@example.com", Workspace: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := m.Service.Authenticate(ctx, b.APIKey)
	if err != nil {
		t.Fatal(err)
	}
	hook, err := m.Service.CreateWebhook(ctx, p, core.CreateWebhookInput{URL: rcv.URL, Events: []string{"token.created"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Service.CreateToken(ctx, p, core.CreateTokenInput{Name: "first", Scopes: []string{"tokens:read"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Service.CreateToken(ctx, p, core.CreateTokenInput{Name: "first", Scopes: []string{"tokens:read"}}); ports.ErrorCode(err) != ports.ECONFLICT {
		t.Fatalf("duplicate name: %v", err)
	}

	var running sync.WaitGroup
	running.Go(func() {
		if err := m.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	defer func() { cancel(); running.Wait(); m.Close() }()

	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(events)
		mu.Unlock()
		if n >= 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // room for a wrongly enqueued second delivery
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 1 || !strings.HasPrefix(events[0], "token.created evt_") {
		t.Fatalf("receiver got %v, want one token.created", events)
	}

	raw, err := sql.Open("sqlite", filepath.Join(dir, "tooken.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var stored string
	if err := raw.QueryRow(`SELECT secret FROM webhooks WHERE id = ?`, hook.ID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stored, "enc:v1:") || strings.Contains(stored, hook.Secret) {
		t.Errorf("the secret is stored as %q, want it sealed", stored)
	}
}
