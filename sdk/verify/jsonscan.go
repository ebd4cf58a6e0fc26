package verify

// Kinds of JSON values reported by scanFlat.
const (
	kindString = 's'
	kindNumber = 'n'
	kindArray  = 'a' // an array whose elements are all plain strings
	kindTrue   = 't'
	kindFalse  = 'f'
	kindNull   = '0'
)

// scanFlat reads s as a JSON object whose members are plain values and calls fn for each member in
// order. It accepts only a strict subset of JSON: ASCII strings without escapes, numbers, literals
// and arrays of such strings. It reports false when s is outside that subset or when fn returns
// false; callers then fall back to encoding/json, so the subset only decides speed, never meaning.
func scanFlat(s string, fn func(key string, kind byte, val string) bool) bool {
	i := skipSpace(s, 0)
	if i >= len(s) || s[i] != '{' {
		return false
	}
	i = skipSpace(s, i+1)
	if i < len(s) && s[i] == '}' {
		return skipSpace(s, i+1) == len(s)
	}
	for {
		key, j, ok := scanString(s, i)
		if !ok {
			return false
		}
		j = skipSpace(s, j)
		if j >= len(s) || s[j] != ':' {
			return false
		}
		j = skipSpace(s, j+1)
		kind, val, k, ok := scanValue(s, j)
		if !ok || !fn(key, kind, val) {
			return false
		}
		k = skipSpace(s, k)
		if k >= len(s) {
			return false
		}
		switch s[k] {
		case ',':
			i = skipSpace(s, k+1)
		case '}':
			return skipSpace(s, k+1) == len(s)
		default:
			return false
		}
	}
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// scanString reads a string starting at s[i] (which must be '"') and returns its contents and the
// index after the closing quote.
func scanString(s string, i int) (string, int, bool) {
	if i >= len(s) || s[i] != '"' {
		return "", i, false
	}
	for j := i + 1; j < len(s); j++ {
		switch c := s[j]; {
		case c == '"':
			return s[i+1 : j], j + 1, true
		case c < 0x20 || c >= 0x80 || c == '\\':
			return "", j, false
		}
	}
	return "", len(s), false
}

func scanValue(s string, i int) (kind byte, val string, next int, ok bool) {
	if i >= len(s) {
		return 0, "", i, false
	}
	switch c := s[i]; {
	case c == '"':
		v, j, ok := scanString(s, i)
		return kindString, v, j, ok
	case c == '-' || (c >= '0' && c <= '9'):
		j, ok := scanNumber(s, i)
		return kindNumber, s[i:j], j, ok
	case c == '[':
		j := skipSpace(s, i+1)
		if j < len(s) && s[j] == ']' {
			return kindArray, s[i : j+1], j + 1, true
		}
		for {
			_, k, ok := scanString(s, j)
			if !ok {
				return 0, "", k, false
			}
			k = skipSpace(s, k)
			if k >= len(s) {
				return 0, "", k, false
			}
			if s[k] == ']' {
				return kindArray, s[i : k+1], k + 1, true
			}
			if s[k] != ',' {
				return 0, "", k, false
			}
			j = skipSpace(s, k+1)
		}
	case hasLiteral(s, i, "true"):
		return kindTrue, "", i + 4, true
	case hasLiteral(s, i, "false"):
		return kindFalse, "", i + 5, true
	case hasLiteral(s, i, "null"):
		return kindNull, "", i + 4, true
	}
	return 0, "", i, false
}

func hasLiteral(s string, i int, lit string) bool {
	return len(s)-i >= len(lit) && s[i:i+len(lit)] == lit
}

// scanNumber validates a JSON number starting at s[i] and returns the index after it.
func scanNumber(s string, i int) (int, bool) {
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		i = skipDigits(s, i)
	default:
		return i, false
	}
	if i < len(s) && s[i] == '.' {
		j := skipDigits(s, i+1)
		if j == i+1 {
			return j, false
		}
		i = j
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := skipDigits(s, i)
		if j == i {
			return j, false
		}
		i = j
	}
	return i, true
}

func skipDigits(s string, i int) int {
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// arrayStrings splits the raw text of an array that scanValue reported as kindArray.
func arrayStrings(raw string) []string {
	var out []string
	for i := 0; i < len(raw); i++ {
		if raw[i] != '"' {
			continue
		}
		j := i + 1
		for raw[j] != '"' {
			j++
		}
		out = append(out, raw[i+1:j])
		i = j
	}
	return out
}

// plainInt parses an unsigned decimal integer of at most 15 digits (a number kindNumber reported).
func plainInt(v string) (int64, bool) {
	if len(v) == 0 || len(v) > 15 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
