// Package sdk is the Go client for the Tooken API, generated from openapi.yaml, plus a small
// ergonomic layer.
package sdk

//go:generate go tool oapi-codegen -config cfg.yaml ../openapi.yaml
