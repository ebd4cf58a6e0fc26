package faults

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tooken/tooken/adapters/postgres/postgrestest"
)

// SIGTERM drains the server: a request in flight when it arrives completes with 201, new connections
// are refused from then on, a request that never completes is cut at the shutdown timeout so the
// process exits within it, and the last_used_at of a credential used just before is flushed.
func TestSIGTERMDrainsInFlightRequestsFlushesUsageAndExitsWithinTheTimeout(t *testing.T) {
	t.Parallel()
	const shutdownTimeout = 3 * time.Second
	dbURL := postgrestest.NewDatabase(t)
	in := newInstallation(dbURL)
	key := in.bootstrap(t, "Acme")
	a := in.start(t, "TOOKEN_SHUTDOWN_TIMEOUT="+shutdownTimeout.String())
	tok := a.createToken(t, key, "used")
	addr := strings.TrimPrefix(a.client.URL, "http://")

	slow := startSlowCreate(t, addr, key)  // completes after SIGTERM
	stuck := startSlowCreate(t, addr, key) // never completes
	defer stuck.conn.Close()
	a.do(t, "GET", "/v1/tokens/"+tok.ID, tok.Token, nil, http.StatusOK, nil) // last_used_at, buffered (flush every 5 s)
	time.Sleep(200 * time.Millisecond)                                       // both handlers are reading their bodies
	term := time.Now()
	a.Signal(syscall.SIGTERM)

	waitFor(t, "new connections to be refused", 2*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	if status := slow.finish(t); status != http.StatusCreated {
		t.Errorf("the request in flight at SIGTERM got %d, want 201", status)
	}
	if !a.Wait(shutdownTimeout + 2*time.Second) {
		t.Fatalf("still running %v after SIGTERM (shutdown timeout %v)", time.Since(term), shutdownTimeout)
	}
	exited := time.Since(term)
	if exited > shutdownTimeout+time.Second {
		t.Errorf("exited %v after SIGTERM, want within the shutdown timeout %v (+1 s)", exited, shutdownTimeout)
	}
	if a.Err() == nil {
		t.Error("exit status 0 although a request was cut at the shutdown timeout")
	}
	if !strings.Contains(a.Log(), "shutdown timeout") {
		t.Errorf("the log does not say that a request was cut at the shutdown timeout:\n%s", a.Log())
	}
	db := openSQL(t, dbURL)
	if got := postgrestest.Strings(t, db, `SELECT id FROM tokens WHERE id = $1 AND last_used_at IS NOT NULL`, tok.ID); len(got) != 1 {
		t.Error("last_used_at of the credential used just before SIGTERM was not flushed")
	}
	t.Logf("exited %v after SIGTERM", exited.Round(time.Millisecond))
}

// slowCreate is a POST /v1/tokens whose body is sent in two halves, so that it is in flight for as
// long as the test wants.
type slowCreate struct {
	conn net.Conn
	rest string
}

func startSlowCreate(t *testing.T, addr, apiKey string) *slowCreate {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf(`{"name":"slow-%d","scopes":["tokens:read"]}`, serial.Add(1))
	half := len(body) / 2
	_, err = fmt.Fprintf(conn, "POST /v1/tokens HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", addr, apiKey, len(body), body[:half])
	if err != nil {
		t.Fatal(err)
	}
	return &slowCreate{conn: conn, rest: body[half:]}
}

// finish sends the rest of the body and returns the response's status.
func (s *slowCreate) finish(t *testing.T) int {
	t.Helper()
	defer s.conn.Close()
	if _, err := s.conn.Write([]byte(s.rest)); err != nil {
		t.Fatal(err)
	}
	_ = s.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(s.conn), nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	res.Body.Close()
	return res.StatusCode
}
