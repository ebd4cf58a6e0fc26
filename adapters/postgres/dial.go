package postgres

import (
	"context"
	"database/sql"
	"net"
	"strings"
	"time"

	"github.com/lib/pq"
)

// Bounds on a PostgreSQL server that stops answering without closing its connections (a network
// partition, a host that vanished): without them a query in flight waits for the kernel's TCP
// retransmission timeout (about 15 minutes on Linux), and a request's context cannot end it, since
// lib/pq's cancellation needs a second connection to the same silent server.
const (
	// connectTimeout is lib/pq's connect_timeout (the dial and the startup handshake) unless the
	// DSN sets one.
	connectTimeout = "5"
	// userTimeout is TCP_USER_TIMEOUT (Linux): a connection whose sent data stays unacknowledged
	// this long is aborted, and the query on it fails as unavailable.
	userTimeout = 10 * time.Second
)

// keepAlive probes an idle connection after 5 s and every 2 s after that, giving up after 3
// unanswered probes: a connection waiting for a result from a server that went silent learns
// within about 11 s (with userTimeout bounding the probes on Linux).
var keepAlive = net.KeepAliveConfig{Enable: true, Idle: 5 * time.Second, Interval: 2 * time.Second, Count: 3}

// dialer is lib/pq's dialer with TCP keepalives and, on Linux, TCP_USER_TIMEOUT (see setUserTimeout).
type dialer struct{ d net.Dialer }

func newDialer() dialer {
	return dialer{d: net.Dialer{KeepAliveConfig: keepAlive, Control: setUserTimeout}}
}

// Dial implements pq.Dialer.
func (d dialer) Dial(network, address string) (net.Conn, error) { return d.d.Dial(network, address) }

// DialTimeout implements pq.Dialer.
func (d dialer) DialTimeout(network, address string, timeout time.Duration) (net.Conn, error) {
	nd := d.d
	nd.Timeout = timeout
	return nd.Dial(network, address)
}

// DialContext implements pq.DialerContext.
func (d dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	return d.d.DialContext(ctx, network, address)
}

// openPool opens a pool on dsn (with connect_timeout added unless it sets one) whose connections are
// made by dialer.
func openPool(dsn string) (*sql.DB, error) {
	c, err := pq.NewConnector(withParam(dsn, "connect_timeout", connectTimeout))
	if err != nil {
		return nil, err
	}
	c.Dialer(newDialer())
	return sql.OpenDB(c), nil
}

// withParam adds key=value to dsn (a URL or a key=value string) unless it sets key already.
func withParam(dsn, key, value string) string {
	if strings.Contains(dsn, key) {
		return dsn
	}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		if strings.Contains(dsn, "?") {
			return dsn + "&" + key + "=" + value
		}
		return dsn + "?" + key + "=" + value
	}
	return strings.TrimSpace(dsn + " " + key + "=" + value)
}
