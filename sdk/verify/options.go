package verify

import (
	"log/slog"
	"net/http"
	"time"
)

// Option configures a Verifier.
type Option func(*config)

type config struct {
	client        *http.Client
	audience      []string
	leeway        time.Duration
	now           func() time.Time
	maxStaleness  time.Duration
	pollInterval  time.Duration
	noFeed        bool
	refreshLimit  time.Duration
	logger        *slog.Logger
	cacheSize     int
	fetchTimeout  time.Duration
	streamIdle    time.Duration
	backoffMin    time.Duration
	backoffMax    time.Duration
	defaultMaxAge time.Duration
}

func defaultConfig() config {
	return config{
		client:        &http.Client{},
		now:           time.Now,
		pollInterval:  10 * time.Second,
		refreshLimit:  10 * time.Second,
		logger:        slog.New(slog.DiscardHandler),
		cacheSize:     10000,
		fetchTimeout:  10 * time.Second,
		streamIdle:    45 * time.Second,
		backoffMin:    250 * time.Millisecond,
		backoffMax:    30 * time.Second,
		defaultMaxAge: 5 * time.Minute,
	}
}

// WithHTTPClient sets the client used for discovery, the JWKS, the feed and the stream. A client
// Timeout also bounds each stream connection, which is then simply re-established.
func WithHTTPClient(c *http.Client) Option {
	return func(cfg *config) {
		if c != nil {
			cfg.client = c
		}
	}
}

// WithAudience requires the token's aud to contain at least one of aud.
func WithAudience(aud ...string) Option {
	return func(cfg *config) { cfg.audience = append([]string(nil), aud...) }
}

// WithLeeway allows d of clock skew when checking exp, nbf and iat (default 0).
func WithLeeway(d time.Duration) Option {
	return func(cfg *config) { cfg.leeway = max(d, 0) }
}

// WithClock replaces time.Now for every time-based decision (expiry, revocation grace, staleness,
// JWKS freshness and refresh limits); meant for tests.
func WithClock(now func() time.Time) Option {
	return func(cfg *config) {
		if now != nil {
			cfg.now = now
		}
	}
}

// WithMaxStaleness makes Verify fail closed with ErrStaleFeed once the revocation feed (stream or
// polling) has not been heard from successfully for longer than d. 0, the default, never fails closed.
// Choose d well above the stream's heartbeat interval (15 s). Ignored with WithoutRevocationFeed.
func WithMaxStaleness(d time.Duration) Option {
	return func(cfg *config) { cfg.maxStaleness = max(d, 0) }
}

// WithPollInterval sets how often the feed is polled while the stream is down (default 10 s).
func WithPollInterval(d time.Duration) Option {
	return func(cfg *config) {
		if d > 0 {
			cfg.pollInterval = d
		}
	}
}

// WithoutRevocationFeed disables the revocation feed: Verify checks signatures and claims only.
func WithoutRevocationFeed() Option {
	return func(cfg *config) { cfg.noFeed = true }
}

// WithJWKSRefreshLimit sets the minimum gap between JWKS refreshes triggered by unknown kids, and
// between retries of a background refresh that failed (default 10 s).
func WithJWKSRefreshLimit(d time.Duration) Option {
	return func(cfg *config) { cfg.refreshLimit = max(d, 0) }
}

// WithLogger sets the logger for background events (default: discard). Token values are never logged.
func WithLogger(l *slog.Logger) Option {
	return func(cfg *config) {
		if l != nil {
			cfg.logger = l
		}
	}
}

// WithCacheSize bounds the verified-value cache to n entries (default 10000; 0 disables it).
func WithCacheSize(n int) Option {
	return func(cfg *config) { cfg.cacheSize = max(n, 0) }
}

// withStreamTiming tunes stream idle detection and reconnect backoff; for tests.
func withStreamTiming(idle, backoffMin, backoffMax time.Duration) Option {
	return func(cfg *config) {
		cfg.streamIdle, cfg.backoffMin, cfg.backoffMax = idle, backoffMin, backoffMax
	}
}
