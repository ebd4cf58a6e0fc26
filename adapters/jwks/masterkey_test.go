package jwks

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func TestParseMasterKeyAccepts(t *testing.T) {
	key := make([]byte, MasterKeySize)
	for i := range key {
		key[i] = byte(0xf0 + i) // bytes that make std and URL base64 differ
	}
	for name, s := range map[string]string{
		"std":         base64.StdEncoding.EncodeToString(key),
		"std raw":     base64.RawStdEncoding.EncodeToString(key),
		"url":         base64.URLEncoding.EncodeToString(key),
		"url raw":     base64.RawURLEncoding.EncodeToString(key),
		"hex":         hex.EncodeToString(key),
		"HEX":         strings.ToUpper(hex.EncodeToString(key)),
		"with spaces": "  " + base64.StdEncoding.EncodeToString(key) + "\n",
	} {
		got, err := ParseMasterKey(s)
		if err != nil || !bytes.Equal(got, key) {
			t.Errorf("%s: ParseMasterKey = %x, %v", name, got, err)
		}
	}
	generated := GenerateMasterKey()
	if k, err := ParseMasterKey(generated); err != nil || len(k) != MasterKeySize {
		t.Errorf("generated key %d bytes, %v", len(k), err)
	}
	if GenerateMasterKey() == generated {
		t.Error("GenerateMasterKey repeated itself")
	}
}

func TestParseMasterKeyRejectsWithoutEchoing(t *testing.T) {
	for name, s := range map[string]string{
		"empty":            "",
		"blank":            "   ",
		"short base64":     base64.StdEncoding.EncodeToString([]byte("sixteen byte key")),
		"long base64":      base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("k"), 48)),
		"short hex":        hex.EncodeToString([]byte("sixteen byte key")),
		"63 hex":           strings.Repeat("a", 63),
		"passphrase":       "correct horse battery staple secret",
		"not base64":       strings.Repeat("!", 44),
		"hex with garbage": strings.Repeat("ab", 31) + "zz",
	} {
		_, err := ParseMasterKey(s)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if v := strings.TrimSpace(s); v != "" && strings.Contains(err.Error(), v) {
			t.Errorf("%s: error echoes the value: %v", name, err)
		}
	}
}

func TestLoadOrCreateKeyFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "nested")
	path := filepath.Join(dir, "master.key")
	key, err := LoadOrCreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != MasterKeySize {
		t.Fatalf("key is %d bytes", len(key))
	}
	if runtime.GOOS != "windows" {
		assertMode(t, path, 0o600)
		assertMode(t, dir, 0o700)
	}
	content, _ := os.ReadFile(path)
	if decoded, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(content))); err != nil || !bytes.Equal(decoded, key) {
		t.Errorf("file holds %q, not the base64 key", content)
	}
	again, err := LoadOrCreateKeyFile(path)
	if err != nil || !bytes.Equal(again, key) {
		t.Errorf("second load = %x, %v; want the same key", again, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the key file", len(entries))
	}
}

func TestLoadOrCreateKeyFileConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	keys := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, err := LoadOrCreateKeyFile(path)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		}()
	}
	wg.Wait()
	for _, k := range keys[1:] {
		if !bytes.Equal(k, keys[0]) {
			t.Fatal("concurrent callers got different keys")
		}
	}
}

func TestLoadOrCreateKeyFileRejectsBadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	secret := "not-a-key-but-still-secret"
	if err := os.WriteFile(path, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadOrCreateKeyFile(path)
	if err == nil {
		t.Fatal("accepted a malformed key file")
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error echoes the file content: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != secret {
		t.Error("a malformed key file was overwritten")
	}
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != want {
		t.Errorf("%s has mode %o, want %o", path, got, want)
	}
}
