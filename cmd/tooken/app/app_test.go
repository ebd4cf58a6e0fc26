package app_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tooken/tooken/cmd/tooken/app"
	"github.com/tooken/tooken/core"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestPostgreSQLRequiresAMasterKey(t *testing.T) {
	_, err := app.Open(context.Background(), app.Config{DatabaseURL: "postgres://postgres@127.0.0.1:1/none", Logger: quiet()})
	if err == nil || !strings.Contains(err.Error(), "TOOKEN_MASTER_KEY is required") {
		t.Fatalf("err = %v, want a message naming TOOKEN_MASTER_KEY", err)
	}
	_, err = app.Open(context.Background(), app.Config{DatabaseURL: "postgres://x", MasterKey: "short", Logger: quiet()})
	if err == nil || strings.Contains(err.Error(), "short") {
		t.Fatalf("a bad master key must be refused without echoing it: %v", err)
	}
	_, err = app.Open(context.Background(), app.Config{DatabaseURL: "mysql://x", Logger: quiet()})
	if err == nil {
		t.Fatal("a non-PostgreSQL URL must be refused")
	}
}

func TestEmbeddedModeCreatesItsDataDirectoryAndKeyFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	m, err := app.Open(context.Background(), app.Config{DataDir: dir, Migrate: true, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	st, err := os.Stat(filepath.Join(dir, "master.key"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("master key file: %v %v", st, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "tooken.db")); err != nil {
		t.Fatal(err)
	}
}

func TestServeAnswersUntilCancelledThenShutsDownGracefully(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	m, err := app.Listen(ctx, app.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Migrate: true, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	b, err := m.Service.Bootstrap(ctx, core.BootstrapInput{Email: "ops@example.com", Workspace: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	if want := m.URL + "/w/" + b.Workspace.ID; m.Service.Issuer(b.Workspace.ID) != want {
		t.Fatalf("issuer %q does not name the bound port (%s)", m.Service.Issuer(b.Workspace.ID), want)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	res, err := http.Get(m.URL + "/readyz")
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("readyz: %v %v", res, err)
	}
	res.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run returned %v after cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}
