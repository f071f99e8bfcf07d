package keyring

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
)

// GenerateKey returns 32 random bytes from crypto/rand, for a root key.
func GenerateKey() ([]byte, error) {
	key := make([]byte, keySize)
	if _, err := io.ReadFull(rand.Reader, key); err != nil {
		return nil, fmt.Errorf("keyring: generate key: %w", err)
	}
	return key, nil
}

// ParseRootKey decodes a 32-byte root key written as standard or URL base64
// (padded or not) or as 64 hex digits, ignoring surrounding whitespace. Its
// errors never include the input.
func ParseRootKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 2*keySize {
		if key, err := hex.DecodeString(s); err == nil {
			return key, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		key, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		if len(key) != keySize {
			clear(key)
			return nil, fmt.Errorf("keyring: root key decodes to %d bytes, want %d", len(key), keySize)
		}
		return key, nil
	}
	return nil, errors.New("keyring: root key is neither base64 nor 64 hex digits")
}

// EncodeRootKey encodes a root key as standard base64, the form ParseRootKey
// reads back.
func EncodeRootKey(k []byte) string { return base64.StdEncoding.EncodeToString(k) }
