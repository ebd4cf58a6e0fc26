package sdk

import (
	"context"
	"net/http"
)

// New returns a typed client for the Tooken API at baseURL that authenticates every request with
// credential (an API key or a token value). Extra options (e.g. WithHTTPClient) apply after it.
//
//	c, err := sdk.New("http://127.0.0.1:8080", os.Getenv("TOOKEN_API_KEY"))
//	res, err := c.CreateTokenWithResponse(ctx, sdk.CreateTokenRequest{Name: "billing", Scopes: []string{"tokens:read"}})
func New(baseURL, credential string, opts ...ClientOption) (*ClientWithResponses, error) {
	auth := WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
		if credential != "" {
			req.Header.Set("Authorization", "Bearer "+credential)
		}
		return nil
	})
	return NewClientWithResponses(baseURL, append([]ClientOption{auth}, opts...)...)
}
