package keyring

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// Known answers. The same values are also computed independently below with
// crypto/aes and crypto/cipher; the hard-coded hex catches a format change
// made in both places at once.
const (
	katRootKeyID = "75f80c5e74694549"
	katWrapped   = "0175f80c5e74694549606162636465666768696a6b" +
		"aa9ad916ff05c528345fb3603ec08f0c7624dbdad031648efbf8da3720afa957abaf15188bbff39bd126a7e2d59934c4"
	katSealed = "0000000101" + "6c6d6e6f7071727374757677" +
		"3876a89325150d36beeaf6100eeaad9d8719c34e6d1e32f312813ffeb3"
)

// seq returns n bytes start, start+1, ...
func seq(start byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

func mustGCM(tb testing.TB, key []byte) cipher.AEAD {
	tb.Helper()
	block, err := aes.NewCipher(key)
	if err != nil {
		tb.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		tb.Fatal(err)
	}
	return aead
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestKnownAnswer(t *testing.T) {
	root := seq(0x00, 32)
	plaintext := []byte("hello, coffer")
	aad := []byte("row 7")

	// The keyring draws, in order: the data key (32), the wrap nonce (12),
	// the seal nonce (12).
	k := mustKeyring(t, nil, root)
	k.rand = &countingReader{next: 0x40}
	w, err := k.NewProjectKey("project-1", 1)
	if err != nil {
		t.Fatal(err)
	}
	sealed := mustSeal(t, k, "project-1", aad, plaintext)

	// Independently.
	dek, wrapNonce, sealNonce := seq(0x40, 32), seq(0x60, 12), seq(0x6c, 12)
	mac := hmac.New(sha256.New, root)
	mac.Write([]byte("coffer root key id"))
	rootID := mac.Sum(nil)[:8]
	dekAD := []byte("\x00\x00\x00\x0acoffer dek\x00\x00\x00\x09project-1\x00\x00\x00\x01")
	wantWrapped := cat([]byte{0x01}, rootID, wrapNonce, mustGCM(t, root).Seal(nil, wrapNonce, dek, dekAD))
	header := []byte{0, 0, 0, 1, 0x01}
	wantSealed := cat(header, sealNonce, mustGCM(t, dek).Seal(nil, sealNonce, plaintext, cat(header, aad)))

	tests := []struct {
		name, got, independent, hardCoded string
	}{
		{"root key id", k.RootKeyID(), hex.EncodeToString(rootID), katRootKeyID},
		{"wrapped data key", hex.EncodeToString(w.Wrapped), hex.EncodeToString(wantWrapped), katWrapped},
		{"ciphertext", hex.EncodeToString(sealed), hex.EncodeToString(wantSealed), katSealed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.independent {
				t.Errorf("got\n%s\nwant (computed)\n%s", tt.got, tt.independent)
			}
			if tt.got != tt.hardCoded {
				t.Errorf("got\n%s\nwant (hard-coded)\n%s", tt.got, tt.hardCoded)
			}
		})
	}

	// A cold keyring reading the known wrapped key opens the known ciphertext.
	store := newFakeStore()
	store.put(WrappedKey{ProjectID: "project-1", Term: 1, Wrapped: mustHex(t, katWrapped)})
	cold := mustKeyring(t, store, root)
	if got := mustOpen(t, cold, "project-1", aad, mustHex(t, katSealed)); !bytes.Equal(got, plaintext) {
		t.Errorf("Open(known ciphertext) = %q, want %q", got, plaintext)
	}
}

func mustHex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
