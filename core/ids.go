package core

import (
	"crypto/rand"
	"strings"
)

// newID returns prefix + 24 random lowercase alphanumerics (120 bits of entropy).
func newID(prefix string) string {
	return prefix + strings.ToLower(rand.Text()[:24])
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// randomBase62 returns n uniformly random base62 characters.
func randomBase62(n int) string {
	out := make([]byte, 0, n)
	buf := make([]byte, n*2)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			panic(err) // crypto/rand never fails on supported platforms
		}
		for _, b := range buf {
			if b < 248 && len(out) < n { // 248 = 4*62: rejection keeps the distribution uniform
				out = append(out, base62[b%62])
			}
		}
	}
	return string(out)
}

// encodeBase62 writes v as exactly width base62 digits.
func encodeBase62(v uint64, width int) string {
	out := make([]byte, width)
	for i := width - 1; i >= 0; i-- {
		out[i] = base62[v%62]
		v /= 62
	}
	return string(out)
}
