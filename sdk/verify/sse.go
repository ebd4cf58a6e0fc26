package verify

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"
)

const maxSSELine = 64 << 10

// sseEvent is one dispatched Server-Sent Event.
type sseEvent struct {
	name, id, data string
	hasID          bool
}

// stream follows the revocation stream until it ends, ctx is done, or it stays silent for longer
// than the idle timeout. delivered reports whether the connection was established.
func (v *Verifier) stream(ctx context.Context) (delivered bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.streamURI, nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	if v.cursor != "" && v.cursor != "0" {
		req.Header.Set("Last-Event-ID", v.cursor)
	}
	started := v.cfg.now()
	idle := time.AfterFunc(v.cfg.fetchTimeout, cancel)
	defer idle.Stop()
	resp, err := v.cfg.client.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("stream: HTTP %d", resp.StatusCode)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/event-stream" {
		return false, fmt.Errorf("stream: content type %q", mt)
	}
	v.heard(started)
	v.streamUp.Store(true)
	defer v.streamUp.Store(false)
	idle.Reset(v.cfg.streamIdle)

	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 4096), maxSSELine)
	var ev sseEvent
	var data strings.Builder
	for sc.Scan() {
		idle.Reset(v.cfg.streamIdle)
		v.heard(v.cfg.now())
		line := sc.Text()
		if line == "" {
			if data.Len() > 0 {
				ev.data = strings.TrimSuffix(data.String(), "\n")
				if err := v.dispatch(ev); err != nil {
					return true, err
				}
			}
			ev.name, ev.data, ev.hasID = "", "", false
			data.Reset()
			continue
		}
		if line[0] == ':' {
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "event":
			ev.name = value
		case "data":
			data.WriteString(value)
			data.WriteByte('\n')
		case "id":
			if !strings.ContainsRune(value, 0) {
				ev.id, ev.hasID = value, true
			}
		}
	}
	if err := sc.Err(); err != nil {
		return true, err
	}
	return true, fmt.Errorf("stream ended")
}

// dispatch applies one event of the revocation stream. An event it cannot apply ends the stream, so
// that the feed, polled from the last applied cursor, delivers the entry instead.
func (v *Verifier) dispatch(ev sseEvent) error {
	switch ev.name {
	case "revocation":
		var e feedEntry
		if err := json.Unmarshal([]byte(ev.data), &e); err != nil {
			return fmt.Errorf("unreadable revocation event: %w", err)
		}
		if err := v.apply(e); err != nil {
			return err
		}
		if ev.hasID && ev.id != "" {
			v.cursor = ev.id
		}
	case "jwks":
		v.keys.force()
	case "heartbeat":
		v.revs.prune(v.cfg.now(), v.cfg.leeway)
	}
	return nil
}
