package contract

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tooken/tooken/cmd/tooken/app"
)

// templateDir holds an embedded database with every migration applied, made once per run: each test
// server starts from a copy instead of migrating a fresh database (River's migrations included).
var templateDir string

// makeTemplate migrates an empty embedded database in a temporary directory and returns that
// directory; the caller removes it.
func makeTemplate() (string, error) {
	dir, err := os.MkdirTemp("", "tooken-contract-template-")
	if err != nil {
		return "", err
	}
	m, err := app.Open(context.Background(), app.Config{DataDir: dir, Migrate: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	if err := m.Close(); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// copyTemplate copies the template database files (not the master key) into dir.
func copyTemplate(t *testing.T, dir string) {
	t.Helper()
	if templateDir == "" {
		return
	}
	entries, err := os.ReadDir(templateDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "tooken.db") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(templateDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
