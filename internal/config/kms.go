package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// RootKeyEntry is one comma-separated entry of COFFER_ROOT_KEY when COFFER_ROOT_KEY_KMS_KEY_ID
// is set: either a KMS ciphertext blob or, after the first entry, a plain base64 key of 32 bytes
// (an old key kept while rotating from plain keys to KMS).
type RootKeyEntry struct {
	Wrapped []byte // the KMS ciphertext blob; nil for a plain key
	Plain   string // the plain key as written; "" for a wrapped key
}

// maxKMSCiphertext is the largest ciphertext blob KMS accepts in Decrypt.
const maxKMSCiphertext = 6144

// RootKeyEntries splits RootKey, when RootKeyKMSKeyID is set, into its entries, current first.
// Its errors name the entry by position, never its content. Validate calls it too.
func (c *Config) RootKeyEntries() ([]RootKeyEntry, error) {
	if c.RootKey == "" {
		return nil, errors.New("COFFER_ROOT_KEY is not set: with COFFER_ROOT_KEY_KMS_KEY_ID it holds the root key wrapped by KMS; make one with `coffer keys generate --kms-key-id KEY`")
	}
	parts := strings.Split(c.RootKey, ",")
	var out []RootKeyEntry
	var errs []error
	for i, p := range parts {
		p = strings.TrimSpace(p)
		b, err := base64.StdEncoding.DecodeString(p)
		switch {
		case err != nil || len(b) == 0 || len(b) > maxKMSCiphertext:
			errs = append(errs, fmt.Errorf("COFFER_ROOT_KEY: key %d of %d is not a base64 KMS ciphertext blob (COFFER_ROOT_KEY_KMS_KEY_ID is set)", i+1, len(parts)))
		case len(b) == 32 && i == 0:
			clear(b)
			errs = append(errs, errors.New("COFFER_ROOT_KEY: the first (current) key is a plain key, but COFFER_ROOT_KEY_KMS_KEY_ID is set: it must be KMS-wrapped (`coffer keys generate --kms-key-id KEY`); plain keys may only follow it while rotating to KMS"))
		case len(b) == 32:
			clear(b)
			out = append(out, RootKeyEntry{Plain: p})
		case len(b) < 32:
			errs = append(errs, fmt.Errorf("COFFER_ROOT_KEY: key %d of %d is too short for a KMS ciphertext blob", i+1, len(parts)))
		default:
			out = append(out, RootKeyEntry{Wrapped: b})
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

func checkWrappedRootKey(c *Config) error {
	_, err := c.RootKeyEntries()
	return err
}
