package keyring

import (
	"bytes"
	"errors"
	"testing"
)

func TestSealSystem(t *testing.T) {
	oldRoot, newRoot := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	k1, err := New(nil, oldRoot)
	if err != nil {
		t.Fatal(err)
	}
	ct, err := k1.SealSystem("totp-secret", []byte("user-1"), []byte("JBSWY3DPEHPK3PXP"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(ct, []byte("JBSWY3DPEHPK3PXP")) {
		t.Fatal("the ciphertext holds the plaintext")
	}
	if pt, err := k1.OpenSystem("totp-secret", []byte("user-1"), ct); err != nil || string(pt) != "JBSWY3DPEHPK3PXP" {
		t.Fatalf("open: %q, %v", pt, err)
	}
	flipped := bytes.Clone(ct)
	flipped[len(flipped)-1] ^= 1
	for name, tc := range map[string]struct {
		purpose, aad string
		ct           []byte
	}{
		"other purpose": {"job-payload", "user-1", ct},
		"other row":     {"totp-secret", "user-2", ct},
		"flipped byte":  {"totp-secret", "user-1", flipped},
		"truncated":     {"totp-secret", "user-1", ct[:10]},
	} {
		if _, err := k1.OpenSystem(tc.purpose, []byte(tc.aad), tc.ct); !errors.Is(err, ErrDecrypt) {
			t.Errorf("%s: %v, want ErrDecrypt", name, err)
		}
	}
	// Rotation: a keyring with (new, old) opens the old value and reseals it under new.
	k2, _ := New(nil, newRoot, oldRoot)
	re, err := k2.ResealSystem("totp-secret", []byte("user-1"), ct)
	if err != nil {
		t.Fatal(err)
	}
	k3, _ := New(nil, newRoot)
	if pt, err := k3.OpenSystem("totp-secret", []byte("user-1"), re); err != nil || string(pt) != "JBSWY3DPEHPK3PXP" {
		t.Fatalf("open after reseal: %q, %v", pt, err)
	}
	if _, err := k3.OpenSystem("totp-secret", []byte("user-1"), ct); !errors.Is(err, ErrDecrypt) {
		t.Errorf("a value sealed by a dropped root key opened: %v", err)
	}
}
