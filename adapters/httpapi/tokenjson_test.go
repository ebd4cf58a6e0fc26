package httpapi

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"
)

// encoded is what the generated answers write: encoding/json's Encoder output.
func encoded(t *testing.T, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestTokenAnswersAreEncodingJSONs proves the hand-written answers of GET /v1/tokens/{id}, verify,
// create and rotate byte-for-byte equal to what the generated code writes with encoding/json, on
// tokens with every field nil, empty or set and strings that need escaping.
func TestTokenAnswersAreEncodingJSONs(t *testing.T) {
	strs := []string{"", "billing-service", `quo"te`, `back\slash`, "<script>&amp;", "fish & chips", "a>b", "tab\tnew\nline\r",
		"\x00\x1f\b\f", "é ünïcødé 日本", "\u2028\u2029", "bad \xff utf-8", "\x80 lone continuation", "unit\x1fseparator", "emoji 🎉", "user@example.com"}
	times := []time.Time{time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC), time.Date(2030, 1, 2, 3, 4, 5, 123456789, time.UTC),
		time.Date(1999, 12, 31, 23, 59, 59, 1000, time.FixedZone("x", -7*3600-30*60)), {}}
	rng := rand.New(rand.NewPCG(1, 2))
	pickStr := func() string { return strs[rng.IntN(len(strs))] }
	pickTime := func() *time.Time {
		if rng.IntN(3) == 0 {
			return nil
		}
		tm := times[rng.IntN(len(times))]
		return &tm
	}
	pickStrs := func() []string {
		switch rng.IntN(4) {
		case 0:
			return nil
		case 1:
			return []string{}
		}
		out := make([]string, 1+rng.IntN(3))
		for i := range out {
			out[i] = pickStr()
		}
		return out
	}
	metas := []map[string]any{nil, {}, {"team": "billing", "n": 3.5, "nested": map[string]any{"a": []any{1.0, "<b>", nil, true}}},
		{pickStr(): pickStr(), "z": 1e21, "a": -0.0}}
	for i := range 3000 {
		tok := Token{Audience: pickStrs(), CreatedAt: *cmpTime(pickTime()), CreatedBy: pickStr(), ExpiresAt: pickTime(),
			Id: pickStr(), LastUsedAt: pickTime(), Metadata: metas[rng.IntN(len(metas))], Name: pickStr(),
			RevokedAt: pickTime(), RotatedAt: pickTime(), Scopes: pickStrs(), Status: TokenStatus(pickStr())}
		if rng.IntN(2) == 0 {
			p := rng.Int64N(1<<40) - 1<<39
			tok.RotationPeriod = &p
		}
		got, err := tokenAnswer(tok)
		if err != nil {
			t.Fatal(err)
		}
		if want := encoded(t, tok); !bytes.Equal(got, want) {
			t.Fatalf("GET, case %d:\n got %s\nwant %s", i, got, want)
		}
		value := pickStr()
		issued, err := newIssuedAnswer(http.StatusCreated, tok, value)
		if err != nil {
			t.Fatal(err)
		}
		if want := encoded(t, issuedToken(tok, value)); !bytes.Equal(issued.body, want) || issued.status != http.StatusCreated {
			t.Fatalf("create, case %d:\n got %d %s\nwant 201 %s", i, issued.status, issued.body, want)
		}
		v := VerifyResponse{Code: VerifyResponseCode(pickStr()), Valid: rng.IntN(2) == 0}
		if rng.IntN(3) > 0 {
			v.Token = &tok
		}
		if got, err = verifyAnswer(v); err != nil {
			t.Fatal(err)
		}
		if want := encoded(t, v); !bytes.Equal(got, want) {
			t.Fatalf("verify, case %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

// TestTokenAnswersRefuseAYearEncodingJSONRefuses keeps encoding/json's error for an unencodable time.
func TestTokenAnswersRefuseAYearEncodingJSONRefuses(t *testing.T) {
	far := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := json.Marshal(Token{ExpiresAt: &far}); err == nil {
		t.Fatal("encoding/json now encodes year 10000: revisit appendTime")
	}
	if _, err := tokenAnswer(Token{ExpiresAt: &far}); err == nil {
		t.Fatal("GET: year 10000 encoded")
	}
	if _, err := verifyAnswer(VerifyResponse{Token: &Token{RevokedAt: &far}}); err == nil {
		t.Fatal("verify: year 10000 encoded")
	}
	if _, err := newIssuedAnswer(http.StatusOK, Token{RotatedAt: &far}, "v"); err == nil {
		t.Fatal("rotate: year 10000 encoded")
	}
}

// issuedToken is the generated IssuedToken the create and rotate answers stand for.
func issuedToken(o Token, value string) IssuedToken {
	return IssuedToken{
		Id: o.Id, Name: o.Name, Scopes: o.Scopes, Status: o.Status, CreatedAt: o.CreatedAt,
		ExpiresAt: o.ExpiresAt, LastUsedAt: o.LastUsedAt, CreatedBy: o.CreatedBy, RevokedAt: o.RevokedAt,
		RotatedAt: o.RotatedAt, Audience: o.Audience, Metadata: o.Metadata, RotationPeriod: o.RotationPeriod, Token: value,
	}
}

func cmpTime(t *time.Time) *time.Time {
	if t == nil {
		return &time.Time{}
	}
	return t
}
