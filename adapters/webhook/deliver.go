package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/tooken/tooken/ports"
)

// Headers of a delivery.
const (
	HeaderSignature   = "X-Tooken-Signature"    // lowercase hex HMAC-SHA256 of the raw body
	HeaderSignatureV2 = "X-Tooken-Signature-V2" // lowercase hex HMAC-SHA256 of timestamp + "." + body
	HeaderEventID     = "X-Tooken-Event-Id"     // the event's id: receivers deduplicate by it
	HeaderTimestamp   = "X-Tooken-Timestamp"    // Unix seconds when the attempt was signed
)

// DefaultTimeout bounds one delivery attempt.
const DefaultTimeout = 10 * time.Second

// ErrGone means the delivery's webhook was deleted or disabled: the delivery is dropped, not retried.
var ErrGone = errors.New("webhook: deleted or disabled")

// Sender makes delivery attempts: it signs the envelope with the webhook's secret, POSTs it through
// the guarded dialer and records each attempt in the delivery log.
type Sender struct {
	Webhooks ports.WebhookStore
	Log      ports.DeliveryLog
	Clock    ports.Clock
	Client   *http.Client
}

// NewSender returns a Sender whose HTTP client connects only where guard allows (checked on the
// address actually dialled), follows no redirects, uses no proxy and gives up after timeout
// (DefaultTimeout when 0).
func NewSender(webhooks ports.WebhookStore, log ports.DeliveryLog, clock ports.Clock, guard *Guard, timeout time.Duration) *Sender {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	dialer := &net.Dialer{Timeout: timeout, Control: guard.Control}
	transport := &http.Transport{DialContext: dialer.DialContext, TLSHandshakeTimeout: timeout,
		ResponseHeaderTimeout: timeout, MaxIdleConnsPerHost: 4, IdleConnTimeout: 90 * time.Second}
	return &Sender{Webhooks: webhooks, Log: log, Clock: clock, Client: &http.Client{
		Transport: transport, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Sign returns the hex HMAC-SHA256 of msg under secret.
func Sign(secret string, msg []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(msg)
	return hex.EncodeToString(m.Sum(nil))
}

// Attempt makes attempt number n of d. It returns nil when the receiver answered 2xx, ErrGone when
// the webhook no longer exists or is disabled, and otherwise an error (to retry).
func (s *Sender) Attempt(ctx context.Context, d ports.WebhookDelivery, n int) error {
	w, err := s.Webhooks.Webhook(ctx, d.WorkspaceID, d.WebhookID)
	if ports.ErrorCode(err) == ports.ENOTFOUND || (err == nil && !w.Enabled) {
		return ErrGone
	} else if err != nil {
		return err
	}
	start := s.Clock.Now()
	ts := strconv.FormatInt(start.Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(d.Payload))
	if err != nil {
		return s.record(ctx, d, n, start, 0, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Tooken-Webhooks/1")
	req.Header.Set(HeaderEventID, d.EventID)
	req.Header.Set(HeaderTimestamp, ts)
	v1, v2 := Sign(w.Secret, d.Payload), Sign(w.Secret, append([]byte(ts+"."), d.Payload...))
	if w.PreviousSecret != "" && w.PreviousSecretUntil != nil && start.Before(*w.PreviousSecretUntil) {
		// During a secret rotation both secrets sign: comma-separated, the new one first.
		v1 += "," + Sign(w.PreviousSecret, d.Payload)
		v2 += "," + Sign(w.PreviousSecret, append([]byte(ts+"."), d.Payload...))
	}
	req.Header.Set(HeaderSignature, v1)
	req.Header.Set(HeaderSignatureV2, v2)
	res, err := s.Client.Do(req)
	if err != nil {
		return s.record(ctx, d, n, start, 0, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return s.record(ctx, d, n, start, res.StatusCode, fmt.Errorf("receiver answered %d", res.StatusCode))
	}
	return s.record(ctx, d, n, start, res.StatusCode, nil)
}

// record logs the attempt and returns its outcome (cause), or the logging error if cause is nil.
func (s *Sender) record(ctx context.Context, d ports.WebhookDelivery, n int, start time.Time, status int, cause error) error {
	a := &ports.DeliveryAttempt{DeliveryID: d.ID, WorkspaceID: d.WorkspaceID, WebhookID: d.WebhookID,
		EventID: d.EventID, Event: d.Event, Attempt: n, StatusCode: status,
		LatencyMS: s.Clock.Now().Sub(start).Milliseconds(), At: start, Payload: d.Payload}
	if cause != nil {
		a.Error = cause.Error()
		if len(a.Error) > 500 {
			a.Error = a.Error[:500]
		}
	}
	err := s.Log.RecordAttempt(context.WithoutCancel(ctx), a)
	if cause != nil {
		return cause
	}
	return err
}
