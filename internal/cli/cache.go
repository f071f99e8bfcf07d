package cli

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The secrets cache lets `run` and `export` work with the last secrets they fetched when the
// server cannot be reached. One file per listing (server, project, environment, path and the
// options that change the answer) under $COFFER_CACHE_DIR, or coffer/ in the user's cache
// directory. Each file is sealed with AES-256-GCM under a random key kept apart from the cache,
// in the config directory (cache.key, 0600); the listing it holds is the AAD, so a file renamed
// to stand for another listing fails to open. Nothing in the cache directory is plaintext.

// cacheMagic starts every cache file; it names the format version.
const cacheMagic = "coffer-cache-v1\n"

// cacheScope is what a cached listing answers: everything that changes the server's answer.
type cacheScope struct {
	Server         string   `json:"server"`
	ProjectID      string   `json:"projectId"`
	Environment    string   `json:"environment"`
	Path           string   `json:"path"`
	Recursive      bool     `json:"recursive"`
	Expand         bool     `json:"expand"`
	IncludeImports bool     `json:"includeImports"`
	Overrides      bool     `json:"personalOverrides"`
	Tags           []string `json:"tags"`
}

// aad is the scope's canonical encoding, bound to the ciphertext.
func (s cacheScope) aad() []byte {
	if s.Tags == nil {
		s.Tags = []string{}
	}
	b, _ := json.Marshal(s) // a struct of strings and bools always encodes
	return b
}

// fileName is the hex SHA-256 of the scope: it names no project or path in the clear.
func (s cacheScope) fileName() string {
	sum := sha256.Sum256(s.aad())
	return hex.EncodeToString(sum[:])
}

// cacheEntry is one secret of a cached listing.
type cacheEntry struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// cachedSecrets is the plaintext of a cache file.
type cachedSecrets struct {
	FetchedAt time.Time    `json:"fetchedAt"`
	ETag      string       `json:"etag"`
	Secrets   []cacheEntry `json:"secrets"`
}

// secretCache reads and writes cache files.
type secretCache struct {
	dir     string // the cache directory
	keyPath string // the sealing key's file
}

// openCache locates the cache directory and key file; nothing is created until a write.
func openCache(env Env) (*secretCache, error) {
	dir := lookup(env, "COFFER_CACHE_DIR")
	if dir == "" {
		d, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("no cache directory (set COFFER_CACHE_DIR): %w", err)
		}
		dir = filepath.Join(d, "coffer")
	}
	cfg, err := configDir(env)
	if err != nil {
		return nil, err
	}
	return &secretCache{dir: dir, keyPath: filepath.Join(cfg, "cache.key")}, nil
}

func (c *secretCache) path(s cacheScope) string { return filepath.Join(c.dir, s.fileName()) }

// errNoCacheKey means no cache was ever written by this user: there is nothing to read.
var errNoCacheKey = errors.New("no cache key")

// key returns the sealing key, creating it when create is set and there is none.
func (c *secretCache) key(create bool) ([]byte, error) {
	b, err := os.ReadFile(c.keyPath)
	if errors.Is(err, fs.ErrNotExist) {
		if !create {
			return nil, errNoCacheKey
		}
		return c.newKey()
	} else if err != nil {
		return nil, err
	}
	k, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(k) != 32 {
		return nil, fmt.Errorf("%s is not a 32-byte hex key (delete it to start a new cache)", c.keyPath)
	}
	return k, nil
}

// newKey makes a random key and stores it unless another process stored one first, in which
// case that one is used: the key file is linked into place, never overwritten.
func (c *secretCache) newKey() ([]byte, error) {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	dir := filepath.Dir(c.keyPath)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, ".tmp-key-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	_, werr := f.WriteString(hex.EncodeToString(k) + "\n")
	if cerr := f.Close(); werr != nil || cerr != nil {
		return nil, errors.Join(werr, cerr)
	}
	if err := os.Chmod(f.Name(), 0o600); err != nil {
		return nil, err
	}
	if err := os.Link(f.Name(), c.keyPath); errors.Is(err, fs.ErrExist) {
		return c.key(false)
	} else if err != nil {
		return nil, err
	}
	return k, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// write seals a listing into its cache file (0600, in a 0700 directory).
func (c *secretCache) write(s cacheScope, data *cachedSecrets) error {
	key, err := c.key(true)
	if err != nil {
		return err
	}
	aead, err := newGCM(key)
	if err != nil {
		return err
	}
	plain, err := json.Marshal(data)
	if err != nil {
		return err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return err
	}
	out := append([]byte(cacheMagic), nonce...)
	out = aead.Seal(out, nonce, plain, s.aad())
	clear(plain)
	return writePrivate(c.path(s), out)
}

// errCacheMiss means there is no cache file for the listing.
var errCacheMiss = errors.New("no cached secrets")

// read opens the cache file of a listing: errCacheMiss when there is none; any other error
// means the file is there but damaged, unreadable or sealed under another key.
func (c *secretCache) read(s cacheScope) (*cachedSecrets, error) {
	b, err := os.ReadFile(c.path(s))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errCacheMiss
	} else if err != nil {
		return nil, err
	}
	key, err := c.key(false)
	if errors.Is(err, errNoCacheKey) {
		return nil, fmt.Errorf("the cache key %s is missing", c.keyPath)
	} else if err != nil {
		return nil, err
	}
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	rest, ok := strings.CutPrefix(string(b), cacheMagic)
	if !ok || len(rest) < aead.NonceSize() {
		return nil, errors.New("not a coffer cache file")
	}
	nonce, sealed := []byte(rest[:aead.NonceSize()]), []byte(rest[aead.NonceSize():])
	plain, err := aead.Open(nil, nonce, sealed, s.aad())
	if err != nil {
		return nil, errors.New("it does not open with this user's cache key")
	}
	defer clear(plain)
	var out cachedSecrets
	if err := json.Unmarshal(plain, &out); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	return &out, nil
}
