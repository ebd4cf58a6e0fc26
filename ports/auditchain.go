package ports

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
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
func AuditHash(prev string, ev *AuditEvent) string { return NewAuditBody(ev).Hash(prev, ev.ChainSeq) }

// AuditBody is an event's canonical JSON (see AuditHash) with its chain position left open: the
// encoding, which costs far more than the hash, is done once, before the position is known.
// NewAuditBody(ev).Hash(prev, seq) is AuditHash(prev, ev) for ev at position seq.
type AuditBody struct {
	rest []byte // the canonical JSON after its opening `{"chain_seq":N`
}

// seqPrefix opens every canonical JSON: chain_seq is canonicalEvent's first field.
const seqPrefix = `{"chain_seq":`

// NewAuditBody encodes ev, whatever its ChainSeq, for AuditBody.Hash.
func NewAuditBody(ev *AuditEvent) AuditBody {
	c := canonicalEvent{
		ID: ev.ID, WorkspaceID: ev.WorkspaceID, Action: ev.Action,
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
	return AuditBody{rest: b[len(seqPrefix+"0"):]}
}

// Hash is AuditHash of the event at chain position seq after the event whose hash is prev.
func (b AuditBody) Hash(prev string, seq int64) string {
	h := sha256.New()
	h.Write([]byte(prev))
	h.Write([]byte{'\n'})
	h.Write(strconv.AppendInt([]byte(seqPrefix), seq, 10))
	h.Write(b.rest)
	return hex.EncodeToString(h.Sum(nil))
}
