package sdk_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/tooken/tooken/sdk"
)

// A service holds a token created with a rotation_period (each value lives at most that long). The
// rotating credential renews the value unattended at ~2/3 of its life, saves each new value to the
// file the service reads at start-up, and authenticates every request with a live value.
func ExampleNewRotatingCredential() {
	ctx := context.Background()
	const baseURL = "https://tooken.example.com"
	const path = "/var/run/secrets/tooken-token"

	value, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	store := func(_ context.Context, newValue string) error {
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, []byte(newValue), 0o600); err != nil {
			return err
		}
		return os.Rename(tmp, path) // atomic: a restart never reads half a value
	}
	cred, err := sdk.NewRotatingCredential(ctx, baseURL, strings.TrimSpace(string(value)), store,
		sdk.WithGracePeriod(60), // requests already in flight with the old value still succeed
		sdk.WithOnError(func(err error) { log.Printf("token rotation: %v", err) }),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer cred.Close()

	httpClient := &http.Client{Transport: cred.RoundTripper(nil), Timeout: 30 * time.Second}
	c, err := sdk.NewClientWithResponses(baseURL, sdk.WithHTTPClient(httpClient))
	if err != nil {
		log.Fatal(err)
	}
	res, err := c.ListTokensWithResponse(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Status())
}
