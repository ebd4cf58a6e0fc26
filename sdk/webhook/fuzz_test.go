package webhook

import (
	"bytes"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzVerify changes a correctly signed delivery (body, timestamp, signature, clock, secret): Verify
// never panics and accepts only the signed body and timestamp, within the tolerance, under the
// signing secret. VerifySignature likewise accepts only the signed body.
func FuzzVerify(f *testing.F) {
	const secret = "whsec_fuzzsecret"
	body := []byte(`{"id":"evt_1","event":"token.created","timestamp":1900000000,"data":{}}`)
	signedAt := int64(1_900_000_000)
	ts := strconv.FormatInt(signedAt, 10)
	sigV2 := hex.EncodeToString(sign(secret, append([]byte(ts+"."), body...)))
	sigV1 := hex.EncodeToString(sign(secret, body))
	f.Add(body, ts, sigV2, int64(0), secret)
	f.Add(body, ts, "00"+sigV2[2:]+","+sigV2, int64(299), secret)
	f.Add(body, "+"+ts, sigV2, int64(0), secret)
	f.Add(body, ts, sigV2, int64(301), secret)
	f.Add(append(body, ' '), ts, sigV2, int64(0), secret)
	f.Add(body, ts, sigV2, int64(0), secret+"x")
	f.Add(body, ts, sigV1, int64(0), secret)
	f.Add([]byte{}, "", "", int64(-1), "")
	// HMAC pads short keys with zero bytes, so a secret differing only by trailing NULs signs alike.
	f.Fuzz(func(t *testing.T, gotBody []byte, gotTS, gotSig string, skew int64, gotSecret string) {
		now := time.Unix(signedAt, 0).Add(time.Duration(skew) * time.Second)
		h := http.Header{"X-Tooken-Timestamp": {gotTS}, "X-Tooken-Signature-V2": {gotSig}}
		err := Verify(gotSecret, gotBody, h, now, 0)
		if err == nil && (!bytes.Equal(gotBody, body) || gotTS != ts || strings.TrimRight(gotSecret, "\x00") != secret || skew > 300 || skew < -300) {
			t.Fatalf("accepted body %q, timestamp %q, secret %q at skew %d s", gotBody, gotTS, gotSecret, skew)
		}
		if VerifySignature(gotSecret, gotBody, gotSig) && (!bytes.Equal(gotBody, body) || strings.TrimRight(gotSecret, "\x00") != secret) {
			t.Fatalf("VerifySignature accepted body %q under secret %q", gotBody, gotSecret)
		}
	})
}
