package ports

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// canonicalEvent fixes the fields, their order and their encoding for AuditHash.
type canonicalEvent struct {
	ChainSeq    int64           `json:"chain_seq"`
	ID          string          `json:"id"`
	WorkspaceID string          `json:"workspace_id"`
	Action      string          `json:"action"`
	Actor       canonicalActor  `json:"actor"`
	Target      canonicalTarget `json:"target"`
	IP          string          `json:"ip"`
	UserAgent   string          `json:"user_agent"`
	RequestID   string          `json:"request_id"`
	Metadata    map[string]any  `json:"metadata"`
	OccurredAt  string          `json:"occurred_at"`
}

// canonicalActor and canonicalTarget pin the JSON names, so renaming a Go field changes no hash.
type canonicalActor struct {
	Type  string `json:"type"`
	ID    string `json:"id"`
	Email string `json:"email"`
}

type canonicalTarget struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Name string `json:"name"`
}

// AuditHash returns the hex SHA-256 that chains ev to the event before it: SHA-256 of prev, a newline
// and the canonical JSON of ev's fields (ChainSeq included, times in UTC at microsecond precision,
// metadata keys sorted by encoding/json). Changing any field of any stored event, or removing or
// reordering events, breaks the chain from there on.
func AuditHash(prev string, ev *AuditEvent) string {
	c := canonicalEvent{
		ChainSeq: ev.ChainSeq, ID: ev.ID, WorkspaceID: ev.WorkspaceID, Action: ev.Action,
		Actor:  canonicalActor{Type: ev.Actor.Type, ID: ev.Actor.ID, Email: ev.Actor.Email},
		Target: canonicalTarget{Type: ev.Target.Type, ID: ev.Target.ID, Name: ev.Target.Name}, IP: ev.IP, UserAgent: ev.UserAgent, RequestID: ev.RequestID, Metadata: ev.Metadata,
		OccurredAt: ev.OccurredAt.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano),
	}
	if len(c.Metadata) == 0 {
		c.Metadata = nil
	}
	b, err := json.Marshal(c)
	if err != nil {
		// Metadata that cannot be encoded cannot have been stored either; hash what can be.
		c.Metadata = map[string]any{"unencodable": true}
		b, _ = json.Marshal(c)
	}
	h := sha256.New()
	h.Write([]byte(prev))
	h.Write([]byte{'\n'})
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}
