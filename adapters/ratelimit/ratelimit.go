// Package ratelimit is the in-process rate limiter: one token bucket (golang.org/x/time/rate) per key,
// refilled evenly so that `limit` requests fit in each window. With several replicas each enforces the
// limit on its own share of the traffic; the README documents this approximation.
package ratelimit

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Quota is the state of one key's bucket after a request.
type Quota struct {
	Allowed    bool
	Limit      int
	Remaining  int
	Reset      time.Time     // when the bucket is full again
	RetryAfter time.Duration // when Allowed is false: wait this long
}

// Limiter holds a bucket per key. It is safe for concurrent use.
type Limiter struct {
	limit  int
	window time.Duration
	now    func() time.Time

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

// New returns a limiter allowing limit requests per window for each key.
func New(limit int, window time.Duration) *Limiter {
	return &Limiter{limit: limit, window: window, now: time.Now, buckets: make(map[string]*rate.Limiter)}
}

// maxIdleBuckets bounds memory: past it, full (idle) buckets are dropped, which loses nothing.
const maxIdleBuckets = 10_000

func (l *Limiter) bucket(key string, now time.Time) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxIdleBuckets {
			for k, old := range l.buckets {
				if old.TokensAt(now) >= float64(l.limit) {
					delete(l.buckets, k)
				}
			}
		}
		b = rate.NewLimiter(rate.Limit(float64(l.limit)/l.window.Seconds()), l.limit)
		l.buckets[key] = b
	}
	return b
}

// Take spends one request of key's quota if there is one.
func (l *Limiter) Take(key string) Quota {
	now := l.now()
	b := l.bucket(key, now)
	allowed := b.AllowN(now, 1)
	return l.quota(b, now, allowed)
}

// Peek reports key's quota without spending any.
func (l *Limiter) Peek(key string) Quota {
	now := l.now()
	b := l.bucket(key, now)
	return l.quota(b, now, b.TokensAt(now) >= 1)
}

func (l *Limiter) quota(b *rate.Limiter, now time.Time, allowed bool) Quota {
	tokens := b.TokensAt(now)
	perToken := l.window.Seconds() / float64(l.limit)
	q := Quota{
		Allowed:   allowed,
		Limit:     l.limit,
		Remaining: max(0, int(math.Floor(tokens))),
		Reset:     now.Add(time.Duration((float64(l.limit) - tokens) * perToken * float64(time.Second))),
	}
	if !allowed {
		q.RetryAfter = time.Duration(math.Ceil((1-tokens)*perToken)) * time.Second
		if q.RetryAfter < time.Second {
			q.RetryAfter = time.Second
		}
	}
	return q
}

// WithClock makes the limiter read time from now (tests use a fake clock) and returns it.
func (l *Limiter) WithClock(now func() time.Time) *Limiter {
	l.now = now
	return l
}
