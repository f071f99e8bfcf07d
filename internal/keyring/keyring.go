// Package keyring is the only code in Coffer that holds key bytes. It
// provides envelope encryption with AES-256-GCM: root keys (key-encryption
// keys) wrap per-project data keys, and data keys seal and open values.
//
// The keyring must never log key bytes or return them to a caller, never put
// key bytes or plaintext in an error, and never return plaintext from an Open
// that failed: every failure to authenticate a ciphertext is ErrDecrypt.
//
// # Keys
//
// Several root keys may be configured at once. The first is current: it wraps
// new data keys, and Rewrap moves data keys to it. The others are accepted
// only for unwrapping, so a root key is rotated online: configure (new, old),
// Rewrap every stored data key, then drop old. A root key is named by its id,
// the first 8 bytes of HMAC-SHA256(root key, "coffer root key id"), printed in
// hex; the id is safe to print.
//
// Each project has one or more data keys, each with a term (1, 2, ...). Seal
// uses the highest term the keyring knows; SealTerm uses the term the caller
// read from the database (after a rotation on another node, that is a term
// this keyring may not have cached yet); Open uses the term written in the
// ciphertext. Data keys are read from a KeyStore on first use and cached
// unwrapped; an Open naming a term the cache lacks reloads from the store once.
// Nonces are random, so a project key should get a new term well before 2^32
// seals.
//
// # Formats
//
// Integers are big-endian. lp(s) is a length-prefixed string: len(s) as
// 4 bytes, then s. Version is the format version, 0x01.
//
// Ciphertext, made by Seal:
//
//	term (4) ‖ version (1) ‖ nonce (12) ‖ AES-256-GCM sealed plaintext (len+16)
//
// sealed with the project's data key of that term and additional data
// term ‖ version ‖ aad, so the header is authenticated too.
//
// Wrapped data key, WrappedKey.Wrapped:
//
//	version (1) ‖ root key id (8) ‖ nonce (12) ‖ AES-256-GCM sealed data key (32+16)
//
// sealed with the root key of that id and additional data
// lp("coffer dek") ‖ lp(project id) ‖ term (4), so a wrapped key copied to
// another project or term fails to unwrap.
//
// Secret additional data, SecretAAD:
//
//	lp("coffer secret") ‖ lp(project) ‖ lp(environment) ‖ lp(secret) ‖ version (8, two's complement) ‖ lp(field)
package keyring

import (
	"context"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"sync"
)

// ErrDecrypt is returned, wrapped, for any failed open: wrong key, wrong
// additional data, tampered, truncated or malformed input.
var ErrDecrypt = errors.New("keyring: message authentication failed")

// ErrNoProjectKey is returned, wrapped, when a project has no data key to seal
// with (or, together with ErrDecrypt, none of the term a ciphertext names).
var ErrNoProjectKey = errors.New("keyring: project has no data key")

const (
	keySize       = 32
	formatVersion = 0x01
	termSize      = 4
	headerSize    = termSize + 1
	nonceSize     = 12
	tagSize       = 16
	minCiphertext = headerSize + nonceSize + tagSize
)

// KeyStore is what the keyring needs from storage: the wrapped DEKs of a
// project.
type KeyStore interface {
	ProjectKeys(ctx context.Context, projectID string) ([]WrappedKey, error)
}

// WrappedKey is a project data key as stored: wrapped by a root key.
type WrappedKey struct {
	ProjectID string
	Term      uint32
	Wrapped   []byte
}

// Keyring seals and opens data with project data keys wrapped by root keys.
// It is safe for concurrent use.
type Keyring struct {
	store KeyStore
	roots []rootKey // roots[0] is current
	rand  io.Reader

	mu       sync.RWMutex
	projects map[string]*projectKeys // values are never modified, only replaced
	gen      uint64                  // bumped by Forget so in-flight loads do not re-cache
}

// projectKeys is the cached, unwrapped data keys of one project.
type projectKeys struct {
	loaded  bool   // the store has been read since the last Forget
	current uint32 // highest term, 0 if none
	keys    map[uint32]*dataKey
}

type dataKey struct {
	wrapped []byte // as stored, to skip unwrapping again on reload
	aead    cipher.AEAD
	pending bool // made by NewProjectKey and not yet seen in the store
}

func newProjectKeys(keys map[uint32]*dataKey, loaded bool) *projectKeys {
	p := &projectKeys{loaded: loaded, keys: keys}
	for term := range keys {
		p.current = max(p.current, term)
	}
	return p
}

func (p *projectKeys) get(term uint32) *dataKey {
	if p == nil {
		return nil
	}
	return p.keys[term]
}

// NewProjectKey generates a DEK for projectID at term, caches it unwrapped,
// and returns the wrapped form for the caller to store (in the caller's
// transaction). If that transaction fails, the caller must call Forget so the
// unstored key is never used to seal.
func (k *Keyring) NewProjectKey(projectID string, term uint32) (WrappedKey, error) {
	if projectID == "" || term == 0 {
		return WrappedKey{}, fmt.Errorf("keyring: new data key: need a project id and a term from 1 (got %q, %d)", projectID, term)
	}
	dek := make([]byte, keySize)
	defer clear(dek)
	if _, err := io.ReadFull(k.rand, dek); err != nil {
		return WrappedKey{}, fmt.Errorf("keyring: generate data key: %w", err)
	}
	w, err := k.wrap(projectID, term, dek)
	if err != nil {
		return WrappedKey{}, err
	}
	aead, err := newGCM(dek)
	if err != nil {
		return WrappedKey{}, err
	}

	k.mu.Lock()
	defer k.mu.Unlock()
	cur := k.projects[projectID]
	if cur.get(term) != nil {
		return WrappedKey{}, fmt.Errorf("keyring: project %q already has a data key of term %d", projectID, term)
	}
	keys := make(map[uint32]*dataKey)
	if cur != nil {
		maps.Copy(keys, cur.keys)
	}
	keys[term] = &dataKey{wrapped: w.Wrapped, aead: aead, pending: true}
	k.projects[projectID] = newProjectKeys(keys, cur != nil && cur.loaded)
	w.Wrapped = append([]byte(nil), w.Wrapped...) // the caller's copy
	return w, nil
}

// Seal encrypts plaintext with the project's current (highest-term) DEK. aad
// binds the ciphertext to where it lives.
func (k *Keyring) Seal(ctx context.Context, projectID string, aad, plaintext []byte) ([]byte, error) {
	pk, _, err := k.project(ctx, projectID)
	if err != nil {
		return nil, err
	}
	if pk.current == 0 {
		return nil, fmt.Errorf("keyring: seal for project %q: %w", projectID, ErrNoProjectKey)
	}
	return k.seal(pk.keys[pk.current], pk.current, aad, plaintext)
}

// SealTerm is Seal with the data key of an explicit term: the term the caller's transaction
// read as the project's current one (so a node whose cache has not yet seen a rotation still
// seals with the new key). A term the cache lacks is loaded from the store once.
func (k *Keyring) SealTerm(ctx context.Context, projectID string, term uint32, aad, plaintext []byte) ([]byte, error) {
	if term == 0 {
		return nil, fmt.Errorf("keyring: seal for project %q: term 0", projectID)
	}
	pk, fresh, err := k.project(ctx, projectID)
	if err != nil {
		return nil, err
	}
	dk := pk.get(term)
	if dk == nil && !fresh {
		if pk, err = k.load(ctx, projectID); err != nil {
			return nil, err
		}
		dk = pk.get(term)
	}
	if dk == nil {
		return nil, fmt.Errorf("keyring: seal for project %q: term %d: %w", projectID, term, ErrNoProjectKey)
	}
	return k.seal(dk, term, aad, plaintext)
}

func (k *Keyring) seal(dk *dataKey, term uint32, aad, plaintext []byte) ([]byte, error) {
	out := make([]byte, headerSize+nonceSize, headerSize+nonceSize+len(plaintext)+tagSize)
	binary.BigEndian.PutUint32(out, term)
	out[termSize] = formatVersion
	nonce := out[headerSize:]
	if _, err := io.ReadFull(k.rand, nonce); err != nil {
		return nil, fmt.Errorf("keyring: read nonce: %w", err)
	}
	return dk.aead.Seal(out, nonce, plaintext, additionalData(out[:headerSize], aad)), nil
}

// Open decrypts a ciphertext made by Seal for the same project and aad. Any
// failure to authenticate it wraps ErrDecrypt, and no plaintext is returned.
func (k *Keyring) Open(ctx context.Context, projectID string, aad, ciphertext []byte) ([]byte, error) {
	term, err := Term(ciphertext)
	if err != nil {
		return nil, err
	}
	pk, fresh, err := k.project(ctx, projectID)
	if err != nil {
		return nil, err
	}
	dk := pk.get(term)
	if dk == nil && !fresh { // another node may have added the term
		if pk, err = k.load(ctx, projectID); err != nil {
			return nil, err
		}
		dk = pk.get(term)
	}
	if dk == nil {
		return nil, fmt.Errorf("keyring: open for project %q: term %d: %w (%w)", projectID, term, ErrNoProjectKey, ErrDecrypt)
	}
	header, nonce := ciphertext[:headerSize], ciphertext[headerSize:headerSize+nonceSize]
	plaintext, err := dk.aead.Open(nil, nonce, ciphertext[headerSize+nonceSize:], additionalData(header, aad))
	if err != nil {
		return nil, fmt.Errorf("keyring: open for project %q (term %d): %w", projectID, term, ErrDecrypt)
	}
	return plaintext, nil
}

// Forget drops the cached DEKs of a project (after the project is deleted or
// its keys rotated elsewhere), including keys made by NewProjectKey.
func (k *Keyring) Forget(projectID string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.projects, projectID)
	k.gen++
}

type storeKey struct{}

// WithStore returns a context under which the keyring reads project keys it has not cached
// from ks instead of its own store. A write transaction passes itself: a load inside it then
// takes no second connection from a pool that the transactions waiting behind its locks may
// all hold.
func WithStore(ctx context.Context, ks KeyStore) context.Context {
	return context.WithValue(ctx, storeKey{}, ks)
}

// Term returns the key term recorded in a ciphertext, or an error (wrapping
// ErrDecrypt) if it is not a keyring ciphertext.
func Term(ciphertext []byte) (uint32, error) {
	if len(ciphertext) < minCiphertext {
		return 0, fmt.Errorf("keyring: not a ciphertext: %d bytes, want at least %d: %w", len(ciphertext), minCiphertext, ErrDecrypt)
	}
	if v := ciphertext[termSize]; v != formatVersion {
		return 0, fmt.Errorf("keyring: not a ciphertext: unknown format version %d: %w", v, ErrDecrypt)
	}
	term := binary.BigEndian.Uint32(ciphertext)
	if term == 0 {
		return 0, fmt.Errorf("keyring: not a ciphertext: term 0: %w", ErrDecrypt)
	}
	return term, nil
}

func additionalData(header, aad []byte) []byte {
	ad := make([]byte, 0, len(header)+len(aad))
	return append(append(ad, header...), aad...)
}

// project returns the cached keys of a project, loading them first if the
// store has not been read; fresh reports whether it was read by this call.
func (k *Keyring) project(ctx context.Context, projectID string) (pk *projectKeys, fresh bool, err error) {
	k.mu.RLock()
	pk = k.projects[projectID]
	k.mu.RUnlock()
	if pk != nil && pk.loaded {
		return pk, false, nil
	}
	pk, err = k.load(ctx, projectID)
	return pk, true, err
}

// load reads the project's keys from the store, without holding the lock
// during the call, and caches them. The store wins over a pending key of the
// same term; pending keys of other terms are kept.
func (k *Keyring) load(ctx context.Context, projectID string) (*projectKeys, error) {
	k.mu.RLock()
	old, gen := k.projects[projectID], k.gen
	k.mu.RUnlock()

	var stored []WrappedKey
	ks := k.store
	if tx, ok := ctx.Value(storeKey{}).(KeyStore); ok {
		ks = tx
	}
	if ks != nil {
		var err error
		if stored, err = ks.ProjectKeys(ctx, projectID); err != nil {
			return nil, fmt.Errorf("keyring: load keys of project %q: %w", projectID, err)
		}
	}
	keys := make(map[uint32]*dataKey, len(stored))
	for _, w := range stored {
		if w.ProjectID != projectID {
			return nil, fmt.Errorf("keyring: load keys of project %q: store returned a key of project %q", projectID, w.ProjectID)
		}
		if keys[w.Term] != nil {
			return nil, fmt.Errorf("keyring: load keys of project %q: two keys of term %d", projectID, w.Term)
		}
		if dk := old.get(w.Term); dk != nil && string(dk.wrapped) == string(w.Wrapped) {
			keys[w.Term] = &dataKey{wrapped: dk.wrapped, aead: dk.aead}
			continue
		}
		aead, err := k.unwrapAEAD(w)
		if err != nil {
			return nil, err
		}
		keys[w.Term] = &dataKey{wrapped: append([]byte(nil), w.Wrapped...), aead: aead}
	}

	k.mu.Lock()
	defer k.mu.Unlock()
	if cur := k.projects[projectID]; cur != nil {
		for term, dk := range cur.keys {
			if dk.pending && keys[term] == nil {
				keys[term] = dk
			}
		}
	}
	pk := newProjectKeys(keys, true)
	switch {
	case k.gen != gen: // Forget ran meanwhile: what we read may be stale
	case len(keys) == 0:
		delete(k.projects, projectID) // ask the store again next time
	default:
		k.projects[projectID] = pk
	}
	return pk, nil
}
