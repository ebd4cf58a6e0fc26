package changehub

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/tooken/tooken/ports"
)

// next returns the next change on ch, failing the test if none comes (a hang guard, not a timing).
func next(t *testing.T, ch <-chan ports.Change) (ports.Change, bool) {
	t.Helper()
	select {
	case c, ok := <-ch:
		return c, ok
	case <-time.After(10 * time.Second):
		t.Fatal("no change delivered")
		return ports.Change{}, false
	}
}

func TestFanOutInOrder(t *testing.T) {
	h := New(8)
	a, err := h.Subscribe(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.Subscribe(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []ports.Change{{Kind: ports.ChangeToken, WorkspaceID: "ws_1", ID: "tok_1"},
		{Kind: ports.ChangeAPIKey, WorkspaceID: "ws_1", ID: "key_1"}}
	h.Publish(want...)
	for _, ch := range []<-chan ports.Change{a, b} {
		for _, w := range want {
			if got, ok := next(t, ch); !ok || got != w {
				t.Errorf("got %+v (open %v), want %+v", got, ok, w)
			}
		}
	}
}

func TestFullBufferIsReplacedByResync(t *testing.T) {
	h := New(3)
	ch, err := h.Subscribe(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		for i := range 10 {
			h.Publish(ports.Change{Kind: ports.ChangeToken, ID: string(rune('a' + i))})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Publish blocked on a full subscriber")
	}
	var got []ports.Change
	for len(ch) > 0 {
		c, _ := next(t, ch)
		got = append(got, c)
	}
	if len(got) == 0 || len(got) > 3 {
		t.Fatalf("buffered %d changes, want 1 to 3", len(got))
	}
	sawResync := false
	for _, c := range got {
		sawResync = sawResync || c.Kind == ports.ChangeResync
	}
	if !sawResync {
		t.Errorf("after overflowing, got %+v with no ChangeResync", got)
	}
}

func TestCancelClosesOnlyThatSubscriber(t *testing.T) {
	h := New(4)
	ctx, cancel := context.WithCancel(t.Context())
	gone, err := h.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kept, err := h.Subscribe(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, ok := next(t, gone); ok {
		t.Fatal("channel still open after its context ended")
	}
	h.Publish(ports.Change{Kind: ports.ChangeWorkspace, WorkspaceID: "ws_1"})
	if c, ok := next(t, kept); !ok || c.WorkspaceID != "ws_1" {
		t.Errorf("other subscriber got %+v, %v", c, ok)
	}
	if n := h.Subscribers(); n != 1 {
		t.Errorf("%d subscribers, want 1", n)
	}
}

func TestCloseEndsEverySubscription(t *testing.T) {
	h := New(4)
	ch, err := h.Subscribe(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	h.Close()
	h.Close()
	if _, ok := next(t, ch); ok {
		t.Fatal("channel open after Close")
	}
	if _, err := h.Subscribe(t.Context()); ports.ErrorCode(err) != ports.EUNAVAILABLE {
		t.Errorf("Subscribe after Close: %v, want EUNAVAILABLE", err)
	}
	h.Publish(ports.Change{Kind: ports.ChangeToken}) // no subscriber, no panic
}

func TestConcurrentPublishAndCancel(t *testing.T) {
	h := New(2)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			ctx, cancel := context.WithCancel(t.Context())
			ch, err := h.Subscribe(ctx)
			if err != nil {
				t.Error(err)
				cancel()
				return
			}
			for range 50 {
				h.Publish(ports.Change{Kind: ports.ChangeToken})
			}
			cancel()
			for range ch {
			}
		})
	}
	wg.Wait()
	if n := h.Subscribers(); n != 0 {
		t.Errorf("%d subscribers left, want 0", n)
	}
}
