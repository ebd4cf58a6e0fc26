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
	"time"

	"github.com/tooken/tooken/adapters/argon2id"
	"github.com/tooken/tooken/adapters/httpapi"
	"github.com/tooken/tooken/adapters/jwks"
	"github.com/tooken/tooken/adapters/postgres"
	"github.com/tooken/tooken/adapters/sqlite"
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
	UsageFlush       time.Duration // last_used_at flush interval (default 5 s)

	Logger *slog.Logger
	Clock  ports.Clock // default: the system clock
}

// Main is a wired Tooken server.
type Main struct {
	cfg     Config
	store   store
	Service *core.Service
	Handler http.Handler
	// URL is the base URL clients reach the server at.
	URL string

	ln  net.Listener
	srv *http.Server
}

// store is what both storage adapters provide.
type store interface {
	Migrate(ctx context.Context) error
	Stores() ports.Stores
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
	m := &Main{cfg: cfg}
	masterKey, err := m.openStore(ctx)
	if err != nil {
		return nil, err
	}
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
	m.Service = core.New(core.Config{PublicURL: publicURL}, stores, signer, cfg.Clock, argon2id.New())
	m.Handler = httpapi.New(m.Service, httpapi.Options{Logger: cfg.Logger,
		RateLimit: cfg.RateLimit, IPRateLimit: cfg.IPRateLimit, AuthFailureLimit: cfg.AuthFailureLimit})
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
	m, err := Open(ctx, cfg)
	if err != nil {
		ln.Close()
		return nil, err
	}
	m.ln = ln
	m.URL = "http://" + cfg.Addr
	return m, nil
}

// Run serves HTTP until ctx ends, then shuts down gracefully: in-flight requests finish (within the
// shutdown timeout) and buffered last-used times are flushed.
func (m *Main) Run(ctx context.Context) error {
	if m.ln == nil {
		return errors.New("app: Run needs a Main from Listen")
	}
	m.srv = &http.Server{
		Handler:           m.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(m.cfg.Logger.Handler(), slog.LevelWarn),
	}
	flushCtx, stopFlush := context.WithCancel(context.WithoutCancel(ctx))
	flushed := make(chan struct{})
	go func() {
		defer close(flushed)
		m.Service.RunUsageFlusher(flushCtx, cmp.Or(m.cfg.UsageFlush, 5*time.Second), func(err error) {
			m.cfg.Logger.Warn("flushing last_used_at", "error", err)
		})
	}()
	errc := make(chan error, 1)
	go func() { errc <- m.srv.Serve(m.ln) }()
	m.cfg.Logger.Info("tooken serving", "url", m.URL)
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), cmp.Or(m.cfg.ShutdownTimeout, 15*time.Second))
		err = m.srv.Shutdown(sctx)
		cancel()
	}
	stopFlush()
	<-flushed
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// Close releases the database.
func (m *Main) Close() error {
	if m.ln != nil && m.srv == nil {
		m.ln.Close()
	}
	return m.store.Close()
}
