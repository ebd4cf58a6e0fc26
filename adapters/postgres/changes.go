package postgres

import (
	"context"
	"sync"
	"time"

	"github.com/lib/pq"
	"github.com/tooken/tooken/adapters/internal/changehub"
	"github.com/tooken/tooken/adapters/internal/sqlstore"
	"github.com/tooken/tooken/ports"
)

// notifyChannel is the channel every replica's stores announce their changes on: each announcing
// mutation runs SELECT pg_notify(notifyChannel, <change JSON>) in its own transaction, and PostgreSQL
// delivers the notification on commit only, to every session listening on the database.
const notifyChannel = "tooken_changes"

// feedLockKey names the transaction-scoped advisory lock that serialises revocation-feed appends
// until commit, so that seq order is commit order ("tookenfd" in ASCII).
const feedLockKey = 0x746f6f6b656e6664

// Listener tuning: how soon a lost connection is retried (doubling up to the maximum), and how long
// a first Subscribe waits for LISTEN before it returns anyway (it then gets ChangeResync once the
// listener is up).
const (
	minReconnect = 100 * time.Millisecond
	maxReconnect = 2 * time.Second
	listenWait   = 5 * time.Second
)

// ChangeStream implements ports.ChangeStream with LISTEN on one dedicated connection per DB, opened on
// the first Subscribe and shared by every subscriber (each gets a bounded buffer, see changehub).
// After the connection is lost and re-established every subscriber gets ChangeResync, since
// notifications sent meanwhile are gone.
type ChangeStream struct {
	dsn   string
	hub   *changehub.Hub
	ready chan struct{} // closed once the first LISTEN has succeeded or failed (err then set)
	err   error

	mu       sync.Mutex
	listener *pq.Listener
	closed   bool
}

var _ ports.ChangeStream = (*ChangeStream)(nil)

func newChangeStream(dsn string) *ChangeStream {
	return &ChangeStream{dsn: dsn, hub: changehub.New(changehub.DefaultBuffer),
		ready: make(chan struct{})}
}

// Subscribe delivers every change committed through any replica's stores after the call, until ctx
// ends or the DB is closed, then closes the channel. The first call opens the listening connection
// and waits (briefly) for LISTEN to take effect. EUNAVAILABLE if LISTEN failed or the DB is closed.
func (s *ChangeStream) Subscribe(ctx context.Context) (<-chan ports.Change, error) {
	if err := ctx.Err(); err != nil {
		return nil, ports.Internal(err)
	}
	if err := s.start(); err != nil {
		return nil, err
	}
	wait := time.NewTimer(listenWait)
	defer wait.Stop()
	select {
	case <-s.ready:
		if s.err != nil {
			return nil, s.err
		}
	case <-wait.C:
	case <-ctx.Done():
		return nil, ports.Internal(ctx.Err())
	}
	return s.hub.Subscribe(ctx)
}

func (s *ChangeStream) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return ports.Errorf(ports.EUNAVAILABLE, "the database is closed")
	case s.listener != nil:
		return nil
	}
	s.listener = pq.NewDialListener(newDialer(), withParam(s.dsn, "connect_timeout", connectTimeout), minReconnect, maxReconnect, nil)
	go s.listen(s.listener)
	go s.dispatch(s.listener)
	return nil
}

// listen issues the LISTEN (the pq.Listener repeats it on every reconnection). Subscribers that did
// not wait for it get ChangeResync. If it fails, the stream is unusable: its subscriptions end.
func (s *ChangeStream) listen(l *pq.Listener) {
	if err := l.Listen(notifyChannel); err != nil {
		s.err = &ports.Error{Code: ports.EUNAVAILABLE, Message: "cannot listen for changes", Err: err}
		close(s.ready)
		s.hub.Close()
		return
	}
	// Resync first, then announce readiness: a subscriber that waited for the LISTEN subscribes after
	// the resync and must not receive it (nothing was missed); only those that gave up waiting do.
	s.hub.Resync()
	close(s.ready)
}

// dispatch fans out what the listener receives until it is closed. pq sends a nil notification after
// re-establishing a lost connection: changes may have been missed, so subscribers resync.
func (s *ChangeStream) dispatch(l *pq.Listener) {
	for n := range l.Notify {
		if n == nil {
			s.hub.Resync()
			continue
		}
		c, err := sqlstore.DecodeChange(n.Extra)
		if err != nil {
			s.hub.Resync()
			continue
		}
		s.hub.Publish(c)
	}
}

// close closes the listening connection and ends every subscription. It does not wait for the
// listener's goroutines, which may be sleeping before a reconnection attempt: they stop on waking,
// and whatever they publish meanwhile reaches no one.
func (s *ChangeStream) close() error {
	s.mu.Lock()
	l := s.listener
	already := s.closed
	s.closed = true
	s.mu.Unlock()
	if already {
		return nil
	}
	var err error
	if l != nil {
		err = l.Close()
	}
	s.hub.Close()
	return err
}
