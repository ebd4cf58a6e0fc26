package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"
)

// jsonAnswer is a 200 answer whose JSON body is already encoded: the hot paths (GET
// /v1/tokens/{id}, verify) encode their token with appendToken instead of encoding/json's reflection
// and the validating pass it makes over a MarshalJSON's output.
type jsonAnswer []byte

// VisitGetTokenResponse implements GetTokenResponseObject.
func (a jsonAnswer) VisitGetTokenResponse(w http.ResponseWriter) error { return a.write(w) }

// VisitVerifyTokenResponse implements VerifyTokenResponseObject.
func (a jsonAnswer) VisitVerifyTokenResponse(w http.ResponseWriter) error { return a.write(w) }

var jsonContentType = []string{"application/json"}

func (a jsonAnswer) write(w http.ResponseWriter) error { return writeEncoded(w, http.StatusOK, a) }

// writeEncoded writes a JSON body encoded already.
func writeEncoded(w http.ResponseWriter, status int, body []byte) error {
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(status)
	_, err := w.Write(body)
	return err
}

// issuedAnswer is the answer of a create (201) or a rotation (200): the token and its value, as the
// generated code would encode IssuedToken (Token's fields, then "token").
type issuedAnswer struct {
	status int
	body   []byte
}

// VisitCreateTokenResponse implements CreateTokenResponseObject.
func (a issuedAnswer) VisitCreateTokenResponse(w http.ResponseWriter) error {
	return writeEncoded(w, a.status, a.body)
}

// VisitRotateTokenResponse implements RotateTokenResponseObject.
func (a issuedAnswer) VisitRotateTokenResponse(w http.ResponseWriter) error {
	return writeEncoded(w, a.status, a.body)
}

// newIssuedAnswer encodes t with its value, answered with status.
func newIssuedAnswer(status int, t Token, value string) (issuedAnswer, error) {
	b, err := appendToken(make([]byte, 0, 1024), &t)
	if err != nil {
		return issuedAnswer{}, err
	}
	b = appendString(append(b[:len(b)-1], `,"token":`...), value) // b ends with Token's '}'
	return issuedAnswer{status: status, body: append(b, "}\n"...)}, nil
}

// tokenAnswer is the answer of GET /v1/tokens/{id}: t as the generated code would encode it.
func tokenAnswer(t Token) (jsonAnswer, error) {
	b, err := appendToken(make([]byte, 0, 512), &t)
	return append(b, '\n'), err
}

// verifyAnswer is the answer of POST /v1/tokens/verify: v as the generated code would encode it.
func verifyAnswer(v VerifyResponse) (jsonAnswer, error) {
	b := appendString(append(make([]byte, 0, 512), `{"code":`...), string(v.Code))
	if v.Token != nil {
		var err error
		if b, err = appendToken(append(b, `,"token":`...), v.Token); err != nil {
			return nil, err
		}
	}
	return append(strconv.AppendBool(append(b, `,"valid":`...), v.Valid), "}\n"...), nil
}

// appendToken appends t exactly as encoding/json encodes the generated struct: the same keys in the
// same order, the same escaping. TestTokenAnswersAreEncodingJSONs pins the equivalence.
func appendToken(b []byte, t *Token) ([]byte, error) {
	b = appendStrings(append(b, `{"audience":`...), t.Audience)
	b, err := appendTime(append(b, `,"created_at":`...), &t.CreatedAt)
	if err != nil {
		return nil, err
	}
	b = appendString(append(b, `,"created_by":`...), t.CreatedBy)
	if b, err = appendTime(append(b, `,"expires_at":`...), t.ExpiresAt); err != nil {
		return nil, err
	}
	b = appendString(append(b, `,"id":`...), t.Id)
	if b, err = appendTime(append(b, `,"last_used_at":`...), t.LastUsedAt); err != nil {
		return nil, err
	}
	b = append(b, `,"metadata":`...)
	switch {
	case t.Metadata == nil:
		b = append(b, "null"...)
	case len(t.Metadata) == 0:
		b = append(b, "{}"...)
	default:
		md, err := json.Marshal(t.Metadata)
		if err != nil {
			return nil, err
		}
		b = append(b, md...)
	}
	b = appendString(append(b, `,"name":`...), t.Name)
	if b, err = appendTime(append(b, `,"revoked_at":`...), t.RevokedAt); err != nil {
		return nil, err
	}
	if b, err = appendTime(append(b, `,"rotated_at":`...), t.RotatedAt); err != nil {
		return nil, err
	}
	b = append(b, `,"rotation_period":`...)
	if t.RotationPeriod == nil {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendInt(b, *t.RotationPeriod, 10)
	}
	b = appendStrings(append(b, `,"scopes":`...), t.Scopes)
	b = appendString(append(b, `,"status":`...), string(t.Status))
	return append(b, '}'), nil
}

// appendTime appends t as encoding/json does (RFC 3339 with nanoseconds, quoted; null for nil).
func appendTime(b []byte, t *time.Time) ([]byte, error) {
	if t == nil {
		return append(b, "null"...), nil
	}
	b, err := t.AppendText(append(b, '"')) // fails, as encoding/json does, for a year outside 0–9999
	if err != nil {
		return nil, err
	}
	return append(b, '"'), nil
}

// appendStrings appends s as encoding/json does (null for a nil slice).
func appendStrings(b []byte, s []string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, v := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, v)
	}
	return append(b, ']')
}

// appendString appends s quoted; a string with anything encoding/json would escape (control
// characters, quote, backslash, <, >, &, non-ASCII) is handed to encoding/json itself.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c >= utf8.RuneSelf {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
