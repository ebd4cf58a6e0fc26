package ports_test

import (
	"testing"
	"time"

	"github.com/tooken/tooken/ports"
)

// TestAuditHashKeepsTheHashesOfStoredChains pins AuditHash to hashes computed before AuditBody
// existed (when the whole event was encoded with its position): chains stored then must still
// verify. It also checks that an AuditBody encoded before the position is known hashes the same.
func TestAuditHashKeepsTheHashesOfStoredChains(t *testing.T) {
	at := time.Date(2026, 11, 28, 17, 0, 0, 123456789, time.FixedZone("x", 3600))
	cases := []struct {
		ev               *ports.AuditEvent
		afterPrev, first string
	}{
		{&ports.AuditEvent{ID: "evt_1", WorkspaceID: "ws_1", Action: "token.created", ChainSeq: 42,
			Actor:  ports.Actor{Type: "api_key", ID: "key_1", Email: "a@example.test"},
			Target: ports.Target{Type: "token", ID: "tok_1", Name: "billing <svc> & \"co\""}, IP: "127.0.0.1",
			UserAgent: "ua/1.0", RequestID: "req_1", OccurredAt: at,
			Metadata: map[string]any{"z": 1.5, "a": []any{"x", nil, true}, "é": map[string]any{"k": "<v>"}}},
			"fe560a492f9616a47c0021d10debb015f32abb518659373f72cb59a15a32d60e",
			"d07bcbdb64526639d40f3b2bda968931075fb5485fe15db56b857ab054932d1d"},
		{&ports.AuditEvent{ID: "evt_2", Action: "auth.failed", ChainSeq: 1, OccurredAt: at},
			"db25a006650315332d9fed806db45a601f5039e974509b2bac545ad09578a36d",
			"06d56d5a32de8c9f364001868e802902c007e17abb5ce1d39b50d8ae5c6ebf63"},
		{&ports.AuditEvent{ID: "evt_3", WorkspaceID: "ws_1", Action: "x", ChainSeq: 1234567890123, OccurredAt: at,
			Metadata: map[string]any{}},
			"86087da9a09591d267016ce3a1a272f1422288cfa4f283b640a90fa62befb728",
			"1eae69d780ac21d983750ef0c3700e3e02ce45ef0b9b1e46570a6b3488246d20"},
	}
	for _, c := range cases {
		if got := ports.AuditHash("prev-hash", c.ev); got != c.afterPrev {
			t.Errorf("%s after prev-hash: %s, want %s", c.ev.ID, got, c.afterPrev)
		}
		if got := ports.AuditHash("", c.ev); got != c.first {
			t.Errorf("%s first of its chain: %s, want %s", c.ev.ID, got, c.first)
		}
		seq := c.ev.ChainSeq
		unplaced := *c.ev
		unplaced.ChainSeq = 0
		if got := ports.NewAuditBody(&unplaced).Hash("prev-hash", seq); got != c.afterPrev {
			t.Errorf("%s encoded before its position was known: %s, want %s", c.ev.ID, got, c.afterPrev)
		}
		if ports.NewAuditBody(c.ev).Hash("prev-hash", seq+1) == c.afterPrev {
			t.Errorf("%s: the position is not part of the hash", c.ev.ID)
		}
	}
}
