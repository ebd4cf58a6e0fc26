package webhook

import (
	"strings"
	"testing"
)

func TestSecretBoxSealsAndBindsToTheRecord(t *testing.T) {
	key := make([]byte, 32)
	b, err := NewSecretBox(key)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := b.Seal("wh_1", "whsec_abc")
	if err != nil || !strings.HasPrefix(sealed, sealedPrefix) || strings.Contains(sealed, "whsec_abc") {
		t.Fatalf("Seal = %q, %v", sealed, err)
	}
	if got, err := b.Open("wh_1", sealed); err != nil || got != "whsec_abc" {
		t.Errorf("Open = %q, %v", got, err)
	}
	if _, err := b.Open("wh_2", sealed); err == nil {
		t.Error("a secret opened under another record's id")
	}
	other, _ := NewSecretBox(append(make([]byte, 31), 1))
	if _, err := other.Open("wh_1", sealed); err == nil {
		t.Error("a secret opened under another master key")
	}
	if _, err := b.Open("wh_1", "whsec_plain"); err == nil {
		t.Error("an unsealed value was accepted")
	}
	if s, _ := b.Seal("wh_1", ""); s != "" {
		t.Errorf("Seal(\"\") = %q", s)
	}
}
