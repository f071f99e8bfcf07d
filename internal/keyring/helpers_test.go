package keyring

import (
	"context"
	"slices"
	"sync"
	"testing"
)

// fakeStore is a KeyStore over a map. ProjectKeysFunc, when set, answers
// instead of the map. It counts calls per project.
type fakeStore struct {
	ProjectKeysFunc func(ctx context.Context, projectID string) ([]WrappedKey, error)

	mu    sync.Mutex
	keys  map[string][]WrappedKey
	calls map[string]int
}

func newFakeStore() *fakeStore {
	return &fakeStore{keys: make(map[string][]WrappedKey), calls: make(map[string]int)}
}

func (s *fakeStore) ProjectKeys(ctx context.Context, projectID string) ([]WrappedKey, error) {
	s.mu.Lock()
	s.calls[projectID]++
	fn, keys := s.ProjectKeysFunc, slices.Clone(s.keys[projectID])
	s.mu.Unlock()
	if fn != nil {
		return fn(ctx, projectID)
	}
	return keys, nil
}

func (s *fakeStore) put(ws ...WrappedKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range ws {
		s.keys[w.ProjectID] = append(s.keys[w.ProjectID], w)
	}
}

func (s *fakeStore) callCount(projectID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[projectID]
}

// countingReader yields next, next+1, next+2, ... so tests know every
// "random" byte.
type countingReader struct{ next byte }

func (r *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.next
		r.next++
	}
	return len(p), nil
}

func mustKey(tb testing.TB) []byte {
	tb.Helper()
	key, err := GenerateKey()
	if err != nil {
		tb.Fatal(err)
	}
	return key
}

func mustKeyring(tb testing.TB, store KeyStore, roots ...[]byte) *Keyring {
	tb.Helper()
	k, err := New(store, roots...)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// mustAddProjectKey makes a data key with k and stores it, as a service
// would in its transaction.
func mustAddProjectKey(tb testing.TB, k *Keyring, store *fakeStore, projectID string, term uint32) WrappedKey {
	tb.Helper()
	w, err := k.NewProjectKey(projectID, term)
	if err != nil {
		tb.Fatal(err)
	}
	store.put(w)
	return w
}

func mustSeal(tb testing.TB, k *Keyring, projectID string, aad, plaintext []byte) []byte {
	tb.Helper()
	ct, err := k.Seal(context.Background(), projectID, aad, plaintext)
	if err != nil {
		tb.Fatalf("Seal(%q): %v", projectID, err)
	}
	return ct
}

func mustOpen(tb testing.TB, k *Keyring, projectID string, aad, ciphertext []byte) []byte {
	tb.Helper()
	pt, err := k.Open(context.Background(), projectID, aad, ciphertext)
	if err != nil {
		tb.Fatalf("Open(%q): %v", projectID, err)
	}
	return pt
}

func mustTerm(tb testing.TB, ciphertext []byte) uint32 {
	tb.Helper()
	term, err := Term(ciphertext)
	if err != nil {
		tb.Fatal(err)
	}
	return term
}
