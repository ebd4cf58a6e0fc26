// Package changehub fans ports.Change values out to the subscribers of one process. The memory and
// SQLite stores publish to a Hub after each successful commit; the PostgreSQL adapter publishes what
// its LISTEN connection receives. Publishing never blocks: a subscriber whose buffer is full loses
// what it has not read yet and gets a ChangeResync in its place, which tells it to drop every cache.
package changehub

import (
	"context"
	"sync"

	"github.com/tooken/tooken/ports"
)

// DefaultBuffer is the number of changes a subscriber may leave unread before it is resynced.
const DefaultBuffer = 256

// Hub delivers published changes to every current subscriber. The zero value is not usable: call New.
type Hub struct {
	buffer int
	mu     sync.Mutex
	subs   map[chan ports.Change]struct{}
	closed bool
}

var _ ports.ChangeStream = (*Hub)(nil)

// New returns a hub whose subscribers each buffer up to buffer changes (DefaultBuffer if buffer < 1).
func New(buffer int) *Hub {
	if buffer < 1 {
		buffer = DefaultBuffer
	}
	return &Hub{buffer: buffer, subs: make(map[chan ports.Change]struct{})}
}

// Subscribe delivers every change published after the call until ctx ends or the hub is closed, then
// closes the channel. EUNAVAILABLE once the hub is closed.
func (h *Hub) Subscribe(ctx context.Context) (<-chan ports.Change, error) {
	if err := ctx.Err(); err != nil {
		return nil, ports.Internal(err)
	}
	ch := make(chan ports.Change, h.buffer)
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, ports.Errorf(ports.EUNAVAILABLE, "the change stream is closed")
	}
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	context.AfterFunc(ctx, func() { h.unsubscribe(ch) })
	return ch, nil
}

func (h *Hub) unsubscribe(ch chan ports.Change) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[ch]; ok {
		delete(h.subs, ch)
		close(ch)
	}
}

// Publish delivers changes, in order, to every subscriber without blocking.
func (h *Hub) Publish(changes ...ports.Change) {
	if len(changes) == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		for _, c := range changes {
			deliver(ch, c)
		}
	}
}

// Resync delivers ChangeResync to every subscriber: changes may have been lost.
func (h *Hub) Resync() { h.Publish(ports.Change{Kind: ports.ChangeResync}) }

// Subscribers returns the number of current subscribers.
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// Close closes every subscriber's channel; later subscriptions fail. It may be called more than once.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for ch := range h.subs {
		delete(h.subs, ch)
		close(ch)
	}
}

// deliver sends c to ch, or, when ch is full, replaces everything ch holds by one ChangeResync: a
// resync drops every cache, so the changes it replaces are covered. The caller holds h.mu, so no
// other sender can refill the room made.
func deliver(ch chan ports.Change, c ports.Change) {
	select {
	case ch <- c:
		return
	default:
	}
	for drained := false; !drained; {
		select {
		case <-ch:
		default:
			drained = true
		}
	}
	ch <- ports.Change{Kind: ports.ChangeResync}
}
