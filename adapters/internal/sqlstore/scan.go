package sqlstore

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Time scans a stored time: a timestamptz (PostgreSQL) or INTEGER unix microseconds (SQLite); NULL
// leaves Valid false. Times always come back in UTC.
type Time struct {
	T     time.Time
	Valid bool
}

// Scan implements sql.Scanner.
func (t *Time) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*t = Time{}
	case time.Time:
		*t = Time{T: v.UTC(), Valid: true}
	case int64:
		*t = Time{T: time.UnixMicro(v).UTC(), Valid: true}
	default:
		return fmt.Errorf("sqlstore: cannot scan %T into a time", src)
	}
	return nil
}

// Ptr returns the time, or nil when it was NULL.
func (t Time) Ptr() *time.Time {
	if !t.Valid {
		return nil
	}
	v := t.T
	return &v
}

// UnixMicro encodes a time as unix microseconds (SQLite).
func UnixMicro(t time.Time) any { return t.UnixMicro() }

// UTCMicro encodes a time as a UTC time truncated to the microsecond (PostgreSQL), so that both
// dialects store exactly the same instant.
func UTCMicro(t time.Time) any { return t.UTC().Truncate(time.Microsecond) }

// jsonText encodes v as JSON text; nil slices stay JSON null so that nil and empty round-trip.
func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// rawText returns raw JSON as a text argument, or NULL when it is nil.
func rawText(raw json.RawMessage) any {
	if raw == nil {
		return nil
	}
	return string(raw)
}

// rawJSON copies scanned JSON bytes into a RawMessage, nil for NULL.
func rawJSON(b []byte) json.RawMessage {
	if b == nil {
		return nil
	}
	return json.RawMessage(append([]byte(nil), b...))
}

// likeContains returns a LIKE pattern (escape character \) matching s as a substring.
func likeContains(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}
