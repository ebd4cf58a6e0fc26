// Package verify verifies Tooken access tokens offline, at the speed of the signature check, while
// still honouring revocation.
//
// A Verifier is built from an issuer URL ({public_url}/w/{workspace_id}). It discovers the issuer's
// JWKS and revocation feed, keeps the JWKS cached per its Cache-Control (refreshing it once,
// single-flight and rate-limited, when a token names an unknown kid, and keeping the known keys when
// the issuer is unreachable), and follows the revocation stream (Server-Sent Events), polling the
// feed while the stream is down. WithMaxStaleness makes verification fail closed when the feed has
// been unreachable too long.
//
// Verified values are cached by the SHA-256 of the whole value, so a value seen again costs no
// signature check; expiry, revocation and staleness are checked on every call.
//
// The package depends on the standard library only and never on Tooken's server packages.
package verify
