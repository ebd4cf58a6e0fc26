// Package webhook verifies the signatures of Tooken webhook deliveries.
//
// Every delivery is a POST whose body is the JSON envelope {id, event, timestamp, data} and whose
// headers are:
//
//	X-Tooken-Signature     lowercase hex HMAC-SHA256 of the raw body with the webhook's secret
//	X-Tooken-Timestamp     Unix seconds when the attempt was signed
//	X-Tooken-Signature-V2  lowercase hex HMAC-SHA256 of timestamp + "." + raw body
//	X-Tooken-Event-Id      the event id; deliveries are at-least-once, so deduplicate by it
//
// Use Verify, which checks X-Tooken-Signature-V2 and that the timestamp is recent (replay
// protection); VerifySignature checks the body-only X-Tooken-Signature. Both accept a header holding
// several comma-separated values and succeed when any of them matches, so a receiver keeps working
// if a delivery is signed with more than one secret. Comparisons are constant-time.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultTolerance is how far X-Tooken-Timestamp may be from now.
const DefaultTolerance = 5 * time.Minute

// Errors of Verify.
var (
	ErrNoSignature      = errors.New("webhook: missing signature or timestamp header")
	ErrBadTimestamp     = errors.New("webhook: timestamp outside the tolerance")
	ErrSignatureInvalid = errors.New("webhook: signature does not match")
)

func sign(secret string, msg []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(msg)
	return m.Sum(nil)
}

// matches reports whether any comma-separated hex value of header equals mac, in constant time per
// value.
func matches(header string, mac []byte) bool {
	ok := false
	for _, v := range strings.Split(header, ",") {
		got, err := hex.DecodeString(strings.TrimSpace(v))
		if err == nil && hmac.Equal(got, mac) {
			ok = true
		}
	}
	return ok
}

// VerifySignature reports whether signature (an X-Tooken-Signature value) is the HMAC-SHA256 of
// body under secret. It gives no replay protection: prefer Verify.
func VerifySignature(secret string, body []byte, signature string) bool {
	return signature != "" && matches(signature, sign(secret, body))
}

// Verify checks a delivery's X-Tooken-Signature-V2 against body and X-Tooken-Timestamp, and that
// the timestamp lies within tolerance of now (DefaultTolerance when tolerance is 0).
func Verify(secret string, body []byte, header http.Header, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	ts, sig := header.Get("X-Tooken-Timestamp"), header.Get("X-Tooken-Signature-V2")
	if ts == "" || sig == "" {
		return ErrNoSignature
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrBadTimestamp
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return ErrBadTimestamp
	}
	msg := make([]byte, 0, len(ts)+1+len(body))
	msg = append(append(append(msg, ts...), '.'), body...)
	if !matches(sig, sign(secret, msg)) {
		return ErrSignatureInvalid
	}
	return nil
}
