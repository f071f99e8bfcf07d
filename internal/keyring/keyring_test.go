package keyring

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
)

func TestSealOpenRoundTrip(t *testing.T) {
	store := newFakeStore()
	root := mustKey(t)
	k := mustKeyring(t, store, root)
	ctx := context.Background()

	tests := []struct {
		project   string
		terms     int
		plaintext []byte
	}{
		{"proj-a", 1, []byte("postgres://user:pw@db/app")},
		{"proj-b", 2, []byte{}},
		{"proj-c", 4, bytes.Repeat([]byte{0xa5}, 1<<16)},
	}
	type sealed struct {
		project   string
		aad, ct   []byte
		plaintext []byte
	}
	var all []sealed
	for _, tt := range tests {
		t.Run(tt.project, func(t *testing.T) {
			for term := uint32(1); term <= uint32(tt.terms); term++ {
				mustAddProjectKey(t, k, store, tt.project, term)
				aad := SecretAAD(tt.project, "env", "sec", int(term), "value")
				ct := mustSeal(t, k, tt.project, aad, tt.plaintext)
				if got := mustTerm(t, ct); got != term {
					t.Errorf("Seal used term %d, want highest term %d", got, term)
				}
				all = append(all, sealed{tt.project, aad, ct, tt.plaintext})
			}
			// Every term, old ones included, still opens.
			for _, s := range all {
				if got := mustOpen(t, k, s.project, s.aad, s.ct); !bytes.Equal(got, s.plaintext) {
					t.Errorf("Open(%s term %d) = %d bytes, want %d", s.project, mustTerm(t, s.ct), len(got), len(s.plaintext))
				}
			}
		})
	}

	// Another node, cold cache, same root and store, opens everything.
	other := mustKeyring(t, store, root)
	for _, s := range all {
		if got := mustOpen(t, other, s.project, s.aad, s.ct); !bytes.Equal(got, s.plaintext) {
			t.Errorf("cold Open(%s term %d): wrong plaintext", s.project, mustTerm(t, s.ct))
		}
	}

	// Sealing twice gives different ciphertexts (fresh nonce).
	a := mustSeal(t, k, "proj-a", nil, []byte("x"))
	b := mustSeal(t, k, "proj-a", nil, []byte("x"))
	if bytes.Equal(a, b) {
		t.Error("two seals of the same plaintext are equal")
	}
	if _, err := k.Seal(ctx, "proj-none", nil, []byte("x")); !errors.Is(err, ErrNoProjectKey) {
		t.Errorf("Seal without keys: err = %v, want ErrNoProjectKey", err)
	}
}

func TestSealUsesHighestStoredTerm(t *testing.T) {
	store := newFakeStore()
	root := mustKey(t)
	maker := mustKeyring(t, nil, root)
	var ws []WrappedKey
	for _, term := range []uint32{2, 7, 1, 3} { // the store's order is not term order
		w, err := maker.NewProjectKey("p", term)
		if err != nil {
			t.Fatal(err)
		}
		ws = append(ws, w)
	}
	store.put(ws...)
	k := mustKeyring(t, store, root)
	if got := mustTerm(t, mustSeal(t, k, "p", nil, []byte("v"))); got != 7 {
		t.Errorf("Seal used term %d, want 7", got)
	}
}

func TestLazyLoading(t *testing.T) {
	root := mustKey(t)
	ctx := context.Background()

	t.Run("one store call for many seals and opens", func(t *testing.T) {
		store := newFakeStore()
		mustAddProjectKey(t, mustKeyring(t, nil, root), store, "p", 1)
		k := mustKeyring(t, store, root)
		if n := store.callCount("p"); n != 0 {
			t.Fatalf("New called the store %d times, want 0", n)
		}
		for i := range 100 {
			ct := mustSeal(t, k, "p", nil, []byte{byte(i)})
			mustOpen(t, k, "p", nil, ct)
		}
		if n := store.callCount("p"); n != 1 {
			t.Errorf("store called %d times, want 1", n)
		}
	})

	t.Run("unknown term reloads once", func(t *testing.T) {
		store := newFakeStore()
		other := mustKeyring(t, nil, root) // another node, whose own store calls we do not count
		mustAddProjectKey(t, other, store, "p", 1)
		k := mustKeyring(t, store, root)
		mustSeal(t, k, "p", nil, []byte("v1"))
		mustAddProjectKey(t, other, store, "p", 2) // rotated elsewhere
		ct2 := mustSeal(t, other, "p", nil, []byte("v2"))
		if got := mustOpen(t, k, "p", nil, ct2); string(got) != "v2" {
			t.Errorf("Open = %q, want v2", got)
		}
		if n := store.callCount("p"); n != 2 {
			t.Errorf("store called %d times, want 2 (load + one reload)", n)
		}
		if got := mustTerm(t, mustSeal(t, k, "p", nil, []byte("v3"))); got != 2 {
			t.Errorf("after reload Seal used term %d, want 2", got)
		}
		mustOpen(t, k, "p", nil, ct2)
		if n := store.callCount("p"); n != 2 {
			t.Errorf("store called %d times, want still 2", n)
		}

		bad := bytes.Clone(ct2)
		bad[3] = 9 // term 9: in no store
		if _, err := k.Open(ctx, "p", nil, bad); !errors.Is(err, ErrDecrypt) || !errors.Is(err, ErrNoProjectKey) {
			t.Errorf("Open(term 9): err = %v, want ErrDecrypt and ErrNoProjectKey", err)
		}
		if n := store.callCount("p"); n != 3 {
			t.Errorf("store called %d times, want 3 (one reload for term 9)", n)
		}
		cold := mustKeyring(t, store, root)
		if _, err := cold.Open(ctx, "p", nil, bad); !errors.Is(err, ErrDecrypt) {
			t.Errorf("cold Open(term 9): err = %v, want ErrDecrypt", err)
		}
		if n := store.callCount("p"); n != 4 {
			t.Errorf("store called %d times, want 4 (a first load is the only load)", n)
		}
	})

	t.Run("no keys are not cached", func(t *testing.T) {
		store := newFakeStore()
		k := mustKeyring(t, store, root)
		for range 2 {
			if _, err := k.Seal(ctx, "p", nil, []byte("v")); !errors.Is(err, ErrNoProjectKey) {
				t.Fatalf("err = %v, want ErrNoProjectKey", err)
			}
		}
		mustAddProjectKey(t, mustKeyring(t, nil, root), store, "p", 1)
		mustSeal(t, k, "p", nil, []byte("v"))
		if n := store.callCount("p"); n != 3 {
			t.Errorf("store called %d times, want 3", n)
		}
	})

	t.Run("Forget drops the cache", func(t *testing.T) {
		store := newFakeStore()
		k := mustKeyring(t, store, root)
		mustAddProjectKey(t, k, store, "p", 1)
		mustSeal(t, k, "p", nil, []byte("v"))
		k.Forget("p")
		mustSeal(t, k, "p", nil, []byte("v"))
		if n := store.callCount("p"); n != 2 {
			t.Errorf("store called %d times, want 2", n)
		}
	})

	t.Run("store error is returned", func(t *testing.T) {
		errDown := errors.New("database is down")
		store := newFakeStore()
		store.ProjectKeysFunc = func(context.Context, string) ([]WrappedKey, error) { return nil, errDown }
		k := mustKeyring(t, store, root)
		if _, err := k.Seal(ctx, "p", nil, []byte("v")); !errors.Is(err, errDown) {
			t.Errorf("Seal: err = %v, want %v", err, errDown)
		}
	})

	t.Run("store returns another project's key", func(t *testing.T) {
		store := newFakeStore()
		w := mustAddProjectKey(t, mustKeyring(t, nil, root), store, "q", 1)
		store.ProjectKeysFunc = func(context.Context, string) ([]WrappedKey, error) { return []WrappedKey{w}, nil }
		k := mustKeyring(t, store, root)
		if _, err := k.Seal(ctx, "p", nil, []byte("v")); err == nil {
			t.Error("Seal succeeded with a key of another project")
		}
	})
}

func TestNewProjectKey(t *testing.T) {
	root := mustKey(t)
	ctx := context.Background()

	t.Run("bad arguments", func(t *testing.T) {
		k := mustKeyring(t, nil, root)
		if _, err := k.NewProjectKey("p", 0); err == nil {
			t.Error("term 0 accepted")
		}
		if _, err := k.NewProjectKey("", 1); err == nil {
			t.Error("empty project accepted")
		}
		if _, err := k.NewProjectKey("p", 1); err != nil {
			t.Fatal(err)
		}
		if _, err := k.NewProjectKey("p", 1); err == nil {
			t.Error("second key of term 1 accepted")
		}
	})

	t.Run("wrapped form", func(t *testing.T) {
		k := mustKeyring(t, nil, root)
		w, err := k.NewProjectKey("p", 3)
		if err != nil {
			t.Fatal(err)
		}
		if w.ProjectID != "p" || w.Term != 3 || len(w.Wrapped) != wrappedSize {
			t.Errorf("got {%q %d %d bytes}, want {p 3 %d bytes}", w.ProjectID, w.Term, len(w.Wrapped), wrappedSize)
		}
	})

	t.Run("pending key loads older terms first", func(t *testing.T) {
		store := newFakeStore()
		other := mustKeyring(t, nil, root)
		mustAddProjectKey(t, other, store, "p", 1)
		old := mustSeal(t, other, "p", nil, []byte("old"))
		k := mustKeyring(t, store, root)
		mustAddProjectKey(t, k, store, "p", 2) // cold cache
		if got := mustTerm(t, mustSeal(t, k, "p", nil, []byte("new"))); got != 2 {
			t.Errorf("Seal used term %d, want 2", got)
		}
		mustOpen(t, k, "p", nil, old)
		if n := store.callCount("p"); n != 1 {
			t.Errorf("store called %d times, want 1", n)
		}
	})

	t.Run("pending key not yet stored survives a load", func(t *testing.T) {
		store := newFakeStore()
		k := mustKeyring(t, store, root)
		mustAddProjectKey(t, k, store, "p", 1)
		mustSeal(t, k, "p", nil, []byte("v")) // loads
		if _, err := k.NewProjectKey("p", 2); err != nil {
			t.Fatal(err) // the caller's transaction has not committed yet
		}
		k.mu.Lock()
		k.projects["p"] = newProjectKeys(k.projects["p"].keys, false) // force a reload
		k.mu.Unlock()
		if got := mustTerm(t, mustSeal(t, k, "p", nil, []byte("v"))); got != 2 {
			t.Errorf("Seal used term %d, want pending term 2", got)
		}
	})

	t.Run("stored key wins over a pending key of the same term", func(t *testing.T) {
		store := newFakeStore()
		k := mustKeyring(t, store, root)
		if _, err := k.NewProjectKey("p", 1); err != nil { // its transaction lost the race
			t.Fatal(err)
		}
		other := mustKeyring(t, store, root)
		mustAddProjectKey(t, other, store, "p", 1) // the winner
		ct := mustSeal(t, k, "p", nil, []byte("v"))
		if _, err := other.Open(ctx, "p", nil, ct); err != nil {
			t.Errorf("sealed with the unstored key: %v", err)
		}
	})
}

func TestConcurrentSealOpen(t *testing.T) {
	store := newFakeStore()
	root := mustKey(t)
	maker := mustKeyring(t, store, root)
	const projects = 8
	for p := range projects {
		for term := uint32(1); term <= 2; term++ {
			mustAddProjectKey(t, maker, store, fmt.Sprint("p", p), term)
		}
	}
	k := mustKeyring(t, store, root) // cold: the first uses race to load
	ctx := context.Background()

	var wg sync.WaitGroup
	for g := range 32 {
		wg.Go(func() {
			for i := range 50 {
				project := fmt.Sprint("p", (g+i)%projects)
				aad := SecretAAD(project, "env", fmt.Sprint("s", g), i, "value")
				pt := fmt.Appendf(nil, "value %d %d", g, i)
				ct, err := k.Seal(ctx, project, aad, pt)
				if err != nil {
					t.Errorf("Seal: %v", err)
					return
				}
				got, err := k.Open(ctx, project, aad, ct)
				if err != nil || !bytes.Equal(got, pt) {
					t.Errorf("Open: %q, %v", got, err)
					return
				}
				if i%10 == 0 {
					k.Forget(project)
				}
			}
		})
	}
	wg.Wait()
}
