// Package contract holds the spec contract test: the real HTTP handler, on embedded SQLite, driven
// only through the generated SDK whose transport checks every request and response against
// openapi.yaml, and a coverage gate that fails when an operation or a documented status of the spec
// was never exercised.
package contract
