package verify

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

func jtiOf(t *testing.T, v *Verifier, tok string) string {
	t.Helper()
	c, err := v.Verify(t.Context(), tok)
	if err != nil {
		t.Fatalf("Verify before revocation: %v", err)
	}
	return c.JTI
}

func TestRevocationViaStream(t *testing.T) {
	t.Parallel()
	k := newTestKey(t, "ES256")
	f := newFakeIssuer(t, k)
	v := f.verifier(WithPollInterval(time.Hour))
	eventually(t, "stream connected", v.streamUp.Load)
	polls := f.feedFetches.Load()

	const n = 200
	lat := make([]time.Duration, 0, n)
	for range n {
		tok := f.token(k, nil)
		jti := jtiOf(t, v, tok)
		exp := f.clock.Now().Add(time.Hour).Unix()
		start := time.Now()
		f.revoke(jti, &exp, f.clock.Now())
		eventually(t, "the revocation to reach the verifier", func() bool {
			_, err := v.Verify(t.Context(), tok)
			return errors.Is(err, ErrRevoked)
		})
		lat = append(lat, time.Since(start))
	}
	if got := f.feedFetches.Load(); got != polls {
		t.Errorf("the feed was polled %d times while the stream was up", got-polls)
	}
	slices.Sort(lat)
	t.Logf("revocation → refusal via the stream over %d revocations: p50 %v, p99 %v, max %v",
		n, lat[n/2], lat[n*99/100], lat[n-1])
}

func TestRevocationGracePeriod(t *testing.T) {
	t.Parallel()
	k := newTestKey(t, "EdDSA")
	f := newFakeIssuer(t, k)
	v := f.verifier()
	tok := f.token(k, nil)
	jti := jtiOf(t, v, tok)
	f.revoke(jti, nil, f.clock.Now().Add(time.Minute))
	eventually(t, "the entry to arrive", func() bool { return v.revs.len() == 1 })
	f.clock.Advance(time.Minute - time.Second)
	if _, err := v.Verify(t.Context(), tok); err != nil {
		t.Fatalf("inside the grace period: %v", err)
	}
	f.clock.Advance(time.Second)
	if _, err := v.Verify(t.Context(), tok); !errors.Is(err, ErrRevoked) {
		t.Fatalf("once the grace period ends: %v, want ErrRevoked", err)
	}
}

func TestInitialFeedIsPaged(t *testing.T) {
	t.Parallel()
	k := newTestKey(t, "ES256")
	f := newFakeIssuer(t, k)
	revokedTok := f.token(k, func(_, c map[string]any) { c["jti"] = "jti_last" })
	past := f.clock.Now().Add(-time.Hour)
	gone := past.Unix()
	for i := range 1234 {
		f.revoke(fmt.Sprintf("jti_old_%d", i), nil, past)
	}
	f.revoke("jti_expired", &gone, past)
	f.revoke("jti_last", nil, past)
	v := f.verifier(WithPollInterval(time.Hour))
	if n := f.feedFetches.Load(); n != 3 {
		t.Errorf("feed pages fetched = %d, want 3 (pages of 500)", n)
	}
	if n := v.revs.len(); n != 1235 {
		t.Errorf("revocations known = %d, want 1235", n)
	}
	if _, err := v.Verify(t.Context(), revokedTok); !errors.Is(err, ErrRevoked) {
		t.Errorf("token revoked before start: %v, want ErrRevoked", err)
	}
	eventually(t, "stream connected", v.streamUp.Load)
	f.set(func(f *fakeIssuer) {
		if got := f.lastEventID[len(f.lastEventID)-1]; got != "1236" {
			t.Errorf("Last-Event-ID = %q, want 1236", got)
		}
	})
}

func TestPollingFallbackWhenStreamDown(t *testing.T) {
	t.Parallel()
	k := newTestKey(t, "RS256")
	f := newFakeIssuer(t, k)
	f.set(func(f *fakeIssuer) { f.streamDown = true })
	v := f.verifier(WithPollInterval(20 * time.Millisecond))
	tok := f.token(k, nil)
	jti := jtiOf(t, v, tok)
	f.revoke(jti, nil, f.clock.Now())
	took := eventually(t, "polling to deliver the revocation", func() bool {
		_, err := v.Verify(t.Context(), tok)
		return errors.Is(err, ErrRevoked)
	})
	t.Logf("revocation → refusal by polling every 20 ms: %v", took)
	if f.streamConns.Load() != 0 {
		t.Error("a stream connected while the stream was down")
	}
}

func TestPollingOnlyWhenNoStreamIsAdvertised(t *testing.T) {
	t.Parallel()
	k := newTestKey(t, "EdDSA")
	f := newFakeIssuer(t, k)
	f.set(func(f *fakeIssuer) { f.noStream = true })
	v := f.verifier(WithPollInterval(10 * time.Millisecond))
	tok := f.token(k, nil)
	f.revoke(jtiOf(t, v, tok), nil, f.clock.Now())
	eventually(t, "polling to deliver the revocation", func() bool {
		_, err := v.Verify(t.Context(), tok)
		return errors.Is(err, ErrRevoked)
	})
	if f.streamConns.Load() != 0 {
		t.Error("a stream was opened although discovery advertised none")
	}
}

func TestStreamReconnectsAndResumes(t *testing.T) {
	t.Parallel()
	k := newTestKey(t, "ES256")
	f := newFakeIssuer(t, k)
	v := f.verifier(WithPollInterval(time.Hour))
	eventually(t, "stream connected", v.streamUp.Load)
	toks := []string{f.token(k, nil), f.token(k, nil)}
	f.revoke(jtiOf(t, v, toks[0]), nil, f.clock.Now())
	eventually(t, "first revocation", func() bool { return v.revs.len() == 1 })

	f.set(func(f *fakeIssuer) { f.down = true })
	f.killStreams()
	eventually(t, "stream disconnected", func() bool { return !v.streamUp.Load() })
	f.set(func(f *fakeIssuer) {
		f.rows = append(f.rows, feedRow{jti: "jti_000002", revokedAt: f.clock.Now().Unix(), cursor: 2})
		f.down = false
	})
	eventually(t, "the missed revocation, and a new stream", func() bool {
		_, err := v.Verify(t.Context(), toks[1])
		return errors.Is(err, ErrRevoked) && f.streamConns.Load() >= 2
	})
	f.set(func(f *fakeIssuer) {
		for _, id := range f.lastEventID[1:] {
			if id != "1" && id != "2" {
				t.Errorf("reconnections sent Last-Event-ID %q, want the cursor reached", f.lastEventID)
			}
		}
	})
}

func TestMaxStalenessFailsClosedAndRecovers(t *testing.T) {
	t.Parallel()
	k := newTestKey(t, "ES256")
	f := newFakeIssuer(t, k)
	v := f.verifier(WithMaxStaleness(time.Minute), WithPollInterval(10*time.Millisecond))
	tok := f.token(k, nil)
	if _, err := v.Verify(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	f.set(func(f *fakeIssuer) { f.down = true })
	f.killStreams()
	eventually(t, "stream disconnected", func() bool { return !v.streamUp.Load() })
	f.clock.Advance(time.Minute)
	if _, err := v.Verify(t.Context(), tok); err != nil {
		t.Fatalf("silent for exactly MaxStaleness: %v", err)
	}
	f.clock.Advance(time.Second)
	if _, err := v.Verify(t.Context(), tok); !errors.Is(err, ErrStaleFeed) {
		t.Fatalf("silent for longer than MaxStaleness: %v, want ErrStaleFeed", err)
	}
	f.set(func(f *fakeIssuer) { f.down = false })
	eventually(t, "recovery once the feed is back", func() bool {
		_, err := v.Verify(t.Context(), tok)
		return err == nil
	})
}

func TestCachedValueRefusedAfterRevocation(t *testing.T) {
	t.Parallel()
	k := newTestKey(t, "EdDSA")
	f := newFakeIssuer(t, k)
	v := f.verifier()
	tok := f.token(k, nil)
	jti := jtiOf(t, v, tok)
	jtiOf(t, v, tok)
	if v.cache.len() != 1 {
		t.Fatal("the value was not cached")
	}
	f.revoke(jti, nil, f.clock.Now())
	eventually(t, "the cached value to be refused", func() bool {
		_, err := v.Verify(t.Context(), tok)
		return errors.Is(err, ErrRevoked)
	})
}

func TestWithoutRevocationFeed(t *testing.T) {
	t.Parallel()
	k := newTestKey(t, "ES256")
	f := newFakeIssuer(t, k)
	f.set(func(f *fakeIssuer) { f.noFeed = true })
	if _, err := New(t.Context(), f.issuer, WithHTTPClient(f.srv.Client())); err == nil ||
		!strings.Contains(err.Error(), "WithoutRevocationFeed") {
		t.Fatalf("New without a feed in discovery: %v", err)
	}
	v := f.verifier(WithoutRevocationFeed(), WithMaxStaleness(time.Second))
	f.clock.Advance(time.Hour - time.Second)
	if _, err := v.Verify(t.Context(), f.token(k, nil)); err != nil {
		t.Fatal(err)
	}
	if f.feedFetches.Load() != 0 || f.streamConns.Load() != 0 {
		t.Error("the feed was used")
	}
}

func TestNewFailsWhenIssuerUnreachableOrWrong(t *testing.T) {
	t.Parallel()
	k := newTestKey(t, "ES256")
	f := newFakeIssuer(t, k)
	cases := map[string]string{
		"trailing slash changes the issuer": f.issuer + "/",
		"unknown workspace":                 f.srv.URL + "/w/ws_nope",
		"not a URL":                         "ws_test",
	}
	for name, u := range cases {
		if v, err := New(t.Context(), u, WithHTTPClient(f.srv.Client())); err == nil {
			v.Close()
			t.Errorf("%s: New succeeded", name)
		}
	}
	f.set(func(f *fakeIssuer) { f.down = true })
	if _, err := New(t.Context(), f.issuer, WithHTTPClient(f.srv.Client())); err == nil {
		t.Error("issuer down: New succeeded")
	}
}

// TestCloseStopsEverything is not parallel: the parallel tests wait until it is done, so any
// verifier goroutine found is one of its own.
func TestCloseStopsEverything(t *testing.T) {
	k := newTestKey(t, "ES256")
	f := newFakeIssuer(t, k)
	for _, streamDown := range []bool{false, true} {
		f.set(func(f *fakeIssuer) { f.streamDown = streamDown })
		v, err := New(t.Context(), f.issuer, WithHTTPClient(f.srv.Client()), WithPollInterval(5*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		tok := f.token(k, func(h, _ map[string]any) { h["kid"] = "unknown" })
		_, _ = v.Verify(t.Context(), tok)
		v.keys.force()
		polls := f.feedFetches.Load()
		eventually(t, "background work under way", func() bool {
			return v.streamUp.Load() || f.feedFetches.Load() > polls+1
		})
		v.Close()
		if _, err := v.Verify(t.Context(), tok); !errors.Is(err, ErrUnknownKey) {
			t.Errorf("Verify after Close: %v", err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for verifierGoroutines() != "" && time.Now().Before(deadline) {
			runtime.Gosched()
		}
		if stacks := verifierGoroutines(); stacks != "" {
			t.Fatalf("goroutines left after Close (stream down: %v):\n%s", streamDown, stacks)
		}
	}
}

// verifierGoroutines returns the stacks of goroutines running code of a Verifier.
func verifierGoroutines() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, "verify.(*Verifier)") || strings.Contains(g, "verify.(*keyStore)") {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}
