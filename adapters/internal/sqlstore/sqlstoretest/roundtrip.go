package sqlstoretest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/tooken/tooken/ports"
)

// hostile are values that array literals, JSON and SQL quoting each treat specially.
var hostile = []string{`quote " name`, `back\slash \\ \"`, `comma, brace {x} }{`, `NULL`, `null`, ``, `  spaced  `,
	`semi;colon 'single' $1 ?`, "ünïcödé ☃ 名前", "tab\tnew\nline", `(paren) [bracket]`}

// testBatchedRoundTrip writes a batch of creates whose every field is set, with values quoting and
// array literals treat specially (on PostgreSQL in one statement, each column as one array), and
// reads each token and event back as written, in an unbroken chain.
func testBatchedRoundTrip(t *testing.T, h Harness) {
	db := migrated(t, h)
	c := newCheck(t, db)
	wsID, _ := c.workspace()
	first := &ports.Token{ID: id("tok_"), WorkspaceID: wsID, Name: "first", CreatedAt: c.base, CurrentJTI: id("jti_")}
	c.must(c.s.Tokens.CreateToken(c.ctx, first, c.event(wsID, "token.created", first.ID, c.base)), "CreateToken first")
	store := h.Store(db)
	exp := c.base.Add(time.Hour)
	period := int64(3600)
	names := make([]string, len(hostile))
	for i, v := range hostile {
		names[i] = fmt.Sprintf("%d %s", i, v) // unique also case-insensitively (NULL, null)
	}
	_, inTx := store.CreateBatches()
	toks, errs := c.createQueued(store.Writer(), wsID, names, func(i int, tok *ports.Token, ev *ports.AuditEvent) {
		v := hostile[i]
		tok.Scopes, tok.Audience = []string{"tokens:read", v}, []string{v, "https://api.example.test"}
		tok.CreatedBy, tok.CurrentKID = v+"@example.test", v
		if i%2 == 0 {
			md, _ := json.Marshal(map[string]any{"k": v, "n": []any{1, v, nil}})
			tok.Metadata, tok.ExpiresAt = md, &exp
		} else {
			tok.RotationPeriod = &period
		}
		ev.Actor.Email, ev.Target.Name, ev.IP, ev.UserAgent, ev.RequestID = v, v, v, v, v
		ev.Metadata = map[string]any{"scopes": []any{v}, v: v}
	})
	for i, err := range errs {
		c.must(err, "CreateToken "+names[i])
	}
	if _, inTx2 := store.CreateBatches(); store.Writer().DriverName() == "postgres" && inTx2 != inTx {
		t.Errorf("%d batches written in a transaction, want every one in one statement", inTx2-inTx)
	}
	for _, want := range toks {
		got, err := c.s.Tokens.Token(c.ctx, wsID, want.ID)
		c.must(err, "Token "+want.Name)
		if got.Name != want.Name || !reflect.DeepEqual(got.Scopes, want.Scopes) || !reflect.DeepEqual(got.Audience, want.Audience) ||
			string(got.Metadata) != string(want.Metadata) || got.CreatedBy != want.CreatedBy || got.CurrentKID != want.CurrentKID ||
			!reflect.DeepEqual(got.RotationPeriod, want.RotationPeriod) || (got.ExpiresAt == nil) != (want.ExpiresAt == nil) ||
			got.ExpiresAt != nil && !got.ExpiresAt.Equal(*want.ExpiresAt) || !got.CreatedAt.Equal(want.CreatedAt) {
			t.Errorf("Token read back = %+v\nwant %+v", got, want)
		}
	}
	byTarget := map[string]ports.AuditEvent{}
	for _, ev := range c.chainHolds(wsID, nil) {
		byTarget[ev.Target.ID] = ev
	}
	for i, tok := range toks {
		ev, v := byTarget[tok.ID], hostile[i]
		if ev.Actor.Email != v || ev.Target.Name != v || ev.IP != v || ev.UserAgent != v || ev.RequestID != v ||
			!reflect.DeepEqual(ev.Metadata, map[string]any{"scopes": []any{v}, v: v}) {
			t.Errorf("event of %q read back = %+v", tok.Name, ev)
		}
	}
}
