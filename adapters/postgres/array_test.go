package postgres

import (
	"database/sql"
	"database/sql/driver"
	"slices"
	"testing"
	"time"

	"github.com/lib/pq"
	"github.com/tooken/tooken/adapters/postgres/postgrestest"
)

// TestArrayLiteralRoundTripsThroughPostgreSQL sends columns of every element type the batch
// statements use, with the values array literals treat specially, and reads each element back as
// PostgreSQL parsed it.
func TestArrayLiteralRoundTripsThroughPostgreSQL(t *testing.T) {
	db, err := sql.Open("postgres", postgrestest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	// read returns the column's elements as PostgreSQL prints them, "<null>" for NULL.
	read := func(column []any, typ string) []string {
		t.Helper()
		return postgrestest.Strings(t, db, `SELECT coalesce(v::text, '<null>') FROM unnest($1::`+typ+`[]) AS v`,
			arrayLiteral(column))
	}
	texts := []string{`quote " name`, `back\slash \\ \"`, `comma, brace {x} }{`, `NULL`, `null`, ``, `  spaced  `,
		"tab\tnew\nline", "ünïcödé ☃", `(paren) [bracket]`, `{"json": [1, "a,b"]}`}
	column := []any{nil}
	for _, s := range texts {
		column = append(column, s)
	}
	if got, want := read(column, "text"), append([]string{"<null>"}, texts...); !slices.Equal(got, want) {
		t.Errorf("text[] read back %q\nwant %q", got, want)
	}
	if got := read([]any{int64(-9007199254740993), nil, 42, int64(0)}, "bigint"); !slices.Equal(got, []string{"-9007199254740993", "<null>", "42", "0"}) {
		t.Errorf("bigint[] read back %q", got)
	}
	if got := read([]any{true, nil, false}, "boolean"); !slices.Equal(got, []string{"true", "<null>", "false"}) {
		t.Errorf("boolean[] read back %q", got)
	}
	at := time.Date(2026, 11, 29, 6, 37, 31, 123456000, time.UTC)
	var got []time.Time
	rows, err := db.QueryContext(t.Context(), `SELECT v FROM unnest($1::timestamptz[]) AS v WHERE v IS NOT NULL`,
		arrayLiteral{at, nil, at.Truncate(time.Second), at.In(time.FixedZone("UTC+5:30", 5*3600+1800))})
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var v time.Time
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	if len(got) != 3 || !got[0].Equal(at) || !got[1].Equal(at.Truncate(time.Second)) || !got[2].Equal(at) {
		t.Errorf("timestamptz[] read back %v, want %v, %v and %v", got, at, at.Truncate(time.Second), at)
	}
	if got := read([]any{1.5, nil}, "float8"); !slices.Equal(got, []string{"1.5", "<null>"}) {
		t.Errorf("float8[] (through pq.GenericArray) read back %q", got)
	}
}

// BenchmarkArrayColumns encodes the columns of a batch of 8 creates' tokens (19 columns) as the
// batch statement does, with arrayLiteral and, for comparison, pq.GenericArray.
func BenchmarkArrayColumns(b *testing.B) {
	at := time.Now().UTC().Truncate(time.Microsecond)
	row := []any{"tok_0123456789abcdefghijklmn", "ws_0123456789abcdefghijklmn", "a token name", `["tokens:read"]`,
		`["https://api.example.com"]`, nil, "owner@example.com", at, at.Add(time.Hour), nil, nil, nil,
		"jti_0123456789abcdefghijklmn", "kid_0123456789", "", "", nil, nil, "a token name"}
	columns := make([][]any, len(row))
	for j, v := range row {
		columns[j] = slices.Repeat([]any{v}, 8)
	}
	for _, enc := range []struct {
		name  string
		value func([]any) (driver.Value, error)
	}{
		{"arrayLiteral", func(c []any) (driver.Value, error) { return arrayLiteral(c).Value() }},
		{"pq.GenericArray", func(c []any) (driver.Value, error) { return pq.GenericArray{A: c}.Value() }},
	} {
		b.Run(enc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, c := range columns {
					if _, err := enc.value(c); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
