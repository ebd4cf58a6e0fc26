package postgres

import (
	"database/sql/driver"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"
)

// arrayLiteral is one column of a batch of rows as a PostgreSQL array literal (sqlstore.Dialect.Array).
// It encodes the element types the batch statements pass — NULL, text, integers, booleans, times —
// without reflection: the encoding runs once per column and batch, in the path every batch of
// creates waits for (pq.GenericArray took 4.8 % of the server's CPU at the create max step; this
// encodes a batch of 8 tokens' columns 2.1–2.4× faster, BenchmarkArrayColumns). Any other element
// type defers to pq.GenericArray.
type arrayLiteral []any

// arrayTime is how a time goes into an array literal: ISO 8601 with microseconds and its offset.
const arrayTime = "2006-01-02T15:04:05.999999Z07:00"

// Value returns the literal, e.g. {"a\"b",NULL,42,"2026-11-29T06:37:31.123456Z"}.
func (a arrayLiteral) Value() (driver.Value, error) {
	size := 2 + len(a)
	for _, v := range a {
		switch v := v.(type) {
		case string:
			size += len(v) + 4
		default:
			size += 34
		}
	}
	b := make([]byte, 0, size)
	b = append(b, '{')
	for i, v := range a {
		if i > 0 {
			b = append(b, ',')
		}
		switch v := v.(type) {
		case nil:
			b = append(b, "NULL"...)
		case string:
			b = appendQuoted(b, v)
		case int64:
			b = strconv.AppendInt(b, v, 10)
		case int:
			b = strconv.AppendInt(b, int64(v), 10)
		case bool:
			b = strconv.AppendBool(b, v)
		case time.Time:
			b = append(appendTime(append(b, '"'), v), '"')
		default:
			return pq.GenericArray{A: []any(a)}.Value()
		}
	}
	return string(append(b, '}')), nil
}

// appendTime appends t as arrayTime does; a UTC time of years 1000–9999 (every time Tooken writes)
// digit by digit, any other through time.AppendFormat.
func appendTime(b []byte, t time.Time) []byte {
	if t.Location() != time.UTC || t.Year() < 1000 || t.Year() > 9999 {
		return t.AppendFormat(b, arrayTime)
	}
	year, month, day := t.Date()
	hour, minute, second := t.Clock()
	b = appendDigits(b, year, 4)
	b = appendDigits(append(b, '-'), int(month), 2)
	b = appendDigits(append(b, '-'), day, 2)
	b = appendDigits(append(b, 'T'), hour, 2)
	b = appendDigits(append(b, ':'), minute, 2)
	b = appendDigits(append(b, ':'), second, 2)
	b = appendDigits(append(b, '.'), t.Nanosecond()/1000, 6)
	return append(b, 'Z')
}

// appendDigits appends v (≥ 0) as exactly n decimal digits.
func appendDigits(b []byte, v, n int) []byte {
	for i := n - 1; i >= 0; i-- {
		b = append(b, 0)
	}
	for i := len(b) - 1; i >= len(b)-n; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return b
}

// appendQuoted appends s as a quoted array element: inside the quotes only '"' and '\' are escaped,
// so every other byte — commas, braces, spaces, the word NULL — is the element's text.
func appendQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	if !strings.ContainsAny(s, `"\`) {
		return append(append(b, s...), '"')
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}
