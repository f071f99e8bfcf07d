package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
)

const (
	rootIDSize  = 8
	wrappedSize = 1 + rootIDSize + nonceSize + keySize + tagSize
)

// rootKey is a configured root key: its id and its cipher, never its bytes.
type rootKey struct {
	id   [rootIDSize]byte
	hex  string // id in hex, for messages
	aead cipher.AEAD
}

// New returns a keyring that reads wrapped data keys from store. roots are
// 32-byte root keys: the first is current, the others are accepted for
// unwrapping only. store may be nil: the keyring then knows only the keys it made.
func New(store KeyStore, roots ...[]byte) (*Keyring, error) {
	if len(roots) == 0 {
		return nil, errors.New("keyring: at least one root key is required")
	}
	k := &Keyring{store: store, rand: rand.Reader, projects: make(map[string]*projectKeys)}
	for i, key := range roots {
		if len(key) != keySize {
			return nil, fmt.Errorf("keyring: root key %d of %d is %d bytes, want %d", i+1, len(roots), len(key), keySize)
		}
		id := rootKeyID(key)
		if k.root(id[:]) != nil {
			return nil, fmt.Errorf("keyring: root key %d of %d (id %x) is configured twice", i+1, len(roots), id)
		}
		aead, err := newGCM(key)
		if err != nil {
			return nil, err
		}
		k.roots = append(k.roots, rootKey{id: id, hex: hex.EncodeToString(id[:]), aead: aead})
	}
	return k, nil
}

// RootKeyID returns the hex id of the current root key: the first 8 bytes of
// HMAC-SHA256(root, "coffer root key id"). It is safe to print.
func (k *Keyring) RootKeyID() string { return k.roots[0].hex }

// Rewrap re-wraps a wrapped DEK with the current root key (root-key
// rotation). It works for keys wrapped by any configured root.
func (k *Keyring) Rewrap(w WrappedKey) (WrappedKey, error) {
	dek, err := k.unwrap(w)
	if err != nil {
		return WrappedKey{}, err
	}
	defer clear(dek)
	return k.wrap(w.ProjectID, w.Term, dek)
}

func rootKeyID(key []byte) (id [rootIDSize]byte) {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("coffer root key id"))
	copy(id[:], mac.Sum(nil))
	return id
}

func (k *Keyring) root(id []byte) *rootKey {
	for i := range k.roots {
		if string(k.roots[i].id[:]) == string(id) {
			return &k.roots[i]
		}
	}
	return nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	return aead, nil
}

// wrap seals dek with the current root key.
func (k *Keyring) wrap(projectID string, term uint32, dek []byte) (WrappedKey, error) {
	root := k.roots[0]
	out := make([]byte, 1+rootIDSize+nonceSize, wrappedSize)
	out[0] = formatVersion
	copy(out[1:], root.id[:])
	nonce := out[1+rootIDSize:]
	if _, err := io.ReadFull(k.rand, nonce); err != nil {
		return WrappedKey{}, fmt.Errorf("keyring: read nonce: %w", err)
	}
	out = root.aead.Seal(out, nonce, dek, dekAAD(projectID, term))
	return WrappedKey{ProjectID: projectID, Term: term, Wrapped: out}, nil
}

// unwrap returns the data key bytes of w; the caller clears them after use.
func (k *Keyring) unwrap(w WrappedKey) ([]byte, error) {
	name := fmt.Sprintf("data key of project %q term %d", w.ProjectID, w.Term)
	b := w.Wrapped
	if len(b) != wrappedSize || b[0] != formatVersion {
		return nil, fmt.Errorf("keyring: unwrap %s: malformed (%d bytes): %w", name, len(b), ErrDecrypt)
	}
	id := b[1 : 1+rootIDSize]
	root := k.root(id)
	if root == nil {
		return nil, fmt.Errorf("keyring: unwrap %s: it is wrapped by root key %x, which is not configured (configured: %s)", name, id, k.rootIDs())
	}
	nonce := b[1+rootIDSize : 1+rootIDSize+nonceSize]
	dek, err := root.aead.Open(nil, nonce, b[1+rootIDSize+nonceSize:], dekAAD(w.ProjectID, w.Term))
	if err != nil {
		return nil, fmt.Errorf("keyring: unwrap %s with root key %s: %w", name, root.hex, ErrDecrypt)
	}
	return dek, nil
}

func (k *Keyring) unwrapAEAD(w WrappedKey) (cipher.AEAD, error) {
	dek, err := k.unwrap(w)
	if err != nil {
		return nil, err
	}
	defer clear(dek)
	return newGCM(dek)
}

func (k *Keyring) rootIDs() string {
	ids := make([]string, len(k.roots))
	for i, r := range k.roots {
		ids[i] = r.hex
	}
	return strings.Join(ids, ", ")
}

// WrappedBy returns the hex id of the root key that wrapped w, or "" if w is malformed.
func WrappedBy(w WrappedKey) string {
	if len(w.Wrapped) != wrappedSize {
		return ""
	}
	return hex.EncodeToString(w.Wrapped[1 : 1+rootIDSize])
}
