package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/tooken/tooken/core"
	"github.com/tooken/tooken/ports"
)

// GetRevocations implements GET /w/{workspace_id}/revocations.
func (s *Server) GetRevocations(ctx context.Context, req GetRevocationsRequestObject) (GetRevocationsResponseObject, error) {
	after, err := parseCursor("after", req.Params.After)
	if err != nil {
		return nil, err
	}
	limit := core.MaxFeedPage
	if req.Params.Limit != nil {
		limit = *req.Params.Limit
	}
	list, more, err := s.svc.Revocations(ctx, req.WorkspaceId, after, limit)
	if err != nil {
		return nil, err
	}
	page := RevocationPage{Data: make([]Revocation, len(list)), NextCursor: strconv.FormatInt(after, 10), HasMore: more}
	for i := range list {
		page.Data[i] = revocationOut(&list[i])
		page.NextCursor = page.Data[i].Cursor
	}
	cc := "public, max-age=1"
	return GetRevocations200JSONResponse{Body: page, Headers: GetRevocations200ResponseHeaders{CacheControl: &cc}}, nil
}

func parseCursor(field string, v *string) (int64, error) {
	if v == nil || *v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(*v, 10, 64)
	if err != nil || n < 0 {
		return 0, &ports.Error{Code: ports.EINVALID, Message: field + " must be a cursor returned by the feed",
			Details: map[string]string{field: "not a feed cursor"}}
	}
	return n, nil
}

func revocationOut(r *ports.Revocation) Revocation {
	out := Revocation{Jti: r.JTI, RevokedAt: r.RevokedAt.Unix(), Cursor: strconv.FormatInt(r.Seq, 10)}
	if r.ExpiresAt != nil {
		exp := r.ExpiresAt.Unix()
		out.Exp = &exp
	}
	return out
}

// StreamRevocations implements GET /w/{workspace_id}/revocations/stream (Server-Sent Events).
func (s *Server) StreamRevocations(ctx context.Context, req StreamRevocationsRequestObject) (StreamRevocationsResponseObject, error) {
	after, err := parseCursor("Last-Event-ID", req.Params.LastEventID)
	if err != nil {
		return nil, err
	}
	events, err := s.svc.WatchRevocations(ctx, req.WorkspaceId, after)
	if err != nil {
		return nil, err
	}
	return sseStream{ctx: ctx, done: s.done, events: events, heartbeat: s.heartbeat}, nil
}

// sseStream writes a revocation stream until the client leaves or the server shuts down.
type sseStream struct {
	ctx       context.Context
	done      <-chan struct{} // nil: never
	events    <-chan core.FeedEvent
	heartbeat time.Duration
}

// VisitStreamRevocationsResponse implements StreamRevocationsResponseObject.
func (st sseStream) VisitStreamRevocationsResponse(w http.ResponseWriter) error {
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's write timeout
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	beat := time.NewTicker(st.heartbeat)
	defer beat.Stop()
	write := func(format string, args ...any) error {
		if _, err := fmt.Fprintf(w, format, args...); err != nil {
			return err
		}
		return rc.Flush()
	}
	if err := write(": tooken revocation stream\n\n"); err != nil {
		return nil
	}
	for {
		var err error
		select {
		case <-st.ctx.Done():
			return nil
		case <-st.done:
			return nil
		case t := <-beat.C:
			err = write("event: heartbeat\ndata: {\"time\":%d}\n\n", t.Unix())
		case e, ok := <-st.events:
			if !ok {
				return nil
			}
			if e.KeysChanged {
				err = write("event: jwks\ndata: {}\n\n")
				break
			}
			r := revocationOut(e.Revocation)
			data, _ := json.Marshal(r)
			err = write("event: revocation\nid: %s\ndata: %s\n\n", r.Cursor, data)
		}
		if err != nil {
			return nil // the client went away
		}
	}
}
