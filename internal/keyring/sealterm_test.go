package keyring

import (
	"context"
	"errors"
	"testing"
)

// A node whose cache holds a project's keys from before a rotation made on another node seals
// with the new term it is given, loading it from the store, and forgets a retired term.
func TestSealTermLoadsANewerTerm(t *testing.T) {
	ctx := context.Background()
	store := newFakeStore()
	root := mustKey(t)
	a := mustKeyring(t, store, root) // the node that rotates
	b := mustKeyring(t, store, root) // another node
	mustAddProjectKey(t, a, store, "p", 1)
	old := mustSeal(t, b, "p", []byte("aad"), []byte("v1")) // b caches term 1
	loads := store.callCount("p")

	mustAddProjectKey(t, a, store, "p", 2) // the rotation, on a
	ct, err := b.SealTerm(ctx, "p", 2, []byte("aad"), []byte("v2"))
	if err != nil {
		t.Fatal(err)
	}
	if got := mustTerm(t, ct); got != 2 {
		t.Fatalf("SealTerm(2) sealed with term %d", got)
	}
	if store.callCount("p") != loads+1 {
		t.Errorf("store read %d times for the new term, want once", store.callCount("p")-loads)
	}
	if string(mustOpen(t, a, "p", []byte("aad"), ct)) != "v2" {
		t.Error("the rotating node cannot open what the other sealed")
	}
	// Sealing again with a known term reads nothing.
	loads = store.callCount("p")
	if _, err := b.SealTerm(ctx, "p", 1, []byte("aad"), []byte("x")); err != nil {
		t.Fatal(err)
	}
	if store.callCount("p") != loads {
		t.Error("SealTerm with a cached term read the store")
	}

	// A term no store has is refused, after one reload.
	if _, err := b.SealTerm(ctx, "p", 9, nil, []byte("x")); !errors.Is(err, ErrNoProjectKey) {
		t.Errorf("SealTerm(9) = %v, want ErrNoProjectKey", err)
	}
	if _, err := b.SealTerm(ctx, "p", 0, nil, []byte("x")); err == nil {
		t.Error("SealTerm(0) succeeded")
	}

	// Term 1 retired: the store no longer returns it, and once b reloads (Forget, as the re-seal
	// job does, or a new term) b cannot open term-1 data any more.
	store.mu.Lock()
	store.keys["p"] = store.keys["p"][1:]
	store.mu.Unlock()
	b.Forget("p")
	if _, err := b.Open(ctx, "p", []byte("aad"), old); !errors.Is(err, ErrDecrypt) {
		t.Errorf("open of data sealed with a retired key: %v, want ErrDecrypt", err)
	}
}
