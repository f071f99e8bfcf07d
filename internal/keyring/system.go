package keyring

import (
	"fmt"
	"io"
)

// SealSystem seals a small value that belongs to no project (a user's TOTP secret, a job
// payload) directly with the current root key. purpose names what the value is (e.g.
// "totp-secret") and aad binds it to its row (e.g. the user id): a ciphertext copied to
// another purpose or row fails to open. Format:
//
//	version (1) ‖ root key id (8) ‖ nonce (12) ‖ AES-256-GCM sealed plaintext (len+16)
//
// with additional data lp("coffer system") ‖ lp(purpose) ‖ lp(aad). Values sealed by a root
// key that is later dropped from the configuration no longer open: re-seal them (ResealSystem)
// before retiring a root key.
func (k *Keyring) SealSystem(purpose string, aad, plaintext []byte) ([]byte, error) {
	root := k.roots[0]
	out := make([]byte, 1+rootIDSize+nonceSize, 1+rootIDSize+nonceSize+len(plaintext)+tagSize)
	out[0] = formatVersion
	copy(out[1:], root.id[:])
	nonce := out[1+rootIDSize:]
	if _, err := io.ReadFull(k.rand, nonce); err != nil {
		return nil, fmt.Errorf("keyring: read nonce: %w", err)
	}
	return root.aead.Seal(out, nonce, plaintext, systemAAD(purpose, aad)), nil
}

// OpenSystem opens a value sealed by SealSystem with the same purpose and aad, with whichever
// configured root key sealed it. Every failure wraps ErrDecrypt and quotes nothing sealed.
func (k *Keyring) OpenSystem(purpose string, aad, ciphertext []byte) ([]byte, error) {
	if len(ciphertext) < 1+rootIDSize+nonceSize+tagSize || ciphertext[0] != formatVersion {
		return nil, fmt.Errorf("keyring: open %s: malformed (%d bytes): %w", purpose, len(ciphertext), ErrDecrypt)
	}
	id := ciphertext[1 : 1+rootIDSize]
	root := k.root(id)
	if root == nil {
		return nil, fmt.Errorf("keyring: open %s: sealed by root key %x, which is not configured (configured: %s): %w", purpose, id, k.rootIDs(), ErrDecrypt)
	}
	nonce := ciphertext[1+rootIDSize : 1+rootIDSize+nonceSize]
	pt, err := root.aead.Open(nil, nonce, ciphertext[1+rootIDSize+nonceSize:], systemAAD(purpose, aad))
	if err != nil {
		return nil, fmt.Errorf("keyring: open %s with root key %s: %w", purpose, root.hex, ErrDecrypt)
	}
	return pt, nil
}

// ResealSystem re-seals a SealSystem value with the current root key (root-key rotation).
func (k *Keyring) ResealSystem(purpose string, aad, ciphertext []byte) ([]byte, error) {
	pt, err := k.OpenSystem(purpose, aad, ciphertext)
	if err != nil {
		return nil, err
	}
	defer clear(pt)
	return k.SealSystem(purpose, aad, pt)
}

func systemAAD(purpose string, aad []byte) []byte {
	b := make([]byte, 0, 12+len("coffer system")+len(purpose)+len(aad))
	b = appendLP(b, "coffer system")
	b = appendLP(b, purpose)
	return appendLP(b, string(aad))
}
