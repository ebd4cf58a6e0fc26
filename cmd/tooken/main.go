// Command tooken runs the Tooken server and its operator commands:
//
//	tooken serve       run the HTTP API (embedded SQLite in ./.tooken unless TOOKEN_DATABASE_URL is set)
//	tooken migrate     apply database migrations
//	tooken bootstrap   create an account, a workspace and an owner API key; print them as JSON
//	tooken keygen      print a new master key for TOOKEN_MASTER_KEY
//	tooken audit verify  re-check the audit log's hash chain, naming the first broken link
//
// Every flag has a TOOKEN_* environment variable; see `tooken --help`.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kong"

	"github.com/tooken/tooken/adapters/jwks"
	"github.com/tooken/tooken/cmd/tooken/app"
	"github.com/tooken/tooken/core"
	"github.com/tooken/tooken/internal/gcfloor"
)

// storeFlags are shared by every command that touches the database, so `bootstrap` prints the same
// issuer `serve` uses.
type storeFlags struct {
	Addr        string `default:"127.0.0.1:8080" env:"TOOKEN_ADDR" help:"Listen address."`
	PublicURL   string `env:"TOOKEN_PUBLIC_URL" help:"Externally visible base URL (default http:// + addr)."`
	DatabaseURL string `env:"TOOKEN_DATABASE_URL" help:"PostgreSQL URL; empty = embedded SQLite in the data directory."`
	DataDir     string `default:".tooken" env:"TOOKEN_DATA_DIR" help:"Data directory of the embedded mode."`
	MasterKey   string `env:"TOOKEN_MASTER_KEY" help:"32-byte key (base64 or hex) encrypting signing keys; required with PostgreSQL."`
	LogLevel    string `default:"info" enum:"debug,info,warn,error" env:"TOOKEN_LOG_LEVEL" help:"debug, info, warn or error."`
	LogFormat   string `default:"text" enum:"text,json" env:"TOOKEN_LOG_FORMAT" help:"text or json."`
}

func (f storeFlags) config(migrate bool) app.Config {
	return app.Config{
		Addr: f.Addr, PublicURL: f.PublicURL, DatabaseURL: f.DatabaseURL, DataDir: f.DataDir,
		MasterKey: f.MasterKey, Migrate: migrate, Logger: f.logger(),
	}
}

func (f storeFlags) logger() *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(f.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if f.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

type serveCmd struct {
	storeFlags
	RateLimit           int           `default:"1000" env:"TOOKEN_RATE_LIMIT" help:"Requests per minute per workspace."`
	IPRateLimit         int           `default:"600" env:"TOOKEN_IP_RATE_LIMIT" help:"Unauthenticated requests (verify) per minute per client IP."`
	ShutdownTimeout     time.Duration `default:"15s" env:"TOOKEN_SHUTDOWN_TIMEOUT" help:"Graceful shutdown bound."`
	NoMigrate           bool          `env:"TOOKEN_NO_MIGRATE" help:"Do not apply migrations on start."`
	JWKSMaxAge          time.Duration `default:"5m" env:"TOOKEN_JWKS_MAX_AGE" help:"JWKS Cache-Control max-age; new signing keys are announced this long before they sign."`
	KeyRotation         time.Duration `default:"2160h" env:"TOOKEN_KEY_ROTATION" help:"Automatic signing-key rotation period."`
	ReadHeaderTimeout   time.Duration `default:"10s" env:"TOOKEN_READ_HEADER_TIMEOUT" help:"Time allowed to send a request's headers."`
	ReadTimeout         time.Duration `default:"30s" env:"TOOKEN_READ_TIMEOUT" help:"Time allowed to send a whole request."`
	WriteTimeout        time.Duration `default:"30s" env:"TOOKEN_WRITE_TIMEOUT" help:"Time allowed to send a response (the revocation stream is exempt)."`
	IdleTimeout         time.Duration `default:"2m" env:"TOOKEN_IDLE_TIMEOUT" help:"How long a keep-alive connection may idle."`
	WebhookAllowPrivate bool          `env:"TOOKEN_WEBHOOK_ALLOW_PRIVATE" help:"Let webhooks target loopback and private addresses, over http too (tests and local development only)."`
	WebhookRetryBase    time.Duration `default:"30s" env:"TOOKEN_WEBHOOK_RETRY_BASE" help:"Delay before a failed webhook delivery's second attempt; it doubles after each attempt, up to 1h."`
	JobRescueAfter      time.Duration `default:"1m" env:"TOOKEN_JOB_RESCUE_AFTER" help:"How long a background job (e.g. a webhook delivery) may run before it is presumed lost with a killed replica and retried."`
	PprofAddr           string        `env:"TOOKEN_PPROF_ADDR" help:"Serve pprof profiles and memory statistics on this loopback address (off by default)."`
	GCHeapFloor         uint          `default:"32" env:"TOOKEN_GC_HEAP_FLOOR" help:"Smallest heap target of the garbage collector, in MiB: a small heap is collected less often, for up to this much more memory (0: Go's default; ignored when GOGC is set)."`
}

func (c *serveCmd) Run(ctx context.Context) error {
	cfg := c.config(!c.NoMigrate)
	cfg.RateLimit, cfg.IPRateLimit, cfg.ShutdownTimeout = c.RateLimit, c.IPRateLimit, c.ShutdownTimeout
	cfg.JWKSMaxAge, cfg.KeyRotationPeriod = c.JWKSMaxAge, c.KeyRotation
	cfg.WebhookAllowPrivate, cfg.WebhookRetryBase, cfg.JobRescueAfter = c.WebhookAllowPrivate, c.WebhookRetryBase, c.JobRescueAfter
	cfg.ReadHeaderTimeout, cfg.ReadTimeout, cfg.WriteTimeout, cfg.IdleTimeout = c.ReadHeaderTimeout, c.ReadTimeout, c.WriteTimeout, c.IdleTimeout
	cfg.PprofAddr = c.PprofAddr
	go gcfloor.Keep(ctx, uint64(c.GCHeapFloor)<<20)
	m, err := app.Listen(ctx, cfg)
	if err != nil {
		return err
	}
	defer m.Close()
	return m.Run(ctx)
}

type migrateCmd struct{ storeFlags }

func (c *migrateCmd) Run(ctx context.Context) error {
	m, err := app.Open(ctx, c.config(true))
	if err != nil {
		return err
	}
	c.logger().Info("migrations applied")
	return m.Close()
}

type bootstrapCmd struct {
	storeFlags
	Email         string `required:"" help:"Account email (created if new)."`
	Workspace     string `required:"" help:"Workspace name."`
	PasswordStdin bool   `help:"Read the account password from standard input."`
}

func (c *bootstrapCmd) Run(ctx context.Context, stdin io.Reader, stdout io.Writer) error {
	var password string
	if c.PasswordStdin {
		b, err := io.ReadAll(io.LimitReader(stdin, 4096))
		if err != nil {
			return err
		}
		password = strings.TrimRight(string(b), "\r\n")
	}
	m, err := app.Open(ctx, c.config(true))
	if err != nil {
		return err
	}
	defer m.Close()
	out, err := m.Service.Bootstrap(ctx, core.BootstrapInput{Email: c.Email, Password: password, Workspace: c.Workspace})
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]string{
		"workspace_id":  out.Workspace.ID,
		"issuer":        m.Service.Issuer(out.Workspace.ID),
		"api_key":       out.APIKey,
		"dashboard_url": m.URL + "/",
	})
}

type auditCmd struct {
	Verify auditVerifyCmd `cmd:"" help:"Re-check the audit log's hash chain and name the first broken link."`
}

type auditVerifyCmd struct {
	storeFlags
	Workspace string `help:"Check only this workspace (default: every workspace)."`
}

// errChainBroken makes the command exit non-zero after it has printed what is broken.
var errChainBroken = errors.New("the audit chain is broken")

func (c *auditVerifyCmd) Run(ctx context.Context, stdout io.Writer) error {
	m, err := app.Open(ctx, c.config(false))
	if err != nil {
		return err
	}
	defer m.Close()
	broken := false
	report := func(r *core.ChainReport) {
		name := r.WorkspaceID
		if name == "" {
			name = "(no workspace)"
		}
		if r.OK() {
			fmt.Fprintf(stdout, "%s: ok, %d events checked", name, r.Checked)
			if r.Unchained > 0 {
				fmt.Fprintf(stdout, " (%d older events predate the chain)", r.Unchained)
			}
			fmt.Fprintln(stdout)
			return
		}
		broken = true
		at := fmt.Sprintf("#%d", r.BrokenSeq)
		if r.BrokenID != "" {
			at += " (" + r.BrokenID + ")"
		}
		fmt.Fprintf(stdout, "%s: BROKEN at event %s: %s; %d events before it verified\n", name, at, r.Reason, r.Checked)
	}
	if c.Workspace != "" {
		r, err := m.Service.VerifyAuditChain(ctx, c.Workspace, func(n int) {
			if n > 0 && n%100_000 == 0 {
				fmt.Fprintf(os.Stderr, "%d events checked…\n", n)
			}
		})
		if err != nil {
			return err
		}
		report(r)
	} else if err := m.Service.VerifyAllAuditChains(ctx, report); err != nil {
		return err
	}
	if broken {
		return errChainBroken
	}
	return nil
}

type keygenCmd struct{}

func (keygenCmd) Run(stdout io.Writer) error {
	_, err := fmt.Fprintln(stdout, jwks.GenerateMasterKey())
	return err
}

type cli struct {
	Serve     serveCmd     `cmd:"" help:"Run the HTTP API."`
	Migrate   migrateCmd   `cmd:"" help:"Apply database migrations."`
	Bootstrap bootstrapCmd `cmd:"" help:"Create an account, a workspace and an owner API key; print them as JSON."`
	Keygen    keygenCmd    `cmd:"" help:"Print a new master key for TOOKEN_MASTER_KEY."`
	Audit     auditCmd     `cmd:"" help:"Audit log tools."`
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var c cli
	k := kong.Parse(&c, kong.Name("tooken"),
		kong.Description("Tooken issues and governs scoped bearer tokens."),
		kong.BindTo(ctx, (*context.Context)(nil)),
		kong.BindTo(io.Reader(os.Stdin), (*io.Reader)(nil)),
		kong.BindTo(io.Writer(os.Stdout), (*io.Writer)(nil)))
	if err := k.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "tooken:", err)
		os.Exit(1)
	}
}
