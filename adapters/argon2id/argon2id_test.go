package argon2id

import (
	"strings"
	"testing"
)

func TestHashVerifiesOnlyTheSamePassword(t *testing.T) {
	h := Hasher{Memory: 1024, Time: 1, Threads: 1}
	enc, err := h.Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=1024,t=1,p=1$") || strings.Contains(enc, "horse") {
		t.Fatalf("unexpected encoding %q", enc)
	}
	if ok, err := h.Verify(enc, "correct horse battery staple"); !ok || err != nil {
		t.Fatalf("right password refused: %v %v", ok, err)
	}
	if ok, _ := h.Verify(enc, "wrong horse battery staple"); ok {
		t.Fatal("wrong password accepted")
	}
	if _, err := h.Verify("$2a$10$bcrypt", "x"); err == nil {
		t.Fatal("a non-argon2id hash must be an error")
	}
	again, _ := h.Hash("correct horse battery staple")
	if again == enc {
		t.Fatal("hashes must be salted")
	}
}
