package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/tooken/tooken/cmd/tooken/app"
)

func TestInvitationLinksReachTheDashboard(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m, err := app.Listen(ctx, app.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Migrate: true, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	go func() { _ = m.Run(ctx) }()
	res, err := http.Get(m.URL + "/invitations/unknowncode")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Errorf("GET /invitations/{code}: %d %s, want the dashboard's 404 page", res.StatusCode, res.Header.Get("Content-Type"))
	}
}
