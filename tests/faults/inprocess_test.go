package faults

import (
	"context"
	"testing"
	"time"

	"github.com/tooken/tooken/cmd/tooken/app"
	"github.com/tooken/tooken/core"
)

// inProcess is a server run in the test process (app.Listen + Run), for drills that need its
// configuration beyond the CLI's flags or its service.
type inProcess struct {
	*client
	Service *core.Service
}

// serveInProcess runs the server with cfg until the test ends.
func serveInProcess(t *testing.T, cfg app.Config) *inProcess {
	t.Helper()
	m, err := app.Listen(context.Background(), cfg)
	if err != nil {
		t.Fatalf("app.Listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	s := &inProcess{client: newClient(m.URL), Service: m.Service}
	t.Cleanup(func() {
		s.http.CloseIdleConnections()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("the server did not shut down within 20 s")
		}
		if err := m.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func bootstrapInput(workspace string) core.BootstrapInput {
	return core.BootstrapInput{Email: "owner@example.com", Workspace: workspace}
}
