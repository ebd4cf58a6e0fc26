package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"testing"
	"time"
)

func hexMAC(secret, msg string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

func TestVerify(t *testing.T) {
	now := time.Unix(1_900_000_000, 0)
	body := `{"id":"evt_1","event":"token.created","timestamp":"x","data":{}}`
	ts := strconv.FormatInt(now.Unix(), 10)
	h := http.Header{}
	h.Set("X-Tooken-Timestamp", ts)
	h.Set("X-Tooken-Signature-V2", hexMAC("whsec_a", ts+"."+body))
	if err := Verify("whsec_a", []byte(body), h, now.Add(time.Minute), 0); err != nil {
		t.Fatalf("Verify = %v", err)
	}
	if err := Verify("whsec_b", []byte(body), h, now, 0); err != ErrSignatureInvalid {
		t.Errorf("wrong secret: %v", err)
	}
	if err := Verify("whsec_a", []byte(body+" "), h, now, 0); err != ErrSignatureInvalid {
		t.Errorf("tampered body: %v", err)
	}
	if err := Verify("whsec_a", []byte(body), h, now.Add(6*time.Minute), 0); err != ErrBadTimestamp {
		t.Errorf("old delivery: %v", err)
	}
	if err := Verify("whsec_a", []byte(body), http.Header{}, now, 0); err != ErrNoSignature {
		t.Errorf("no headers: %v", err)
	}
	// During a secret rotation the header holds one value per secret.
	h.Set("X-Tooken-Signature-V2", hexMAC("whsec_old", ts+"."+body)+","+hexMAC("whsec_a", ts+"."+body))
	if err := Verify("whsec_a", []byte(body), h, now, 0); err != nil {
		t.Errorf("two values: %v", err)
	}
	if !VerifySignature("whsec_a", []byte(body), hexMAC("whsec_a", body)) || VerifySignature("whsec_a", []byte(body), hexMAC("whsec_b", body)) ||
		VerifySignature("whsec_a", []byte(body), "") {
		t.Error("VerifySignature disagrees with HMAC-SHA256")
	}
}
