package postgres

import (
	"context"
	"errors"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/tooken/tooken/ports"
	"golang.org/x/sys/unix"
)

// TestDialerBoundsASilentConnection checks the socket options of a connection made by the pool's
// dialer: keepalives on, and on Linux TCP_USER_TIMEOUT, so that a query to a server that stops
// answering fails in seconds rather than after the kernel's retransmission timeout.
func TestDialerBoundsASilentConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := newDialer().DialContext(t.Context(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	raw, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	opt := func(level, name int) int {
		var v int
		var gerr error
		if err := raw.Control(func(fd uintptr) { v, gerr = unix.GetsockoptInt(int(fd), level, name) }); err != nil {
			t.Fatal(err)
		}
		if gerr != nil {
			t.Fatal(gerr)
		}
		return v
	}
	if opt(unix.SOL_SOCKET, unix.SO_KEEPALIVE) == 0 {
		t.Error("SO_KEEPALIVE is off")
	}
	if runtime.GOOS != "linux" {
		return
	}
	if got := opt(unix.IPPROTO_TCP, unix.TCP_KEEPIDLE); got != int(keepAlive.Idle.Seconds()) {
		t.Errorf("TCP_KEEPIDLE %d s, want %v", got, keepAlive.Idle)
	}
	if got := opt(unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT); got != int(userTimeout.Milliseconds()) {
		t.Errorf("TCP_USER_TIMEOUT %d ms, want %d", got, userTimeout.Milliseconds())
	}
}

// TestOpenGivesUpOnAServerThatNeverAnswers points Open at a listener that accepts connections and
// then says nothing: the default connect_timeout ends the attempt, as unavailable.
func TestOpenGivesUpOnAServerThatNeverAnswers(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	began := time.Now()
	_, err = Open(ctx, "postgres://u@"+ln.Addr().String()+"/db?sslmode=disable")
	took := time.Since(began)
	var pe *ports.Error
	if !errors.As(err, &pe) || pe.Code != ports.EUNAVAILABLE {
		t.Fatalf("Open of a silent server: %v, want EUNAVAILABLE", err)
	}
	if took > 15*time.Second {
		t.Errorf("Open of a silent server took %v, want about connect_timeout (%s s)", took, connectTimeout)
	}
	t.Logf("gave up after %v: %v", took.Round(time.Millisecond), err)
}

func TestWithParamKeepsWhatTheDSNSets(t *testing.T) {
	for _, tc := range []struct{ dsn, want string }{
		{"postgres://u@h/db", "postgres://u@h/db?connect_timeout=5"},
		{"postgres://u@h/db?sslmode=disable", "postgres://u@h/db?sslmode=disable&connect_timeout=5"},
		{"postgres://u@h/db?connect_timeout=1", "postgres://u@h/db?connect_timeout=1"},
		{"host=h dbname=db", "host=h dbname=db connect_timeout=5"},
	} {
		if got := withParam(tc.dsn, "connect_timeout", "5"); got != tc.want {
			t.Errorf("withParam(%q) = %q, want %q", tc.dsn, got, tc.want)
		}
	}
}
