package verify_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/tooken/tooken/sdk/verify"
)

// A downstream service verifies a token it received, offline.
func ExampleNew() {
	ctx := context.Background()
	v, err := verify.New(ctx, "https://tooken.example.com/w/ws_0123456789abcdefghijklmn",
		verify.WithAudience("https://orders.example.com"),
		verify.WithLeeway(5*time.Second),
		verify.WithMaxStaleness(time.Minute),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	claims, err := v.Verify(ctx, "eyJhbGciOiJFUzI1NiIs…")
	switch {
	case errors.Is(err, verify.ErrRevoked), errors.Is(err, verify.ErrExpired):
		fmt.Println("token no longer valid")
	case err != nil:
		fmt.Println("invalid token:", err)
	case claims.HasScope("orders:read"):
		fmt.Println("token", claims.TokenID, "may read orders")
	}
}

// Protect an HTTP handler: 401 without a valid token, 403 without the orders:read scope.
func ExampleVerifier_Middleware() {
	v, err := verify.New(context.Background(), "https://tooken.example.com/w/ws_0123456789abcdefghijklmn")
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	orders := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := verify.ClaimsFromContext(r.Context())
		fmt.Fprintf(w, "orders visible to %s\n", claims.TokenID)
	})
	mux := http.NewServeMux()
	mux.Handle("GET /orders", v.Middleware("orders:read")(orders))
	log.Fatal(http.ListenAndServe(":8080", mux))
}

func ExampleClaims_HasAllScopes() {
	c := &verify.Claims{Scopes: []string{"tokens:read", "orders:read"}}
	fmt.Println(c.HasScope("orders:read"), c.HasAllScopes("orders:read", "orders:write"))
	// Output: true false
}
