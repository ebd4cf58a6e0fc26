package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tooken/tooken/cmd/tooken/app"
)

// authFailures is the API's page of auth.failed events, with their aggregated counts.
type authFailures struct {
	Data []struct {
		Actor struct {
			Type string `json:"type"`
			ID   string `json:"id"`
		} `json:"actor"`
		IP       string `json:"ip"`
		Metadata struct {
			Count  int    `json:"count"`
			Reason string `json:"reason"`
		} `json:"metadata"`
	} `json:"data"`
}

// TestFailedAuthenticationsAreAggregatedIntoFewAuditEvents sends 300 requests with a revoked token
// (and some with garbage credentials) at once: the token's workspace records auth.failed events whose
// counts add up to 300, at most one per flush interval of the burst, each naming the token, the
// client IP and the reason; the events of no workspace form a chain of their own, and every chain
// still verifies.
func TestFailedAuthenticationsAreAggregatedIntoFewAuditEvents(t *testing.T) {
	t.Parallel()
	const flush = 200 * time.Millisecond
	s := startServer(t, func(c *app.Config) { c.UsageFlush = flush })
	ws := s.bootstrap(t, "Acme")
	tok := s.createToken(t, ws.APIKey, map[string]any{"name": "revoked", "scopes": []string{"tokens:read"}})
	s.do(t, "DELETE", "/v1/tokens/"+tok.ID, ws.APIKey, nil).want(t, http.StatusNoContent)

	began := time.Now()
	rs := s.concurrently(t, 330, func(i int) (string, string, http.Header, any) {
		if i%11 == 10 {
			return "GET", "/v1/tokens", bearer("garbage"), nil
		}
		return "GET", "/v1/tokens/" + tok.ID, bearer(tok.Token), nil
	})
	took := time.Since(began)
	for _, r := range rs {
		if r.Status != http.StatusUnauthorized {
			t.Fatalf("%v; want 401", r)
		}
	}

	var got authFailures
	deadline := time.Now().Add(flush + 2*time.Second)
	for {
		s.do(t, "GET", "/v1/audit-logs?per_page=100&action=auth.failed", ws.APIKey, nil).want(t, http.StatusOK).decode(t, &got)
		total := 0
		for _, ev := range got.Data {
			total += ev.Metadata.Count
		}
		if total == 300 {
			break
		}
		if total > 300 || time.Now().After(deadline) {
			t.Fatalf("auth.failed events count %d failures (%d events), want 300", total, len(got.Data))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if limit := int(took/flush) + 2; len(got.Data) > limit {
		t.Errorf("%d auth.failed events for a burst of %v, want at most %d (one per %v flush)", len(got.Data), took, limit, flush)
	}
	for _, ev := range got.Data {
		if ev.Actor.Type != "token" || ev.Actor.ID != tok.ID || ev.IP != "127.0.0.1" || ev.Metadata.Reason != "Token has been revoked" {
			t.Errorf("auth.failed event %+v, want actor token %s, ip 127.0.0.1, reason \"Token has been revoked\"", ev, tok.ID)
		}
	}

	// The 30 garbage credentials name no workspace: their events are chained apart.
	db := s.openDB(t)
	var unknown, events int
	deadline = time.Now().Add(flush + 2*time.Second)
	for {
		if err := db.QueryRow(`SELECT COALESCE(SUM((metadata->>'count')::int), 0), COUNT(*) FROM audit_events
WHERE workspace_id = '' AND action = 'auth.failed'`).Scan(&unknown, &events); err != nil {
			t.Fatal(err)
		}
		if unknown == 30 {
			break
		}
		if unknown > 30 || time.Now().After(deadline) {
			t.Fatalf("auth.failed events of no workspace count %d failures, want 30", unknown)
		}
		time.Sleep(10 * time.Millisecond)
	}
	out, code := s.auditVerify(t, buildCLI(t))
	if code != 0 || !strings.Contains(out, ws.ID+": ok, ") || !strings.Contains(out, fmt.Sprintf("(no workspace): ok, %d events checked", events)) {
		t.Errorf("audit verify (exit %d):\n%s\nwant exit 0, %s ok and (no workspace) ok with %d events", code, out, ws.ID, events)
	}
}
