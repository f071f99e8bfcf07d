package keyring

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
)

func TestRootRotation(t *testing.T) {
	oldRoot, newRoot := mustKey(t), mustKey(t)
	ctx := context.Background()

	// Data sealed while oldRoot was the only root.
	oldStore := newFakeStore()
	before := mustKeyring(t, oldStore, oldRoot)
	w := mustAddProjectKey(t, before, oldStore, "p", 1)
	ct := mustSeal(t, before, "p", nil, []byte("v"))

	// Step 1: configure (new, old). Old-wrapped keys still open.
	both := mustKeyring(t, oldStore, newRoot, oldRoot)
	if got := mustOpen(t, both, "p", nil, ct); string(got) != "v" {
		t.Errorf("Open = %q, want v", got)
	}
	if both.RootKeyID() == before.RootKeyID() {
		t.Error("RootKeyID is the old root's")
	}

	// Only the new root: the error names the root key that is needed.
	_, err := mustKeyring(t, oldStore, newRoot).Open(ctx, "p", nil, ct)
	if err == nil || !strings.Contains(err.Error(), before.RootKeyID()) {
		t.Errorf("Open without the old root: err = %v, want it to name root key %s", err, before.RootKeyID())
	}

	// Step 2: Rewrap every stored key. Step 3: drop the old root.
	nw, err := both.Rewrap(w)
	if err != nil {
		t.Fatal(err)
	}
	if nw.ProjectID != w.ProjectID || nw.Term != w.Term || bytes.Equal(nw.Wrapped, w.Wrapped) {
		t.Errorf("Rewrap = {%q %d}, want {%q %d} with new wrapped bytes", nw.ProjectID, nw.Term, w.ProjectID, w.Term)
	}
	if id := hex.EncodeToString(nw.Wrapped[1 : 1+rootIDSize]); id != both.RootKeyID() {
		t.Errorf("rewrapped under root %s, want %s", id, both.RootKeyID())
	}
	newStore := newFakeStore()
	newStore.put(nw)
	after := mustKeyring(t, newStore, newRoot)
	if got := mustOpen(t, after, "p", nil, ct); string(got) != "v" {
		t.Errorf("Open after rotation = %q, want v", got)
	}
	if _, err := mustKeyring(t, newStore, oldRoot).Open(ctx, "p", nil, ct); err == nil {
		t.Error("the old root alone opened a key rewrapped by the new root")
	}

	// Rewrap of a key already under the current root still works.
	if _, err := after.Rewrap(nw); err != nil {
		t.Errorf("Rewrap(current): %v", err)
	}
}

func TestNew(t *testing.T) {
	a, b := mustKey(t), mustKey(t)
	tests := []struct {
		name  string
		roots [][]byte
		ok    bool
	}{
		{"one root", [][]byte{a}, true},
		{"two roots", [][]byte{a, b}, true},
		{"no root", nil, false},
		{"nil root", [][]byte{nil}, false},
		{"short root", [][]byte{a[:31]}, false},
		{"long root", [][]byte{append(bytes.Clone(a), 0)}, false},
		{"bad old root", [][]byte{a, b[:16]}, false},
		{"same root twice", [][]byte{a, bytes.Clone(a)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := New(nil, tt.roots...)
			if (err == nil) != tt.ok {
				t.Fatalf("New: err = %v, want ok = %v", err, tt.ok)
			}
			if tt.ok && len(k.RootKeyID()) != 2*rootIDSize {
				t.Errorf("RootKeyID = %q, want %d hex digits", k.RootKeyID(), 2*rootIDSize)
			}
		})
	}
}

func TestParseRootKey(t *testing.T) {
	// 0xfb 0xff 0xbf encodes as "+/+/" in standard and "-_-_" in URL base64.
	key := bytes.Repeat([]byte{0xfb, 0xff, 0xbf}, 11)[:keySize]
	h := hex.EncodeToString(key)
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"standard base64", base64.StdEncoding.EncodeToString(key), true},
		{"standard base64 unpadded", base64.RawStdEncoding.EncodeToString(key), true},
		{"URL base64", base64.URLEncoding.EncodeToString(key), true},
		{"URL base64 unpadded", base64.RawURLEncoding.EncodeToString(key), true},
		{"hex", h, true},
		{"upper-case hex", strings.ToUpper(h), true},
		{"whitespace around", "\n\t " + base64.StdEncoding.EncodeToString(key) + " \r\n", true},
		{"EncodeRootKey", EncodeRootKey(key), true},
		{"empty", "", false},
		{"blank", "  \n", false},
		{"63 hex digits", h[:63], false},
		{"66 hex digits", h + "ab", false},
		{"64 characters, not hex", strings.Repeat("g", 64), false},
		{"16-byte key", base64.StdEncoding.EncodeToString(key[:16]), false},
		{"not an encoding", "correct horse battery staple!!", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRootKey(tt.in)
			if !tt.ok {
				if err == nil {
					t.Fatalf("ParseRootKey accepted %q", tt.in)
				}
				if trimmed := strings.TrimSpace(tt.in); trimmed != "" && strings.Contains(err.Error(), trimmed) {
					t.Errorf("error %q contains the input", err)
				}
				return
			}
			if err != nil || !bytes.Equal(got, key) {
				t.Fatalf("ParseRootKey = %x, %v; want %x", got, err, key)
			}
		})
	}
}

func TestGenerateKey(t *testing.T) {
	a, b := mustKey(t), mustKey(t)
	if len(a) != keySize || bytes.Equal(a, b) {
		t.Errorf("GenerateKey: %d bytes, equal twice: %v", len(a), bytes.Equal(a, b))
	}
	if got, err := ParseRootKey(EncodeRootKey(a)); err != nil || !bytes.Equal(got, a) {
		t.Errorf("ParseRootKey(EncodeRootKey(k)) = %v; want k back", err)
	}
}
