package verify

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"strconv"
	"sync"
	"time"
)

const (
	feedPageSize = 1000
	feedMaxPages = 10000
)

// revocations is the set of revoked jtis the feed has delivered.
type revocations struct {
	mu        sync.RWMutex
	m         map[string]revocation
	lastPrune time.Time
}

type revocation struct {
	revokedAt time.Time
	exp       time.Time
	hasExp    bool
}

// revoked reports whether jti has a revocation that applies at now.
func (r *revocations) revoked(jti string, now time.Time) bool {
	r.mu.RLock()
	e, ok := r.m[jti]
	r.mu.RUnlock()
	return ok && !now.Before(e.revokedAt)
}

func (r *revocations) add(jti string, e revocation) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = make(map[string]revocation)
	}
	if old, ok := r.m[jti]; ok && old.revokedAt.Before(e.revokedAt) {
		e.revokedAt = old.revokedAt
	}
	r.m[jti] = e
}

// prune forgets entries whose tokens have expired (beyond the leeway), at most once a minute.
func (r *revocations) prune(now time.Time, leeway time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now.Sub(r.lastPrune) < time.Minute {
		return
	}
	r.lastPrune = now
	for jti, e := range r.m {
		if e.hasExp && now.After(e.exp.Add(leeway)) {
			delete(r.m, jti)
		}
	}
}

func (r *revocations) len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.m)
}

// feedEntry is one revocation as the feed and the stream carry it.
type feedEntry struct {
	JTI       string  `json:"jti"`
	Exp       *int64  `json:"exp"`
	RevokedAt *int64  `json:"revoked_at"`
	Cursor    cursorV `json:"cursor"`
}

// cursorV is an opaque cursor; it reads a JSON string or, leniently, a number.
type cursorV string

// UnmarshalJSON implements json.Unmarshaler.
func (c *cursorV) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*c = cursorV(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*c = cursorV(n)
	return nil
}

func (v *Verifier) apply(e feedEntry) error {
	if e.JTI == "" || e.RevokedAt == nil {
		return errors.New("revocation entry without jti or revoked_at")
	}
	r := revocation{revokedAt: time.Unix(*e.RevokedAt, 0)}
	if e.Exp != nil {
		r.exp, r.hasExp = time.Unix(*e.Exp, 0), true
	}
	v.revs.add(e.JTI, r)
	return nil
}

// fetchFeed reads the feed from the current cursor to its end.
func (v *Verifier) fetchFeed(ctx context.Context) error {
	started := v.cfg.now()
	for range feedMaxPages {
		u, err := url.Parse(v.feedURI)
		if err != nil {
			return err
		}
		q := u.Query()
		if v.cursor != "" {
			q.Set("after", v.cursor)
		}
		q.Set("limit", strconv.Itoa(feedPageSize))
		u.RawQuery = q.Encode()
		var page struct {
			Data       []feedEntry `json:"data"`
			NextCursor cursorV     `json:"next_cursor"`
			HasMore    bool        `json:"has_more"`
		}
		if _, err := v.getJSON(ctx, u.String(), false, 16<<20, &page); err != nil {
			return err
		}
		for _, e := range page.Data {
			if err := v.apply(e); err != nil {
				return err
			}
		}
		prev := v.cursor
		if page.NextCursor != "" {
			v.cursor = string(page.NextCursor)
		} else if n := len(page.Data); n > 0 && page.Data[n-1].Cursor != "" {
			v.cursor = string(page.Data[n-1].Cursor)
		}
		if !page.HasMore {
			v.heard(started)
			v.revs.prune(v.cfg.now(), v.cfg.leeway)
			return nil
		}
		if v.cursor == prev {
			return errors.New("revocation feed says has_more without advancing its cursor")
		}
	}
	return errors.New("revocation feed too long")
}

// heard records a successful contact with the feed made at t.
func (v *Verifier) heard(t time.Time) {
	n := t.UnixNano()
	for {
		old := v.lastHeard.Load()
		if old >= n || v.lastHeard.CompareAndSwap(old, n) {
			return
		}
	}
}

// stale reports whether the feed has been silent for longer than the configured maximum.
func (v *Verifier) stale(now time.Time) bool {
	return v.cfg.maxStaleness > 0 && now.UnixNano()-v.lastHeard.Load() > int64(v.cfg.maxStaleness)
}

// follow keeps the revocation set current until ctx ends: it follows the stream and, whenever the
// stream is down, polls the feed every poll interval while waiting to reconnect with backoff.
func (v *Verifier) follow(ctx context.Context) {
	backoff := v.cfg.backoffMin
	for {
		wait := time.Duration(1 << 62)
		if v.streamURI != "" {
			delivered, err := v.stream(ctx)
			if ctx.Err() != nil {
				return
			}
			level := slog.LevelWarn
			if delivered {
				backoff, level = v.cfg.backoffMin, slog.LevelInfo
			}
			v.cfg.logger.Log(ctx, level, "verify: revocation stream down; polling the feed", "err", err, "retry_in", backoff)
			wait = backoff/2 + rand.N(backoff/2+1)
			backoff = min(backoff*2, v.cfg.backoffMax)
			v.poll(ctx)
		}
		if !v.pollUntil(ctx, time.Now().Add(wait)) {
			return
		}
	}
}

// pollUntil polls the feed every poll interval until deadline; false once ctx is done.
func (v *Verifier) pollUntil(ctx context.Context, deadline time.Time) bool {
	tick := time.NewTicker(v.cfg.pollInterval)
	defer tick.Stop()
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-timer.C:
			return true
		case <-tick.C:
			v.poll(ctx)
		}
	}
}

func (v *Verifier) poll(ctx context.Context) {
	if err := v.fetchFeed(ctx); err != nil && ctx.Err() == nil {
		v.cfg.logger.Warn("verify: revocation feed poll failed", "err", err)
	}
}
