package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// credentials are the tokens of `coffer login`, one per server, kept in the user's config
// directory in a file only the user can read.
type credentials struct {
	Default string                `json:"default,omitempty"` // server of the last login
	Servers map[string]credential `json:"servers"`
}

type credential struct {
	Token     string `json:"token"`
	Kind      string `json:"kind"` // user or identity
	Name      string `json:"name,omitempty"`
	ExpiresAt string `json:"expiresAt,omitempty"`
}

// configDir is where coffer keeps credentials and the cache key: $COFFER_CONFIG_DIR, or
// coffer/ in the user's config directory.
func configDir(env Env) (string, error) {
	if d, ok := env.LookupEnv("COFFER_CONFIG_DIR"); ok && d != "" {
		return d, nil
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no config directory (set COFFER_CONFIG_DIR): %w", err)
	}
	return filepath.Join(d, "coffer"), nil
}

func credentialsPath(env Env) (string, error) {
	d, err := configDir(env)
	return filepath.Join(d, "credentials.json"), err
}

func loadCredentials(env Env) (*credentials, error) {
	c := &credentials{Servers: map[string]credential{}}
	p, err := credentialsPath(env)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	} else if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, c); err != nil {
		return nil, fmt.Errorf("%s is damaged (delete it and log in again): %w", p, err)
	}
	if c.Servers == nil {
		c.Servers = map[string]credential{}
	}
	return c, nil
}

func (c *credentials) save(env Env) error {
	p, err := credentialsPath(env)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return writePrivate(p, b)
}

// writePrivate writes a file readable by its owner only (directory 0700), atomically.
func writePrivate(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// serverKey is the canonical form of a server URL used to key credentials and caches.
func serverKey(u string) string {
	return strings.TrimSuffix(strings.TrimRight(u, "/"), "/api")
}
