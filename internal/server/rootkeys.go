package server

import (
	"context"
	"fmt"

	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/keyring"
	"github.com/cofferhq/coffer/internal/rootcreds"
)

// rootKeys returns the root keys of cfg, current first: parsed from COFFER_ROOT_KEY, or, with
// COFFER_ROOT_KEY_KMS_KEY_ID, unwrapped by AWS KMS (the SDK is loaded only then). The caller
// hands them to keyring.New and clears them with clearKeys.
func rootKeys(ctx context.Context, cfg *config.Config) ([][]byte, error) {
	if cfg.RootKeyKMSKeyID == "" {
		return parseRootKeys(cfg.RootKey)
	}
	entries, err := cfg.RootKeyEntries()
	if err != nil {
		return nil, err
	}
	kms := &rootcreds.AWS{}
	var out [][]byte
	for i, e := range entries {
		var k []byte
		if e.Wrapped != nil {
			k, err = kms.UnwrapRootKey(ctx, cfg.RootKeyKMSKeyID, e.Wrapped)
			if err != nil {
				err = fmt.Errorf("COFFER_ROOT_KEY: key %d of %d, unwrapping with COFFER_ROOT_KEY_KMS_KEY_ID=%s: %w", i+1, len(entries), cfg.RootKeyKMSKeyID, err)
			}
		} else if k, err = keyring.ParseRootKey(e.Plain); err != nil {
			err = fmt.Errorf("COFFER_ROOT_KEY: key %d of %d: %w", i+1, len(entries), err)
		}
		if err != nil {
			clearKeys(out)
			return nil, err
		}
		out = append(out, k)
	}
	return out, nil
}

// clearKeys overwrites key bytes once the keyring has them.
func clearKeys(keys [][]byte) {
	for _, k := range keys {
		clear(k)
	}
}
