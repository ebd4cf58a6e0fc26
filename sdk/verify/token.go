package verify

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

const (
	maxTokenLen  = 16 << 10
	maxHeaderLen = 1 << 10
	maxTime      = 253402300799 // 9999-12-31T23:59:59Z
)

var b64 = base64.RawURLEncoding.Strict()

// header is the protected header of a compact JWS.
type header struct {
	alg, kid, typ string
	crit          bool
}

// rawClaims are the claims as read from the payload, before any check.
type rawClaims struct {
	iss, sub, clientID, jti, scope, wid string
	aud                                 []string
	iat, nbf, exp                       time.Time
	hasIat, hasNbf, hasExp              bool
}

// splitToken returns the indexes of the two dots of a compact JWS.
func splitToken(b []byte) (dot1, dot2 int, ok bool) {
	dot1 = bytes.IndexByte(b, '.')
	if dot1 < 0 {
		return 0, 0, false
	}
	rest := bytes.IndexByte(b[dot1+1:], '.')
	if rest < 0 {
		return 0, 0, false
	}
	dot2 = dot1 + 1 + rest
	return dot1, dot2, bytes.IndexByte(b[dot2+1:], '.') < 0
}

func parseHeader(seg []byte) (header, error) {
	var buf [maxHeaderLen]byte
	if b64.DecodedLen(len(seg)) > len(buf) {
		return header{}, wrap(ErrMalformed, "header too long")
	}
	n, err := b64.Decode(buf[:], seg)
	if err != nil {
		return header{}, wrap(ErrMalformed, "header is not base64url")
	}
	s := string(buf[:n])
	var h header
	var seen uint8
	fast := scanFlat(s, func(k string, kind byte, v string) bool {
		var bit uint8
		switch k {
		case "alg":
			bit, h.alg = 1, v
		case "kid":
			bit, h.kid = 2, v
		case "typ":
			bit, h.typ = 4, v
		case "crit":
			h.crit = true
			return true
		default:
			return true
		}
		if kind != kindString || seen&bit != 0 {
			return false
		}
		seen |= bit
		return true
	})
	if fast {
		return h, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return header{}, wrap(ErrMalformed, "header is not a JSON object")
	}
	_, crit := m["crit"]
	alg, err1 := member(m, "alg")
	kid, err2 := member(m, "kid")
	typ, err3 := member(m, "typ")
	if err := errors.Join(err1, err2, err3); err != nil {
		return header{}, err
	}
	return header{alg: alg, kid: kid, typ: typ, crit: crit}, nil
}

// member returns the string member name of m ("" when absent or null).
func member(m map[string]json.RawMessage, name string) (string, error) {
	var v string
	if raw, ok := m[name]; ok && json.Unmarshal(raw, &v) != nil {
		return "", wrap(ErrMalformed, "%s is not a string", name)
	}
	return v, nil
}

func parsePayload(seg []byte) (rawClaims, error) {
	var stack [1024]byte
	buf := stack[:]
	if l := b64.DecodedLen(len(seg)); l > len(buf) {
		buf = make([]byte, l)
	}
	n, err := b64.Decode(buf, seg)
	if err != nil {
		return rawClaims{}, wrap(ErrMalformed, "payload is not base64url")
	}
	s := string(buf[:n])
	if c, ok := parseClaimsFast(s); ok {
		return c, nil
	}
	return parseClaimsSlow(s)
}

// parseClaimsFast reads the common shape of Tooken claims without encoding/json; it reports false
// for anything unusual, which parseClaimsSlow then decides.
func parseClaimsFast(s string) (rawClaims, bool) {
	var c rawClaims
	var seen uint16
	ok := scanFlat(s, func(k string, kind byte, v string) bool {
		var bit uint16
		var str *string
		var t *time.Time
		var has *bool
		switch k {
		case "iss":
			bit, str = 1<<0, &c.iss
		case "sub":
			bit, str = 1<<1, &c.sub
		case "client_id":
			bit, str = 1<<2, &c.clientID
		case "jti":
			bit, str = 1<<3, &c.jti
		case "scope":
			bit, str = 1<<4, &c.scope
		case "wid":
			bit, str = 1<<5, &c.wid
		case "aud":
			bit = 1 << 6
		case "iat":
			bit, t, has = 1<<7, &c.iat, &c.hasIat
		case "nbf":
			bit, t, has = 1<<8, &c.nbf, &c.hasNbf
		case "exp":
			bit, t, has = 1<<9, &c.exp, &c.hasExp
		default:
			return true
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		switch {
		case str != nil:
			*str = v
			return kind == kindString
		case t != nil:
			n, ok := plainInt(v)
			if kind != kindNumber || !ok || n > maxTime {
				return false
			}
			*t, *has = time.Unix(n, 0).UTC(), true
			return true
		case kind == kindString:
			c.aud = []string{v}
		case kind == kindArray:
			c.aud = arrayStrings(v)
		default:
			return false
		}
		return true
	})
	return c, ok
}

func parseClaimsSlow(s string) (rawClaims, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return rawClaims{}, wrap(ErrMalformed, "payload is not a JSON object")
	}
	var c rawClaims
	var errs [6]error
	c.iss, errs[0] = member(m, "iss")
	c.sub, errs[1] = member(m, "sub")
	c.clientID, errs[2] = member(m, "client_id")
	c.jti, errs[3] = member(m, "jti")
	c.scope, errs[4] = member(m, "scope")
	c.wid, errs[5] = member(m, "wid")
	if err := errors.Join(errs[:]...); err != nil {
		return rawClaims{}, err
	}
	if raw, ok := m["aud"]; ok && string(raw) != "null" {
		var one string
		if json.Unmarshal(raw, &one) == nil {
			c.aud = []string{one}
		} else if json.Unmarshal(raw, &c.aud) != nil {
			return rawClaims{}, wrap(ErrMalformed, "claim aud is neither a string nor an array of strings")
		}
	}
	times := []struct {
		name string
		t    *time.Time
		has  *bool
	}{{"iat", &c.iat, &c.hasIat}, {"nbf", &c.nbf, &c.hasNbf}, {"exp", &c.exp, &c.hasExp}}
	for _, f := range times {
		raw, ok := m[f.name]
		if !ok || string(raw) == "null" {
			continue
		}
		var v float64
		if json.Unmarshal(raw, &v) != nil || v < 0 || v > maxTime {
			return rawClaims{}, wrap(ErrMalformed, "claim %s is not a valid NumericDate", f.name)
		}
		sec := int64(v)
		*f.t, *f.has = time.Unix(sec, int64((v-float64(sec))*1e9)).UTC(), true
	}
	return c, nil
}

// claims converts checked raw claims into the public form.
func (c *rawClaims) claims(kid string) *Claims {
	out := &Claims{
		Issuer:      c.iss,
		Subject:     c.sub,
		TokenID:     c.clientID,
		WorkspaceID: c.wid,
		JTI:         c.jti,
		Audience:    c.aud,
		Scopes:      strings.Fields(c.scope),
		KeyID:       kid,
	}
	if out.TokenID == "" {
		out.TokenID = c.sub
	}
	if c.hasIat {
		out.IssuedAt = c.iat
	}
	if c.hasNbf {
		out.NotBefore = c.nbf
	}
	if c.hasExp {
		exp := c.exp
		out.ExpiresAt = &exp
	}
	return out
}

// typOK accepts at+jwt in either of the forms RFC 9068 and RFC 7515 allow.
func typOK(typ string) bool {
	return strings.EqualFold(typ, "at+jwt") || strings.EqualFold(typ, "application/at+jwt")
}

// compactChars reports whether s holds only base64url characters and dots. The base64 decoder skips
// '\r' and '\n' even in strict mode, so without this check one signed value would have many
// spellings.
func compactChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
