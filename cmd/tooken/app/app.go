// Package app wires Tooken together by hand: configuration in, a running server out. Main is what
// `tooken serve` runs and what end-to-end tests start on 127.0.0.1:0.
package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/tooken/tooken/adapters/argon2id"
	"github.com/tooken/tooken/adapters/httpapi"
	"github.com/tooken/tooken/adapters/jwks"
	"github.com/tooken/tooken/adapters/postgres"
	"github.com/tooken/tooken/adapters/river"
	"github.com/tooken/tooken/adapters/sqlite"
	"github.com/tooken/tooken/adapters/web"
	"github.com/tooken/tooken/adapters/webhook"
	"github.com/tooken/tooken/core"
	"github.com/tooken/tooken/ports"
)

// Config is everything Main needs; the CLI fills it from flags and TOOKEN_* variables.
type Config struct {
	Addr        string // listen address (default 127.0.0.1:8080)
	PublicURL   string // default http:// + the listen address
	DatabaseURL string // postgres://…; empty = embedded SQLite in DataDir
	DataDir     string // embedded mode's directory (default ./.tooken)
	MasterKey   string // required with PostgreSQL; embedded mode keeps a key file in DataDir
	Migrate     bool   // apply migrations on start

	RateLimit        int           // requests per minute per workspace (default 1000)
	IPRateLimit      int           // unauthenticated requests (verify) per minute per client IP (default 600)
	AuthFailureLimit int           // failed authentications per minute per client IP (default 60)
	ShutdownTimeout  time.Duration // graceful shutdown bound (default 15 s)

	// Slow-client bounds of the HTTP server. The revocation stream lifts the write timeout for itself.
	ReadHeaderTimeout time.Duration // to receive a request's headers (default 10 s)
	ReadTimeout       time.Duration // to receive a whole request (default 30 s)
	WriteTimeout      time.Duration // to send a response (default 30 s)
	IdleTimeout       time.Duration // a keep-alive connection may wait for its next request (default 2 min)
	UsageFlush        time.Duration // last_used_at flush interval (default 5 s)

	JWKSMaxAge        time.Duration // JWKS Cache-Control max-age; new keys are announced this long (5 min)
	KeyRotationPeriod time.Duration // automatic signing-key rotation (default 90 days)
	KeyMaintenance    time.Duration // how often keys are rotated/retired and the feed pruned (1 min)
	Reconcile         time.Duration // safety-net re-read of the revocation feed (default 10 s)
	Heartbeat         time.Duration // revocation-stream heartbeat (default 15 s)
	ExpiryScan        time.Duration // how often the expiry job records expiry notices (default 1 min)
	JobPoll           time.Duration // how often a replica polls the job queue for jobs (default 1 s)
	// JobRescueAfter is how long a job may stay running before it is presumed lost with a killed
	// replica and retried (default river.DefaultRescueAfter, 1 min).
	JobRescueAfter time.Duration

	// WebhookAllowPrivate lets webhooks target loopback and private addresses, and plain http
	// (TOOKEN_WEBHOOK_ALLOW_PRIVATE; tests and local development only).
	WebhookAllowPrivate bool
	WebhookTimeout      time.Duration // bound of one delivery attempt (default 10 s)
	WebhookRetryBase    time.Duration // delay before a delivery's second attempt, doubling after (30 s)

	// PprofAddr, when set, serves pprof profiles and memory statistics on this loopback address
	// (TOOKEN_PPROF_ADDR; off by default).
	PprofAddr string

	Logger *slog.Logger
	Clock  ports.Clock // default: the system clock
	// Hasher hashes account passwords (default: argon2id with the OWASP parameters; tests use cheaper ones).
	Hasher ports.PasswordHasher
}

// MaxHeaderBytes bounds a request's headers (net/http answers 431 beyond it).
const MaxHeaderBytes = 64 << 10

// Main is a wired Tooken server.
type Main struct {
	cfg     Config
	store   store
	Service *core.Service
	Handler http.Handler
	// URL is the base URL clients reach the server at.
	URL string

	jobs    *river.Queue // the job queue (River, in the same database)
	ln      net.Listener
	srv     *http.Server
	pprofLn net.Listener  // the opt-in profiling listener, or nil
	streams chan struct{} // closed at shutdown: ends the revocation streams
}

// store is what both storage adapters provide.
type store interface {
	Migrate(ctx context.Context) error
	Stores() ports.Stores
	Jobs(o river.Options) (*river.Queue, error)
	SetSecretBox(b ports.SecretBox)
	Close() error
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Open opens storage (migrating it when cfg.Migrate), loads the master key and wires the service and
// the HTTP handler. It does not listen yet.
func Open(ctx context.Context, cfg Config) (*Main, error) {
	cfg.Addr = cmp.Or(cfg.Addr, "127.0.0.1:8080")
	cfg.DataDir = cmp.Or(cfg.DataDir, ".tooken")
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if cfg.Clock == nil {
		cfg.Clock = systemClock{}
	}
	cfg.JWKSMaxAge = cmp.Or(cfg.JWKSMaxAge, 5*time.Minute)
	m := &Main{cfg: cfg, streams: make(chan struct{})}
	masterKey, err := m.openStore(ctx)
	if err != nil {
		return nil, err
	}
	box, err := webhook.NewSecretBox(masterKey)
	if err != nil {
		m.store.Close()
		return nil, err
	}
	m.store.SetSecretBox(box)
	if cfg.Migrate {
		if err := m.store.Migrate(ctx); err != nil {
			m.store.Close()
			return nil, fmt.Errorf("migrating the database: %w", err)
		}
	}
	stores := m.store.Stores()
	publicURL := cmp.Or(cfg.PublicURL, "http://"+cfg.Addr)
	signer, err := jwks.New(stores.SigningKeys, masterKey, publicURL, cfg.Clock)
	if err != nil {
		m.store.Close()
		return nil, err
	}
	m.URL = publicURL
	guard := &webhook.Guard{AllowPrivate: cfg.WebhookAllowPrivate}
	m.Service = core.New(core.Config{PublicURL: publicURL, KeyAnnounce: cfg.JWKSMaxAge, KeyRotationPeriod: cfg.KeyRotationPeriod,
		WebhookGuard: guard, Deliveries: lateQueue{m}},
		stores, signer, cfg.Clock, cmp.Or[ports.PasswordHasher](cfg.Hasher, argon2id.New()))
	sender := webhook.NewSender(stores.Webhooks, stores.Deliveries, cfg.Clock, guard, cfg.WebhookTimeout)
	m.jobs, err = m.store.Jobs(river.Options{Logger: slog.New(warnings{cfg.Logger.Handler()}), PollInterval: cfg.JobPoll,
		RescueAfter: cfg.JobRescueAfter,
		Periodic: []river.Periodic{{Name: "expiry", Interval: cmp.Or(cfg.ExpiryScan, time.Minute),
			Run: func(ctx context.Context) error { _, err := m.Service.ScanExpiry(ctx); return err }}},
		Deliveries: &river.Deliveries{RetryBase: cfg.WebhookRetryBase, Attempt: func(ctx context.Context, d ports.WebhookDelivery, n int) error {
			err := sender.Attempt(ctx, d, n)
			if errors.Is(err, webhook.ErrGone) {
				return fmt.Errorf("%w: %w", river.ErrDrop, err)
			}
			if nerr := m.Service.NoteDeliveryOutcome(ctx, d.WorkspaceID, d.WebhookID, err == nil); nerr != nil {
				cfg.Logger.Warn("webhook: recording a delivery outcome", "webhook", d.WebhookID, "err", nerr)
			}
			return err
		}}})
	if err != nil {
		m.store.Close()
		return nil, err
	}
	api := httpapi.New(m.Service, httpapi.Options{Logger: cfg.Logger,
		RateLimit: cfg.RateLimit, IPRateLimit: cfg.IPRateLimit, AuthFailureLimit: cfg.AuthFailureLimit,
		JWKSMaxAge: cfg.JWKSMaxAge, Heartbeat: cfg.Heartbeat, Done: m.streams})
	m.Handler = mount(api, web.New(m.Service, web.Options{Logger: cfg.Logger, PublicURL: publicURL}))
	return m, nil
}

// openStore opens PostgreSQL when a database URL is set (then a master key is required), else the
// embedded SQLite database in the data directory with its own key file.
func (m *Main) openStore(ctx context.Context) ([]byte, error) {
	if m.cfg.DatabaseURL != "" {
		if !strings.HasPrefix(m.cfg.DatabaseURL, "postgres://") && !strings.HasPrefix(m.cfg.DatabaseURL, "postgresql://") {
			return nil, errors.New("TOOKEN_DATABASE_URL must be a postgres:// URL")
		}
		if m.cfg.MasterKey == "" {
			return nil, errors.New("TOOKEN_MASTER_KEY is required with a PostgreSQL database: it encrypts the " +
				"signing keys at rest; generate one with `tooken keygen` and keep it in your secret store")
		}
		key, err := jwks.ParseMasterKey(m.cfg.MasterKey)
		if err != nil {
			return nil, fmt.Errorf("TOOKEN_MASTER_KEY: %w", err)
		}
		db, err := postgres.Open(ctx, m.cfg.DatabaseURL)
		if err != nil {
			return nil, fmt.Errorf("opening PostgreSQL: %w", err)
		}
		m.store = db
		return key, nil
	}
	if err := os.MkdirAll(m.cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the data directory: %w", err)
	}
	var key []byte
	var err error
	if m.cfg.MasterKey != "" {
		key, err = jwks.ParseMasterKey(m.cfg.MasterKey)
	} else {
		key, err = jwks.LoadOrCreateKeyFile(filepath.Join(m.cfg.DataDir, "master.key"))
	}
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(m.cfg.DataDir, "tooken.db"))
	if err != nil {
		return nil, fmt.Errorf("opening SQLite: %w", err)
	}
	m.store = db
	return key, nil
}

// Listen binds cfg.Addr and then opens everything like Open; with port 0 the default public URL (and
// so every issuer) names the port actually bound. Run serves on it.
func Listen(ctx context.Context, cfg Config) (*Main, error) {
	ln, err := net.Listen("tcp", cmp.Or(cfg.Addr, "127.0.0.1:8080"))
	if err != nil {
		return nil, err
	}
	cfg.Addr = ln.Addr().String()
	var pprofLn net.Listener
	if cfg.PprofAddr != "" {
		if pprofLn, err = listenPprof(cfg.PprofAddr); err != nil {
			ln.Close()
			return nil, err
		}
	}
	m, err := Open(ctx, cfg)
	if err != nil {
		ln.Close()
		if pprofLn != nil {
			pprofLn.Close()
		}
		return nil, err
	}
	m.ln, m.pprofLn = ln, pprofLn
	m.URL = "http://" + cfg.Addr
	return m, nil
}

// Run starts the job queue and serves HTTP until ctx ends, then shuts down gracefully: the listener
// closes at once, in-flight requests and then running jobs finish within one shutdown timeout
// (requests still running then are cut), and buffered last-used times are flushed.
func (m *Main) Run(ctx context.Context) error {
	if m.ln == nil {
		return errors.New("app: Run needs a Main from Listen")
	}
	m.srv = &http.Server{
		Handler:           m.Handler,
		ReadHeaderTimeout: cmp.Or(m.cfg.ReadHeaderTimeout, 10*time.Second),
		ReadTimeout:       cmp.Or(m.cfg.ReadTimeout, 30*time.Second),
		WriteTimeout:      cmp.Or(m.cfg.WriteTimeout, 30*time.Second),
		IdleTimeout:       cmp.Or(m.cfg.IdleTimeout, 2*time.Minute),
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(m.cfg.Logger.Handler(), slog.LevelWarn),
	}
	m.srv.RegisterOnShutdown(func() { close(m.streams) })
	// The queue's jobs outlive ctx: Stop lets them finish after the HTTP server has drained.
	if err := m.jobs.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("starting the job queue: %w", err)
	}
	bgCtx, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	background := m.startBackground(bgCtx)
	errc := make(chan error, 1)
	go func() { errc <- m.srv.Serve(m.ln) }()
	if m.pprofLn != nil {
		ps := pprofServer(m.store)
		go func() { _ = ps.Serve(m.pprofLn) }()
		defer ps.Close()
		m.cfg.Logger.Info("pprof serving", "addr", m.pprofLn.Addr().String())
	}
	m.cfg.Logger.Info("tooken serving", "url", m.URL)
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	// One deadline bounds the whole shutdown: draining requests, then the running jobs.
	timeout := cmp.Or(m.cfg.ShutdownTimeout, 15*time.Second)
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if serr := m.srv.Shutdown(sctx); serr != nil && err == nil {
		_ = m.srv.Close() // cut the requests still running at the deadline
		err = fmt.Errorf("requests still in flight after the shutdown timeout (%v) were cut: %w", timeout, serr)
	}
	if jerr := m.jobs.Stop(sctx); jerr != nil {
		m.cfg.Logger.Warn("stopping the job queue", "error", jerr)
	}
	stopBackground()
	background.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// startBackground runs the replica's background work until ctx ends: the last_used_at flusher (which
// flushes once more on the way out), the change listener that keeps caches in step with the other
// replicas, the revocation-feed reconciler under it, and signing-key maintenance.
func (m *Main) startBackground(ctx context.Context) *sync.WaitGroup {
	var wg sync.WaitGroup
	logErr := func(what string) func(error) {
		return func(err error) { m.cfg.Logger.Warn(what, "error", err) }
	}
	wg.Go(func() {
		m.Service.RunFlusher(ctx, cmp.Or(m.cfg.UsageFlush, 5*time.Second), logErr("flushing last_used_at and auth failures"))
	})
	wg.Go(func() {
		for ctx.Err() == nil {
			if err := m.Service.RunChangeListener(ctx); err != nil {
				logErr("change listener")(err)
			}
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	})
	wg.Go(func() {
		m.Service.RunReconciler(ctx, cmp.Or(m.cfg.Reconcile, 10*time.Second), logErr("reconciling caches"))
	})
	wg.Go(func() {
		m.Service.RunMaintenance(ctx, cmp.Or(m.cfg.KeyMaintenance, time.Minute), logErr("maintenance"))
	})
	return &wg
}

// Close releases the database.
func (m *Main) Close() error {
	if m.ln != nil && m.srv == nil {
		m.ln.Close()
		if m.pprofLn != nil {
			m.pprofLn.Close()
		}
	}
	return m.store.Close()
}

// warnings passes on River's warnings and errors only: its informational messages (leadership,
// periodic enqueues) would drown the server log.
type warnings struct{ slog.Handler }

// Enabled implements slog.Handler.
func (w warnings) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && w.Handler.Enabled(ctx, l)
}

// WithAttrs implements slog.Handler.
func (w warnings) WithAttrs(attrs []slog.Attr) slog.Handler {
	return warnings{w.Handler.WithAttrs(attrs)}
}

// WithGroup implements slog.Handler.
func (w warnings) WithGroup(name string) slog.Handler { return warnings{w.Handler.WithGroup(name)} }

// lateQueue enqueues on the job queue, which is built after the service.
type lateQueue struct{ m *Main }

// Enqueue implements ports.DeliveryQueue.
func (q lateQueue) Enqueue(ctx context.Context, d ports.WebhookDelivery) error {
	return q.m.jobs.Enqueue(ctx, d)
}

// Stores returns the storage ports of the running store (for tests and maintenance tools).
func (m *Main) Stores() ports.Stores { return m.store.Stores() }

// mount serves the dashboard's pages (/, /signin, /app/…, /docs, /static/…) and sends everything else
// to the API, which answers unknown routes with its JSON error body. /v1/ paths, none of which is the
// dashboard's, go straight to the API (the hot paths skip a route lookup).
func mount(api, dashboard http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", api)
	for _, p := range []string{"/{$}", "/signin", "/signup", "/signout", "/app", "/app/", "/invitations/", "/docs", "/static/"} {
		mux.Handle(p, dashboard)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1/") {
			api.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}
