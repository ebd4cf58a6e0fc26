package jwks

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// errMasterKeyFormat never includes the value: it is a secret even when malformed.
var errMasterKeyFormat = fmt.Errorf("master key must be %d random bytes encoded as base64 (standard or URL-safe, padded or not) or as %d hex characters; generate one with `openssl rand -base64 32`", MasterKeySize, 2*MasterKeySize)

// GenerateMasterKey returns a new random master key, base64-encoded (standard alphabet, padded).
func GenerateMasterKey() string {
	b := make([]byte, MasterKeySize)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// ParseMasterKey decodes a master key given as base64 (standard or URL-safe, padded or not) or as
// hex; it must decode to exactly 32 bytes. Surrounding white space is ignored. Errors never contain
// the value.
func ParseMasterKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("master key is empty; " + errMasterKeyFormat.Error())
	}
	if len(s) == hex.EncodedLen(MasterKeySize) {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
	} {
		if b, err := enc.Strict().DecodeString(s); err == nil && len(b) == MasterKeySize {
			return b, nil
		}
	}
	return nil, errMasterKeyFormat
}

// LoadOrCreateKeyFile returns the master key stored in the file at path, creating the file (and its
// parent directory, mode 0700) with a new random key, base64-encoded and mode 0600, if it does not
// exist. Concurrent callers all end up with the same key.
func LoadOrCreateKeyFile(path string) ([]byte, error) {
	key, err := readKeyFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("master key file: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".master-key-*")
	if err != nil {
		return nil, fmt.Errorf("master key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	encoded := GenerateMasterKey()
	err = tmp.Chmod(0o600)
	if err == nil {
		_, err = tmp.WriteString(encoded + "\n")
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("master key file: %w", err)
	}
	// A hard link publishes the complete file atomically and never replaces one another process
	// created meanwhile.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readKeyFile(path)
		}
		return nil, fmt.Errorf("master key file: %w", err)
	}
	return ParseMasterKey(encoded)
}

// readKeyFile reads and parses a key file; a missing file is reported as fs.ErrNotExist.
func readKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("master key file: %w", err)
	}
	defer clear(b)
	key, err := ParseMasterKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("master key file %s: %w", path, err)
	}
	return key, nil
}
