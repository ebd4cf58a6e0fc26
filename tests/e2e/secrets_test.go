package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	_ "github.com/lib/pq"
	"github.com/tooken/tooken/internal/childproc"
)

// hygiene collects, across the whole run, every secret the servers handed out, every log line they
// wrote (at debug level) and every audit event they stored; TestMain then checks that no secret
// appears in a log line or an audit event.
var hygiene struct {
	mu      sync.Mutex
	secrets map[string]string // secret → where it came from
	logs    []string
	events  []string
}

// TestMain runs the suite, then the secret-hygiene check over everything the run logged and audited.
func TestMain(m *testing.M) {
	code := m.Run()
	childproc.RemoveBinary()
	if leaks := secretLeaks(); len(leaks) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: secret hygiene: %d secrets found in logs or audit events:\n", len(leaks))
		for _, l := range leaks {
			fmt.Fprintln(os.Stderr, "\t"+l)
		}
		code = 1
	} else {
		hygiene.mu.Lock()
		fmt.Fprintf(os.Stderr, "e2e: secret hygiene: %d secrets, %d log lines, %d audit events, no secret found\n",
			len(hygiene.secrets), len(hygiene.logs), len(hygiene.events))
		hygiene.mu.Unlock()
	}
	os.Exit(code)
}

func secretLeaks() []string {
	hygiene.mu.Lock()
	defer hygiene.mu.Unlock()
	var leaks []string
	for secret, origin := range hygiene.secrets {
		for _, kind := range []struct {
			name  string
			lines []string
		}{{"log line", hygiene.logs}, {"audit event", hygiene.events}} {
			for _, l := range kind.lines {
				if strings.Contains(l, secret) {
					leaks = append(leaks, fmt.Sprintf("%s (%s…) in %s: %.300s", origin, secret[:12], kind.name, l))
					break
				}
			}
		}
	}
	return leaks
}

// recordSecret remembers a secret the server issued (too short a value could match by chance).
func recordSecret(origin, v string) {
	if len(v) < 16 {
		return
	}
	hygiene.mu.Lock()
	defer hygiene.mu.Unlock()
	if hygiene.secrets == nil {
		hygiene.secrets = map[string]string{}
	}
	hygiene.secrets[v] = origin
}

// recordResponseSecrets remembers the secrets in a response body: API keys (key), token values
// (token) and webhook secrets (secret), wherever they appear in the JSON.
func recordResponseSecrets(path string, body []byte) {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return
	}
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if s, ok := e.(string); ok && (k == "key" || k == "token" || k == "secret" || k == "password") {
					recordSecret(k+" from "+path, s)
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
}

func recordLogLine(line string) {
	hygiene.mu.Lock()
	defer hygiene.mu.Unlock()
	hygiene.logs = append(hygiene.logs, line)
}

// collectAuditEvents reads every audit event of the database at dbURL as JSON rows.
func collectAuditEvents(t *testing.T, dbURL string) {
	t.Helper()
	db, err := sql.Open("postgres", dbURL)
	if err != nil {
		t.Errorf("secret hygiene: %v", err)
		return
	}
	defer db.Close()
	rows, err := db.QueryContext(context.Background(), `SELECT row_to_json(a)::text FROM audit_events a`)
	if err != nil {
		t.Errorf("secret hygiene: reading audit events: %v", err)
		return
	}
	defer rows.Close()
	var events []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Errorf("secret hygiene: %v", err)
			return
		}
		events = append(events, s)
	}
	hygiene.mu.Lock()
	hygiene.events = append(hygiene.events, events...)
	hygiene.mu.Unlock()
}
