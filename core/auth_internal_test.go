package core

import (
	"testing"
	"time"

	"github.com/tooken/tooken/ports"
)

// TestCachedTokensFallDueAtSpreadAges caches copies of a token at the same moment and checks that
// each falls due for a reload between half the max age and the max age, and that they do not all
// fall due at the same age.
func TestCachedTokensFallDueAtSpreadAges(t *testing.T) {
	const maxAge = time.Second
	agedAt := func(c *cachedToken, age time.Duration) bool {
		c.loaded = time.Now().Add(-age)
		return c.aged(maxAge)
	}
	var early, late int
	for range 200 {
		c := newCachedToken(&ports.Token{ID: "tok_spread"})
		if agedAt(c, 0) || c.aged(0) {
			t.Fatal("a fresh copy, or one without a max age, is due")
		}
		if agedAt(c, maxAge*2/5) {
			t.Fatalf("due at 0.4 of the max age (drawn share %.3f), want not before half", c.early)
		}
		if !agedAt(c, maxAge+time.Millisecond) {
			t.Fatalf("not due past the max age (drawn share %.3f)", c.early)
		}
		if agedAt(c, maxAge*3/4) {
			early++
		} else {
			late++
		}
	}
	if early == 0 || late == 0 {
		t.Errorf("of 200 copies cached together, %d were due at 0.75 of the max age and %d not: want both", early, late)
	}
}
