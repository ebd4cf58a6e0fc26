// Package tooken holds the project's HTTP contract, openapi.yaml, for the packages that serve it.
package tooken

import _ "embed"

// OpenAPI is the OpenAPI 3.0.3 document describing the HTTP API (the source of truth for the
// generated server and SDK).
//
//go:embed openapi.yaml
var OpenAPI []byte
