package verify

import (
	"errors"
	"fmt"
)

// Errors returned by Verify, usable with errors.Is. The returned error may wrap one of them with
// details; the details never contain the token value.
var (
	// ErrMalformed: the value is not a compact JWS with the expected header and claims.
	ErrMalformed = errors.New("verify: malformed token")
	// ErrAlgorithm: alg is none, an HMAC algorithm, unsupported, or not the algorithm of its key.
	ErrAlgorithm = errors.New("verify: algorithm not allowed")
	// ErrWrongType: the header typ is not at+jwt.
	ErrWrongType = errors.New("verify: wrong token type")
	// ErrUnknownKey: kid names no key of the issuer's JWKS, even after a refresh.
	ErrUnknownKey = errors.New("verify: unknown signing key")
	// ErrBadSignature: the signature does not verify with the key named by kid.
	ErrBadSignature = errors.New("verify: bad signature")
	// ErrWrongIssuer: iss is not the configured issuer URL.
	ErrWrongIssuer = errors.New("verify: wrong issuer")
	// ErrWrongAudience: aud contains none of the audiences configured with WithAudience.
	ErrWrongAudience = errors.New("verify: wrong audience")
	// ErrExpired: exp has passed (beyond the leeway).
	ErrExpired = errors.New("verify: token expired")
	// ErrNotYetValid: nbf or iat is in the future (beyond the leeway).
	ErrNotYetValid = errors.New("verify: token not yet valid")
	// ErrRevoked: the revocation feed lists the token's jti and the revocation applies now.
	ErrRevoked = errors.New("verify: token revoked")
	// ErrStaleFeed: the revocation feed has not been heard from for longer than WithMaxStaleness.
	ErrStaleFeed = errors.New("verify: revocation feed stale")
)

// sentinels lists the errors above, most specific first, for messages shown to clients.
var sentinels = []error{
	ErrMalformed, ErrAlgorithm, ErrWrongType, ErrUnknownKey, ErrBadSignature, ErrWrongIssuer,
	ErrWrongAudience, ErrExpired, ErrNotYetValid, ErrRevoked, ErrStaleFeed,
}

func wrap(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))
}

// publicMessage is the message for err that is safe to show a client: its sentinel's text.
func publicMessage(err error) string {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return s.Error()[len("verify: "):]
		}
	}
	return "invalid token"
}
