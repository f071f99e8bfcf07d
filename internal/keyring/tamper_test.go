package keyring

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// flip returns a copy of b with byte i inverted (i < 0 counts from the end).
func flip(b []byte, i int) []byte {
	b = bytes.Clone(b)
	if i < 0 {
		i += len(b)
	}
	b[i] ^= 0xff
	return b
}

// wantDecryptErr fails unless err wraps ErrDecrypt and no plaintext came back.
func wantDecryptErr(tb testing.TB, plaintext []byte, err error) {
	tb.Helper()
	if !errors.Is(err, ErrDecrypt) {
		tb.Errorf("err = %v, want ErrDecrypt", err)
	}
	if plaintext != nil {
		tb.Errorf("returned %d bytes of plaintext on failure", len(plaintext))
	}
}

func TestOpenTampered(t *testing.T) {
	store := newFakeStore()
	k := mustKeyring(t, store, mustKey(t))
	for _, p := range []string{"proj-a", "proj-b"} {
		mustAddProjectKey(t, k, store, p, 1)
	}
	mustAddProjectKey(t, k, store, "proj-a", 2)
	aad := SecretAAD("proj-a", "env-prod", "sec-1", 3, "value")
	ct := mustSeal(t, k, "proj-a", aad, []byte("the plaintext"))
	if mustTerm(t, ct) != 2 {
		t.Fatal("want a term-2 ciphertext")
	}
	ctx := context.Background()

	ciphertexts := []struct {
		name string
		ct   []byte
	}{
		{"term high byte", flip(ct, 0)},
		{"term low byte", flip(ct, 3)},
		{"term of another existing key", append([]byte{0, 0, 0, 1}, ct[4:]...)},
		{"version", flip(ct, termSize)},
		{"nonce first byte", flip(ct, headerSize)},
		{"nonce last byte", flip(ct, headerSize+nonceSize-1)},
		{"body", flip(ct, headerSize+nonceSize)},
		{"tag", flip(ct, -1)},
		{"truncated by one", ct[:len(ct)-1]},
		{"truncated to the tag length", ct[:minCiphertext-1]},
		{"header only", ct[:headerSize]},
		{"byte appended", append(bytes.Clone(ct), 0)},
		{"empty", []byte{}},
		{"nil", nil},
	}
	for _, tt := range ciphertexts {
		t.Run(tt.name, func(t *testing.T) {
			pt, err := k.Open(ctx, "proj-a", aad, tt.ct)
			wantDecryptErr(t, pt, err)
		})
	}

	opens := []struct {
		name, project string
		aad           []byte
	}{
		{"other secret id", "proj-a", SecretAAD("proj-a", "env-prod", "sec-2", 3, "value")},
		{"other version", "proj-a", SecretAAD("proj-a", "env-prod", "sec-1", 4, "value")},
		{"other field", "proj-a", SecretAAD("proj-a", "env-prod", "sec-1", 3, "comment")},
		{"other environment", "proj-a", SecretAAD("proj-a", "env-dev", "sec-1", 3, "value")},
		{"other project in aad", "proj-a", SecretAAD("proj-b", "env-prod", "sec-1", 3, "value")},
		{"no aad", "proj-a", nil},
		{"opened as project B", "proj-b", aad},
		{"opened as project B with its aad", "proj-b", SecretAAD("proj-b", "env-prod", "sec-1", 3, "value")},
		{"opened as a project without keys", "proj-c", aad},
	}
	for _, tt := range opens {
		t.Run(tt.name, func(t *testing.T) {
			pt, err := k.Open(ctx, tt.project, tt.aad, ct)
			wantDecryptErr(t, pt, err)
		})
	}

	if got := mustOpen(t, k, "proj-a", aad, ct); string(got) != "the plaintext" {
		t.Errorf("untouched ciphertext: Open = %q", got)
	}
}

// TestHeaderAuthenticated gives two terms the same data key, so only the
// header in the additional data can tell them apart.
func TestHeaderAuthenticated(t *testing.T) {
	store := newFakeStore()
	k := mustKeyring(t, store, mustKey(t))
	dek := seq(0x10, keySize)
	for term := uint32(1); term <= 2; term++ {
		w, err := k.wrap("p", term, dek)
		if err != nil {
			t.Fatal(err)
		}
		store.put(w)
	}
	ct := mustSeal(t, k, "p", nil, []byte("v"))
	ct[3] = 1 // term 2 -> 1: same key, different header
	pt, err := k.Open(context.Background(), "p", nil, ct)
	wantDecryptErr(t, pt, err)
}

func TestUnwrapTampered(t *testing.T) {
	root := mustKey(t)
	k := mustKeyring(t, nil, root)
	w, err := k.NewProjectKey("proj-a", 1)
	if err != nil {
		t.Fatal(err)
	}
	with := func(project string, term uint32, wrapped []byte) WrappedKey {
		return WrappedKey{ProjectID: project, Term: term, Wrapped: wrapped}
	}
	tests := []struct {
		name string
		w    WrappedKey
	}{
		{"copied to another project", with("proj-b", 1, w.Wrapped)},
		{"copied to another term", with("proj-a", 2, w.Wrapped)},
		{"version", with("proj-a", 1, flip(w.Wrapped, 0))},
		{"nonce", with("proj-a", 1, flip(w.Wrapped, 1+rootIDSize))},
		{"body", with("proj-a", 1, flip(w.Wrapped, 1+rootIDSize+nonceSize))},
		{"tag", with("proj-a", 1, flip(w.Wrapped, -1))},
		{"truncated", with("proj-a", 1, w.Wrapped[:len(w.Wrapped)-1])},
		{"empty", with("proj-a", 1, nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := k.Rewrap(tt.w)
			wantDecryptErr(t, got.Wrapped, err)

			store := newFakeStore()
			store.put(tt.w)
			_, err = mustKeyring(t, store, root).Seal(context.Background(), tt.w.ProjectID, nil, []byte("v"))
			if !errors.Is(err, ErrDecrypt) {
				t.Errorf("Seal with a tampered stored key: err = %v, want ErrDecrypt", err)
			}
		})
	}

	_, err = k.Rewrap(with("proj-a", 1, flip(w.Wrapped, 1))) // root key id
	if err == nil || !strings.Contains(err.Error(), "not configured") {
		t.Errorf("tampered root key id: err = %v, want an unknown-root error", err)
	}
}

// TestErrorsHoldNoSecrets plants a known plaintext, root key and data key,
// drives every failure path, and scans the error strings for them.
func TestErrorsHoldNoSecrets(t *testing.T) {
	root, otherRoot := seq(0x80, keySize), seq(0xa0, keySize)
	dek := seq(0x40, keySize) // countingReader's first 32 bytes
	plaintext := []byte("PLANTED-plaintext-c0ffee")
	store := newFakeStore()
	k := mustKeyring(t, store, root)
	k.rand = &countingReader{next: 0x40}
	w := mustAddProjectKey(t, k, store, "p", 1)
	aad := SecretAAD("p", "e", "s", 1, "value")
	ct := mustSeal(t, k, "p", aad, plaintext)
	ctx := context.Background()

	var errs []error
	collect := func(_ any, err error) { errs = append(errs, err) }
	collect(k.Open(ctx, "p", []byte("wrong"), ct))
	collect(k.Open(ctx, "p", aad, flip(ct, -1)))
	collect(k.Open(ctx, "p", aad, flip(ct, 0)))
	collect(k.Open(ctx, "q", aad, ct))
	collect(k.Open(ctx, "p", aad, ct[:10]))
	collect(k.Rewrap(WrappedKey{ProjectID: "q", Term: 1, Wrapped: w.Wrapped}))
	collect(k.Rewrap(WrappedKey{ProjectID: "p", Term: 1, Wrapped: flip(w.Wrapped, 1)}))
	collect(mustKeyring(t, store, otherRoot).Seal(ctx, "p", aad, plaintext))
	collect(New(store, root[:31]))
	collect(New(store, append(bytes.Clone(root), 0)))
	collect(New(store, root, root))
	collect(ParseRootKey(hex.EncodeToString(root)[:63]))
	collect(ParseRootKey(base64.StdEncoding.EncodeToString(root[:31])))
	collect(ParseRootKey(hex.EncodeToString(root) + "!"))

	var secrets []string
	for _, b := range [][]byte{root, dek, plaintext} {
		h, b64 := hex.EncodeToString(b), base64.StdEncoding.EncodeToString(b)
		secrets = append(secrets, string(b), h, strings.ToUpper(h), b64, base64.RawURLEncoding.EncodeToString(b),
			h[:16], b64[:12], // a prefix catches a partial leak
			strings.TrimSuffix(fmt.Sprint(b[:4]), "]")[1:]) // %v of a byte slice: "128 129 130 131"
	}
	for i, err := range errs {
		if err == nil {
			t.Errorf("failure path %d returned no error", i)
			continue
		}
		for _, s := range secrets {
			if strings.Contains(err.Error(), s) {
				t.Errorf("error %d %q contains a secret (%q)", i, err, s)
			}
		}
	}
}
