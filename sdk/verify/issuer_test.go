package verify

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type feedRow struct {
	jti       string
	exp       *int64
	revokedAt int64
	cursor    int
}

// fakeIssuer serves a Tooken issuer's discovery, JWKS, revocation feed and stream.
type fakeIssuer struct {
	tb     testing.TB
	clock  *testClock
	srv    *httptest.Server
	issuer string

	mu          sync.Mutex
	keys        []*testKey
	maxAge      int
	rows        []feedRow
	subs        map[chan string]struct{}
	kill        chan struct{}
	down        bool
	streamDown  bool
	noFeed      bool
	noStream    bool
	lastEventID []string
	heartbeat   time.Duration
	jtiSeq      int

	jwksFetches atomic.Int64
	feedFetches atomic.Int64
	streamConns atomic.Int64
}

func newFakeIssuer(tb testing.TB, keys ...*testKey) *fakeIssuer {
	tb.Helper()
	f := &fakeIssuer{
		tb: tb, clock: newTestClock(), keys: keys, maxAge: 300,
		subs: map[chan string]struct{}{}, kill: make(chan struct{}), heartbeat: 50 * time.Millisecond,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /w/ws_test/.well-known/openid-configuration", f.discovery)
	mux.HandleFunc("GET /w/ws_test/.well-known/jwks.json", f.jwks)
	mux.HandleFunc("GET /w/ws_test/revocations", f.feed)
	mux.HandleFunc("GET /w/ws_test/revocations/stream", f.stream)
	f.srv = httptest.NewServer(mux)
	f.issuer = f.srv.URL + "/w/ws_test"
	tb.Cleanup(func() {
		f.mu.Lock()
		f.down = true
		close(f.kill)
		f.kill = make(chan struct{})
		f.mu.Unlock()
		f.srv.CloseClientConnections()
		f.srv.Close()
	})
	return f
}

func (f *fakeIssuer) set(fn func(f *fakeIssuer)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeIssuer) isDown() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.down
}

func (f *fakeIssuer) unavailable(w http.ResponseWriter) bool {
	if f.isDown() {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return true
	}
	return false
}

func (f *fakeIssuer) discovery(w http.ResponseWriter, r *http.Request) {
	if f.unavailable(w) {
		return
	}
	doc := map[string]any{
		"issuer":                             f.issuer,
		"jwks_uri":                           f.issuer + "/.well-known/jwks.json",
		"token_signing_alg_values_supported": []string{"ES256", "EdDSA", "RS256"},
	}
	f.mu.Lock()
	if !f.noFeed {
		doc["revocation_feed_uri"] = f.issuer + "/revocations"
		if !f.noStream {
			doc["revocation_stream_uri"] = f.issuer + "/revocations/stream"
		}
	}
	f.mu.Unlock()
	writeJSON(w, doc)
}

func (f *fakeIssuer) jwks(w http.ResponseWriter, r *http.Request) {
	f.jwksFetches.Add(1)
	if f.unavailable(w) {
		return
	}
	f.mu.Lock()
	keys := []map[string]any{}
	for _, k := range f.keys {
		keys = append(keys, k.jwk())
	}
	w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", f.maxAge))
	f.mu.Unlock()
	writeJSON(w, map[string]any{"keys": keys})
}

func (f *fakeIssuer) feed(w http.ResponseWriter, r *http.Request) {
	f.feedFetches.Add(1)
	if f.unavailable(w) {
		return
	}
	after, _ := strconv.Atoi(r.URL.Query().Get("after"))
	limit, err := strconv.Atoi(r.URL.Query().Get("limit"))
	if err != nil || limit <= 0 || limit > 500 {
		limit = 500
	}
	now := f.clock.Now().Unix()
	f.mu.Lock()
	data := []map[string]any{}
	next, more := after, false
	for _, row := range f.rows {
		if row.cursor <= after || (row.exp != nil && *row.exp <= now) {
			continue
		}
		if len(data) == limit {
			more = true
			break
		}
		data = append(data, row.json(true))
		next = row.cursor
	}
	f.mu.Unlock()
	writeJSON(w, map[string]any{"data": data, "next_cursor": strconv.Itoa(next), "has_more": more})
}

func (row feedRow) json(withCursor bool) map[string]any {
	m := map[string]any{"jti": row.jti, "exp": row.exp, "revoked_at": row.revokedAt}
	if withCursor {
		m["cursor"] = strconv.Itoa(row.cursor)
	}
	return m
}

func (row feedRow) event() string {
	b, _ := json.Marshal(row.json(false))
	return fmt.Sprintf("event: revocation\nid: %d\ndata: %s\n\n", row.cursor, b)
}

func (f *fakeIssuer) stream(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	if f.down || f.streamDown {
		f.mu.Unlock()
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	f.streamConns.Add(1)
	lastID := r.Header.Get("Last-Event-ID")
	f.lastEventID = append(f.lastEventID, lastID)
	after, _ := strconv.Atoi(lastID)
	sub := make(chan string, 4096)
	for _, row := range f.rows {
		if row.cursor > after {
			sub <- row.event()
		}
	}
	f.subs[sub] = struct{}{}
	kill, beat := f.kill, f.heartbeat
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.subs, sub)
		f.mu.Unlock()
	}()

	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	fl := w.(http.Flusher)
	fmt.Fprint(w, ": connected\n\n")
	fl.Flush()
	tick := time.NewTicker(beat)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-kill:
			return
		case msg := <-sub:
			fmt.Fprint(w, msg)
		case <-tick.C:
			fmt.Fprintf(w, "event: heartbeat\ndata: {\"time\":%d}\n\n", f.clock.Now().Unix())
		}
		fl.Flush()
	}
}

func (f *fakeIssuer) broadcast(msg string) {
	for sub := range f.subs {
		select {
		case sub <- msg:
		default:
		}
	}
}

// revoke appends a feed entry and pushes it to the connected streams.
func (f *fakeIssuer) revoke(jti string, exp *int64, revokedAt time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	row := feedRow{jti: jti, exp: exp, revokedAt: revokedAt.Unix(), cursor: len(f.rows) + 1}
	f.rows = append(f.rows, row)
	f.broadcast(row.event())
}

// jwksEvent tells the connected streams that the JWKS changed.
func (f *fakeIssuer) jwksEvent() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.broadcast("event: jwks\ndata: {}\n\n")
}

// killStreams ends the stream connections open now.
func (f *fakeIssuer) killStreams() {
	f.mu.Lock()
	defer f.mu.Unlock()
	close(f.kill)
	f.kill = make(chan struct{})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// claims returns the standard claims of a fresh token of this issuer.
func (f *fakeIssuer) claims() map[string]any {
	f.mu.Lock()
	f.jtiSeq++
	n := f.jtiSeq
	f.mu.Unlock()
	now := f.clock.Now().Unix()
	return map[string]any{
		"iss": f.issuer, "sub": "tok_abc", "client_id": "tok_abc", "aud": []string{"https://api.example.com"},
		"jti": fmt.Sprintf("jti_%06d", n), "iat": now, "nbf": now, "exp": now + 3600,
		"scope": "tokens:read orders:read", "wid": "ws_test",
	}
}

// token signs a token with k; edit may change its header and claims first.
func (f *fakeIssuer) token(k *testKey, edit func(h, c map[string]any)) string {
	h := map[string]any{"alg": k.alg, "kid": k.kid, "typ": "at+jwt"}
	c := f.claims()
	if edit != nil {
		edit(h, c)
	}
	return k.compact(h, c)
}

// verifier returns a Verifier of f that uses f's clock; it is closed when the test ends.
func (f *fakeIssuer) verifier(opts ...Option) *Verifier {
	f.tb.Helper()
	base := []Option{WithHTTPClient(f.srv.Client()), WithClock(f.clock.Now),
		withStreamTiming(2*time.Second, 10*time.Millisecond, 50*time.Millisecond)}
	v, err := New(f.tb.Context(), f.issuer, append(base, opts...)...)
	if err != nil {
		f.tb.Fatalf("New: %v", err)
	}
	f.tb.Cleanup(func() { v.Close() })
	return v
}

// eventually polls cond until it holds or the deadline passes.
func eventually(tb testing.TB, what string, cond func() bool) time.Duration {
	tb.Helper()
	start := time.Now()
	for deadline := start.Add(10 * time.Second); time.Now().Before(deadline); {
		if cond() {
			return time.Since(start)
		}
		time.Sleep(time.Millisecond)
	}
	tb.Fatalf("timed out waiting for %s", what)
	return 0
}
