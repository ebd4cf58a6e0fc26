package contract

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tooken/tooken/cmd/tooken/app"
	"github.com/tooken/tooken/sdk"
)

// streamWait bounds every wait for a stream event: a bound on a failure, never a sleep.
const streamWait = 10 * time.Second

// sseEvent is one Server-Sent Event.
type sseEvent struct{ Event, ID, Data string }

// eventReader reads a stream's events as they arrive, in a goroutine of its own.
type eventReader struct {
	events chan sseEvent
	done   chan struct{} // closed when the body ends
	err    error         // why it ended; read only after done
}

func newEventReader(t *testing.T, resp *http.Response) *eventReader {
	t.Helper()
	r := &eventReader{events: make(chan sseEvent), done: make(chan struct{})}
	stop := make(chan struct{})
	t.Cleanup(func() {
		close(stop)
		resp.Body.Close()
		<-r.done
	})
	go func() {
		defer close(r.done)
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			if line == "" { // an empty line dispatches the event
				if ev != (sseEvent{}) {
					select {
					case r.events <- ev:
					case <-stop:
						return
					}
				}
				ev = sseEvent{}
				continue
			}
			if strings.HasPrefix(line, ":") { // a comment
				continue
			}
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "event":
				ev.Event = value
			case "id":
				ev.ID = value
			case "data":
				if ev.Data != "" {
					ev.Data += "\n"
				}
				ev.Data += value
			}
		}
		r.err = sc.Err()
	}()
	return r
}

// next returns the next event.
func (r *eventReader) next(t *testing.T) sseEvent {
	t.Helper()
	select {
	case ev := <-r.events:
		return ev
	case <-r.done:
		t.Fatalf("the stream ended: %v", r.err)
	case <-time.After(streamWait):
		t.Fatalf("no event within %s", streamWait)
	}
	return sseEvent{}
}

// nextOf returns the next event other than a heartbeat, which must be of kind; for kind heartbeat,
// the next event, which must be one.
func (r *eventReader) nextOf(t *testing.T, kind string) sseEvent {
	t.Helper()
	for {
		ev := r.next(t)
		if ev.Event == "heartbeat" && kind != "heartbeat" {
			continue
		}
		if ev.Event != kind {
			t.Fatalf("event = %+v, want a %s event", ev, kind)
		}
		return ev
	}
}

// ended fails the test unless the stream ends.
func (r *eventReader) ended(t *testing.T) {
	t.Helper()
	for {
		select {
		case <-r.events: // the rest of what was in flight
		case <-r.done:
			return
		case <-time.After(streamWait):
			t.Fatalf("the stream did not end within %s", streamWait)
		}
	}
}

// revocationOf checks a revocation event — its data against the spec's Revocation schema (the
// transport cannot read a stream's body), its id against the cursor — and decodes it.
func revocationOf(t *testing.T, ev sseEvent) sdk.Revocation {
	t.Helper()
	s, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	var raw any
	if err := json.Unmarshal([]byte(ev.Data), &raw); err != nil {
		t.Fatalf("revocation event data %q: %v", ev.Data, err)
	}
	if err := s.doc.Components.Schemas["Revocation"].Value.VisitJSON(raw); err != nil {
		t.Fatalf("revocation event data %s violates the spec: %v", ev.Data, err)
	}
	var r sdk.Revocation
	if err := json.Unmarshal([]byte(ev.Data), &r); err != nil {
		t.Fatal(err)
	}
	if ev.ID != r.Cursor {
		t.Errorf("event id = %q, want the entry's cursor %q", ev.ID, r.Cursor)
	}
	return r
}

// openStream connects to a workspace's revocation stream, resuming after lastEventID unless it is "".
func openStream(t *testing.T, ctx context.Context, e *env, workspaceID, lastEventID string) *eventReader {
	t.Helper()
	var params *sdk.StreamRevocationsParams
	if lastEventID != "" {
		params = &sdk.StreamRevocationsParams{LastEventID: &lastEventID}
	}
	resp, err := e.client(t, "").StreamRevocations(ctx, workspaceID, params)
	if err != nil {
		t.Fatalf("connecting to the stream: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		wantHTTP(t, resp, nil, http.StatusOK)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("stream Cache-Control = %q, want no-cache", cc)
	}
	return newEventReader(t, resp)
}

func heartbeatEvery50ms(c *app.Config) { c.Heartbeat = 50 * time.Millisecond }

func TestRevocationStreamReplaysAfterLastEventIDThenPushesRevocationsAndKeyChanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{}, heartbeatEvery50ms)
	ws := e.bootstrap(t, "Acme")
	first, second := mint(t, ws.Owner, "first", "tokens:read"), mint(t, ws.Owner, "second", "tokens:read")
	revokeToken(t, ws.Owner, first.Id)
	revokeToken(t, ws.Owner, second.Id)
	backlog := feedPage(t, e, ws.ID, nil).Data
	if len(backlog) != 2 {
		t.Fatalf("feed = %+v, want two entries", backlog)
	}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stream := openStream(t, ctx, e, ws.ID, backlog[0].Cursor)

	// The backlog after Last-Event-ID replays: the second entry only.
	if got := revocationOf(t, stream.nextOf(t, "revocation")); !reflect.DeepEqual(got, backlog[1]) {
		t.Errorf("replayed %+v, want %+v", got, backlog[1])
	}
	hb := stream.nextOf(t, "heartbeat")
	var beat struct{ Time int64 }
	if err := json.Unmarshal([]byte(hb.Data), &beat); err != nil || beat.Time <= 0 {
		t.Errorf("heartbeat data = %q, want {\"time\": <unix>}", hb.Data)
	}

	// A revocation committed now is pushed.
	third := mint(t, ws.Owner, "third", "tokens:read")
	revokeToken(t, ws.Owner, third.Id)
	pushed := revocationOf(t, stream.nextOf(t, "revocation"))
	if pushed.Jti != claimsOf(t, third.Token).JTI {
		t.Errorf("pushed %+v, want the third token's jti", pushed)
	}
	// Its id resumes where the feed does.
	if rest := feedPage(t, e, ws.ID, &sdk.GetRevocationsParams{After: &backlog[1].Cursor}).Data; len(rest) != 1 || !reflect.DeepEqual(rest[0], pushed) {
		t.Errorf("feed after %s = %+v, want exactly the pushed %+v", backlog[1].Cursor, rest, pushed)
	}

	// A new signing key tells verifiers to refetch the JWKS.
	rot, err := ws.Owner.RotateSigningKeyWithResponse(t.Context())
	want(t, rot, err, http.StatusCreated)
	stream.nextOf(t, "jwks")

	// Leaving ends it.
	cancel()
	stream.ended(t)
}

func TestRevocationStreamWithoutLastEventIDReplaysTheWholeFeed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws, other := e.bootstrap(t, "Acme"), e.bootstrap(t, "Globex")
	revokeToken(t, other.Owner, mint(t, other.Owner, "theirs", "tokens:read").Id)
	var jtis []string
	for _, name := range []string{"a", "b", "c"} {
		tok := mint(t, ws.Owner, name, "tokens:read")
		revokeToken(t, ws.Owner, tok.Id)
		jtis = append(jtis, claimsOf(t, tok.Token).JTI)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stream := openStream(t, ctx, e, ws.ID, "")
	for _, jti := range jtis {
		if got := revocationOf(t, stream.nextOf(t, "revocation")); got.Jti != jti {
			t.Errorf("replayed jti %s, want %s (feed order, this workspace only)", got.Jti, jti)
		}
	}
	// Nothing else is pending: the next entry pushed is the next one committed in this workspace.
	revokeToken(t, other.Owner, mint(t, other.Owner, "theirs-later", "tokens:read").Id)
	late := mint(t, ws.Owner, "late", "tokens:read")
	revokeToken(t, ws.Owner, late.Id)
	if got := revocationOf(t, stream.nextOf(t, "revocation")); got.Jti != claimsOf(t, late.Token).JTI {
		t.Errorf("pushed jti %s, want %s", got.Jti, claimsOf(t, late.Token).JTI)
	}
	cancel()
	stream.ended(t)
}

func TestRevocationStreamRejectsABadLastEventIDWith400(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	anon := e.client(t, "")
	for _, id := range []string{"abc", "-1", "1.5", "0x10", strings.Repeat("9", 21)} {
		t.Run(id, func(t *testing.T) {
			resp, err := anon.StreamRevocations(invalidRequest(t.Context()), ws.ID, &sdk.StreamRevocationsParams{LastEventID: &id})
			wantDetail(t, wantHTTP(t, resp, err, http.StatusBadRequest), "Last-Event-ID")
		})
	}
}
