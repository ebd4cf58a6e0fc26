package core

import (
	"strings"

	"github.com/tooken/tooken/ports"
)

// MinPasswordLen is the shortest password an account may have.
const MinPasswordLen = 12

// commonPasswords holds frequently breached passwords (and their stems) that pass the length rule.
var commonPasswords = map[string]bool{}

func init() {
	for _, p := range strings.Fields(`password passw0rd password1 password12 password123 password1234 p@ssw0rd
		qwerty qwertyuiop qwerty123 qwerty1234 asdfghjkl zxcvbnm 1q2w3e4r5t6y 1qaz2wsx3edc letmein welcome
		welcome123 iloveyou admin administrator changeme trustno1 sunshine princess football baseball
		dragon monkey master shadow superman batman starwars whatever michael jennifer computer
		internet secret secret123 abc123 abcd1234 tooken tooken123 123456789012 111111111111
		correcthorsebatterystaple letmein123 welcome1234 qwertyqwerty passwordpassword`) {
		commonPasswords[p] = true
	}
}

// CheckPassword refuses passwords that are too short or long, contain the email's local part, are
// (a stem of) a commonly breached password, or follow a trivial pattern (one short run repeated,
// a keyboard or alphabet sequence).
func CheckPassword(email, pw string) error {
	if len(pw) < MinPasswordLen || len(pw) > 256 {
		return invalid("password", "password must be 12 to 256 characters")
	}
	lower := strings.ToLower(pw)
	if local, _, _ := strings.Cut(strings.ToLower(email), "@"); len(local) >= 3 && strings.Contains(lower, local) {
		return weak("password must not contain your email address")
	}
	stem := strings.TrimRight(lower, "0123456789!.?@#$%*_-")
	if commonPasswords[lower] || commonPasswords[stem] || repeated(lower) || sequential(lower) {
		return weak("this password is too common or predictable; choose a longer, less guessable one")
	}
	return nil
}

func weak(msg string) error {
	return &ports.Error{Code: ports.EINVALID, Message: msg, Details: map[string]string{"password": msg}}
}

// repeated reports whether s is one run of at most 4 characters repeated.
func repeated(s string) bool {
	for n := 1; n <= 4; n++ {
		if len(s)%n == 0 && strings.Repeat(s[:n], len(s)/n) == s {
			return true
		}
	}
	return false
}

// sequential reports whether s is a slice of a well-known sequence.
func sequential(s string) bool {
	for _, seq := range []string{"abcdefghijklmnopqrstuvwxyz", "zyxwvutsrqponmlkjihgfedcba", "01234567890123456789",
		"98765432109876543210", "qwertyuiopasdfghjklzxcvbnm", "1234567890qwertyuiop"} {
		if strings.Contains(seq, s) {
			return true
		}
	}
	return false
}
