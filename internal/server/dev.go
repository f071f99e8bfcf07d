package server

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/keyring"
)

// Files in the data directory that hold development-mode keys.
const (
	DevRootKeyFile    = "root.key"
	DevAuthSecretFile = "auth.secret"
)

// PrepareDev completes a development-mode configuration: the data directory is created
// (0700) and the root key (unless KMS-wrapped) and auth secret, when not configured, are read
// from files in it, generated on first start (0600). It reports which were generated.
func PrepareDev(cfg *config.Config) (generated []string, err error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w", cfg.DataDir, err)
	}
	load := func(dst *string, name string, gen func() (string, error)) error {
		if *dst != "" {
			return nil
		}
		path := filepath.Join(cfg.DataDir, name)
		b, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			v, err := gen()
			if err != nil {
				return err
			}
			if err := writeNew(path, v+"\n"); err != nil {
				return err
			}
			generated = append(generated, path)
			*dst = v
			return nil
		} else if err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		*dst = strings.TrimSpace(string(b))
		return nil
	}
	genRoot := func() (string, error) {
		k, err := keyring.GenerateKey()
		return keyring.EncodeRootKey(k), err
	}
	// A KMS-wrapped root key is never generated here: without one, Validate asks for it.
	if cfg.RootKeyKMSKeyID == "" {
		if err := load(&cfg.RootKey, DevRootKeyFile, genRoot); err != nil {
			return nil, err
		}
	}
	if err := load(&cfg.AuthSecret, DevAuthSecretFile, func() (string, error) {
		b := make([]byte, 32)
		_, err := rand.Read(b)
		return base64.RawURLEncoding.EncodeToString(b), err
	}); err != nil {
		return nil, err
	}
	return generated, nil
}

// writeNew creates a file readable by its owner only, failing if it exists.
func writeNew(path, content string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
