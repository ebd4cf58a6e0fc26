package faults

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tooken/tooken/adapters/postgres/postgrestest"
	"github.com/tooken/tooken/internal/childproc"
)

// `kill -9` of the server while clients create and revoke tokens leaves no half-written state: every
// token has its token.created event, every revoked token its token.revoked event, every event a
// webhook subscribes to has its delivery job, every acknowledged write is stored, and the audit chain
// verifies. A new process on the same database then serves at once.
func TestKill9MidLoadLeavesNoHalfWrittenState(t *testing.T) {
	t.Parallel()
	dbURL := postgrestest.NewDatabase(t)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) }))
	defer rcv.Close()
	in := newInstallation(dbURL)
	key := in.bootstrap(t, "Acme")
	a := in.start(t)
	a.createWebhook(t, key, rcv.URL, "token.created", "token.revoked")

	var mu sync.Mutex
	var created, revoked []string // acknowledged with 201 and 204
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				r, err := a.send("POST", "/v1/tokens", key, tokenRequest("load"))
				if err != nil || r.Status != http.StatusCreated {
					continue
				}
				var tok token
				_ = json.Unmarshal(r.Body, &tok)
				mu.Lock()
				created = append(created, tok.ID)
				mu.Unlock()
				if i%2 == 0 {
					continue
				}
				if r, err := a.send("DELETE", "/v1/tokens/"+tok.ID, key, nil); err == nil && r.Status == http.StatusNoContent {
					mu.Lock()
					revoked = append(revoked, tok.ID)
					mu.Unlock()
				}
			}
		})
	}
	time.Sleep(1500 * time.Millisecond)
	a.kill()
	close(stop)
	wg.Wait()
	if len(created) == 0 || len(revoked) == 0 {
		t.Fatalf("%d creates and %d revokes acknowledged before the kill: no load", len(created), len(revoked))
	}

	db := openSQL(t, dbURL)
	stored := postgrestest.Strings(t, db, `SELECT id FROM tokens`)
	storedRevoked := postgrestest.Strings(t, db, `SELECT id FROM tokens WHERE revoked_at IS NOT NULL`)
	for _, id := range created {
		if !slices.Contains(stored, id) {
			t.Errorf("token %s was acknowledged with 201 but is not stored", id)
		}
	}
	for _, id := range revoked {
		if !slices.Contains(storedRevoked, id) {
			t.Errorf("token %s was acknowledged revoked with 204 but is not revoked", id)
		}
	}
	for _, c := range []struct{ what, query string }{
		{"tokens without their token.created event", `SELECT t.id FROM tokens t WHERE NOT EXISTS
			(SELECT 1 FROM audit_events e WHERE e.action = 'token.created' AND e.target_id = t.id)`},
		{"revoked tokens without their token.revoked event", `SELECT t.id FROM tokens t WHERE t.revoked_at IS NOT NULL
			AND NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.action = 'token.revoked' AND e.target_id = t.id)`},
		{"token.revoked events of tokens not revoked", `SELECT e.id FROM audit_events e JOIN tokens t ON t.id = e.target_id
			WHERE e.action = 'token.revoked' AND t.revoked_at IS NULL`},
		{"events without their webhook delivery job", `SELECT e.id FROM audit_events e
			WHERE e.action IN ('token.created', 'token.revoked') AND NOT EXISTS (SELECT 1 FROM river_job j
			WHERE j.kind = 'tooken.webhook_delivery' AND j.args->'delivery'->>'EventID' = e.id)`},
	} {
		if bad := postgrestest.Strings(t, db, c.query); len(bad) > 0 {
			t.Errorf("%d %s: %v", len(bad), c.what, bad)
		}
	}
	cmd := exec.Command(childproc.Binary(t), "audit", "verify")
	cmd.Env = in.env()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("tooken audit verify after the kill: %v\n%s", err, out)
	}

	b := in.start(t)
	tok := b.createToken(t, key, "after-restart")
	b.do(t, "GET", "/v1/tokens/"+tok.ID, tok.Token, nil, http.StatusOK, nil)
	t.Logf("%d creates and %d revokes acknowledged before the kill; %d tokens stored", len(created), len(revoked), len(stored))
}
