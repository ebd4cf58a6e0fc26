package ratelimit

import (
	"testing"
	"time"
)

func TestLimiterAllowsLimitThenRefusesWithRetryAfter(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	l := New(3, time.Minute)
	l.now = func() time.Time { return now }
	for i := 3; i > 0; i-- {
		q := l.Take("ws")
		if !q.Allowed || q.Remaining != i-1 || q.Limit != 3 {
			t.Fatalf("take %d: %+v", i, q)
		}
	}
	q := l.Take("ws")
	if q.Allowed || q.Remaining != 0 || q.RetryAfter != 20*time.Second {
		t.Fatalf("over the limit: %+v", q)
	}
	if !l.Take("other").Allowed {
		t.Fatal("keys must not share a bucket")
	}
	now = now.Add(20 * time.Second)
	if !l.Peek("ws").Allowed || !l.Take("ws").Allowed {
		t.Fatal("one request must be allowed again after RetryAfter")
	}
}

func TestLimiterResetIsWhenTheBucketIsFull(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	l := New(60, time.Minute)
	l.now = func() time.Time { return now }
	q := l.Take("ws")
	if got := q.Reset.Sub(now); got != time.Second {
		t.Fatalf("reset after one request = %v, want 1s", got)
	}
}
