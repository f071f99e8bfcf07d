package cache

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// fakeRevs is a Revisions whose numbers the test sets, counting the queries made.
type fakeRevs struct {
	mu      sync.Mutex
	project map[string][2]int64
	org     map[string]int64
	queries atomic.Int64
}

var errMissing = errors.New("missing")

func (f *fakeRevs) ProjectRevisions(_ context.Context, id string) (int64, int64, error) {
	f.queries.Add(1)
	f.mu.Lock()
	r, ok := f.project[id]
	f.mu.Unlock()
	runtime.Gosched() // as a real query would, let writers run between the read and its use
	if !ok {
		return 0, 0, errMissing
	}
	return r[0], r[1], nil
}

func (f *fakeRevs) OrgRevision(_ context.Context, id string) (int64, error) {
	f.queries.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.org[id]
	if !ok {
		return 0, errMissing
	}
	return r, nil
}

func (f *fakeRevs) set(id string, rev, orgRev int64) {
	f.mu.Lock()
	f.project[id] = [2]int64{rev, orgRev}
	f.mu.Unlock()
}

func newFake() *fakeRevs {
	return &fakeRevs{project: map[string][2]int64{"p": {1, 1}, "q": {1, 1}}, org: map[string]int64{"o": 1}}
}

func get(t *testing.T, c *Cache, id, key string) (any, bool) {
	t.Helper()
	p, err := c.Project(context.Background(), id)
	if err != nil {
		t.Fatalf("Project(%s): %v", id, err)
	}
	return p.Get(key)
}

func put(t *testing.T, c *Cache, id, key string, v any, size int64) {
	t.Helper()
	p, err := c.Project(context.Background(), id)
	if err != nil {
		t.Fatalf("Project(%s): %v", id, err)
	}
	c.Put(p, key, v, size)
}

func TestTrustedHitCostsNoQuery(t *testing.T) {
	f := newFake()
	c := New(f, 1<<20)
	put(t, c, "p", "k", "v1", 10)
	before := f.queries.Load()
	for range 100 {
		if v, ok := get(t, c, "p", "k"); !ok || v != "v1" {
			t.Fatalf("got %v, %v; want v1", v, ok)
		}
	}
	if n := f.queries.Load() - before; n != 0 {
		t.Errorf("100 trusted hits made %d queries, want 0", n)
	}
}

func TestChangeConfirmsOnceAndKeepsUnchangedEntries(t *testing.T) {
	f := newFake()
	c := New(f, 1<<20)
	put(t, c, "p", "k", "v1", 10)
	c.Changed() // a write somewhere, not to p
	before := f.queries.Load()
	for range 10 {
		if v, ok := get(t, c, "p", "k"); !ok || v != "v1" {
			t.Fatalf("after an unrelated change: got %v, %v; want v1", v, ok)
		}
	}
	if n := f.queries.Load() - before; n != 1 {
		t.Errorf("confirming after a change took %d queries, want 1", n)
	}
}

func TestRevisionMoveDropsEntry(t *testing.T) {
	for _, tc := range []struct {
		name        string
		rev, orgRev int64
	}{{"project", 2, 1}, {"organization", 1, 2}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			c := New(f, 1<<20)
			put(t, c, "p", "k", "v1", 10)
			put(t, c, "q", "k", "q1", 10)
			f.set("p", tc.rev, tc.orgRev)
			c.Changed()
			if v, ok := get(t, c, "p", "k"); ok {
				t.Fatalf("after %s revision moved: got %v from the cache", tc.name, v)
			}
			if v, ok := get(t, c, "q", "k"); !ok || v != "q1" {
				t.Errorf("other project: got %v, %v; want q1", v, ok)
			}
		})
	}
}

// polledFake is a database-wide revision the test moves, counting its reads.
type polledFake struct {
	rev   atomic.Int64
	reads atomic.Int64
}

func (g *polledFake) read(context.Context) (int64, error) {
	g.reads.Add(1)
	runtime.Gosched()
	return g.rev.Load(), nil
}

func TestPolledSeesOtherNodesWrites(t *testing.T) {
	f := newFake()
	g := &polledFake{}
	c := NewPolled(f, 1<<20, g.read)
	put(t, c, "p", "k", "v1", 10)
	before := f.queries.Load()
	if v, ok := get(t, c, "p", "k"); !ok || v != "v1" {
		t.Fatalf("got %v, %v; want v1", v, ok)
	}
	if n := f.queries.Load() - before; n != 0 {
		t.Errorf("a hit with nothing changed made %d revision queries, want 0", n)
	}
	// Another node writes p: the project revision and the global one move; nobody calls Changed.
	f.set("p", 2, 1)
	g.rev.Add(1)
	if v, ok := get(t, c, "p", "k"); ok {
		t.Fatalf("served %v after another node's committed write", v)
	}
	// Another node writes elsewhere: p is confirmed with one query and kept.
	put(t, c, "p", "k", "v2", 10)
	g.rev.Add(1)
	before = f.queries.Load()
	if v, ok := get(t, c, "p", "k"); !ok || v != "v2" {
		t.Fatalf("after an unrelated write: got %v, %v; want v2", v, ok)
	}
	if n := f.queries.Load() - before; n != 1 {
		t.Errorf("confirming after an unrelated write took %d queries, want 1", n)
	}
}

func TestPollerSharesReadsAndNeverUsesOneStartedBeforeArrival(t *testing.T) {
	g := &polledFake{}
	var inRead sync.WaitGroup
	release := make(chan struct{})
	block := true
	var mu sync.Mutex
	p := &poller{read: func(ctx context.Context) (int64, error) {
		mu.Lock()
		b := block
		mu.Unlock()
		if b {
			inRead.Done()
			<-release
		}
		return g.read(ctx)
	}}
	inRead.Add(1)
	first := make(chan int64)
	go func() { v, _ := p.get(context.Background()); first <- v }()
	inRead.Wait() // the first read is in flight, at revision 0...
	g.rev.Store(5)
	mu.Lock()
	block = false
	mu.Unlock()
	// ...when 50 requests arrive: none may use it; they share the next read.
	var wg sync.WaitGroup
	got := make([]int64, 50)
	for i := range got {
		wg.Add(1)
		go func() { defer wg.Done(); got[i], _ = p.get(context.Background()) }()
	}
	for p.waiting() < len(got) {
		runtime.Gosched()
	}
	close(release)
	<-first // it started before the write; whatever it read is its own business
	wg.Wait()
	for i, v := range got {
		if v != 5 {
			t.Fatalf("request %d got revision %d, read before it arrived; want 5", i, v)
		}
	}
	if n := g.reads.Load(); n != 2 {
		t.Errorf("the first request and 50 that arrived during its read made %d reads; want 2 (one shared round)", n)
	}
}

func TestMissingProjectIsAnErrorAndForgotten(t *testing.T) {
	f := newFake()
	c := New(f, 1<<20)
	put(t, c, "p", "k", "v1", 10)
	f.mu.Lock()
	delete(f.project, "p")
	f.mu.Unlock()
	c.Changed()
	if _, err := c.Project(context.Background(), "p"); !errors.Is(err, errMissing) {
		t.Fatalf("deleted project: err = %v, want the store's error", err)
	}
	if c.Bytes() != 0 {
		t.Errorf("deleted project still holds %d bytes", c.Bytes())
	}
}

func TestBoundEvictsLeastRecentlyUsed(t *testing.T) {
	f := newFake()
	f.project["r"] = [2]int64{1, 1}
	c := New(f, 100)
	put(t, c, "p", "k", "p", 20)
	put(t, c, "q", "k", "q", 20)
	get(t, c, "p", "k") // p is now more recent than q
	put(t, c, "r", "k", "r", 20)
	put(t, c, "r", "k2", "r2", 20)
	put(t, c, "r", "k3", "r3", 20) // 100 bytes: still fits
	if c.Bytes() > 100 {
		t.Fatalf("cache holds %d bytes, bound 100", c.Bytes())
	}
	put(t, c, "r", "k4", "r4", 20) // over: q goes first
	if c.Bytes() > 100 {
		t.Fatalf("cache holds %d bytes, bound 100", c.Bytes())
	}
	if _, ok := get(t, c, "q", "k"); ok {
		t.Error("q, the least recently used, was not evicted")
	}
	if c.Stats().Evictions.Load() == 0 {
		t.Error("no eviction counted")
	}
	put(t, c, "p", "huge", "x", 1000) // larger than a quarter of the bound: not kept
	if _, ok := get(t, c, "p", "huge"); ok {
		t.Error("a value larger than a quarter of the bound was kept")
	}
}

func TestDisabledCacheStoresNothing(t *testing.T) {
	f := newFake()
	c := New(f, 0)
	put(t, c, "p", "k", "v", 1)
	if _, ok := get(t, c, "p", "k"); ok {
		t.Fatal("a disabled cache returned a value")
	}
	loads := 0
	for range 3 {
		if _, err := c.Token(context.Background(), [32]byte{1}, func(context.Context) (any, string, int64, error) {
			loads++
			return "rec", "o", 1, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if loads != 3 {
		t.Errorf("disabled cache: %d token loads for 3 uses, want 3", loads)
	}
}

func TestTokenConfirmedByOrgRevision(t *testing.T) {
	f := newFake()
	c := New(f, 1<<20)
	loads := 0
	load := func(context.Context) (any, string, int64, error) {
		loads++
		f.mu.Lock()
		defer f.mu.Unlock()
		return loads, "o", f.org["o"], nil
	}
	key := [32]byte{7}
	use := func() any {
		t.Helper()
		v, err := c.Token(context.Background(), key, load)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	use()
	use()
	if loads != 1 {
		t.Fatalf("%d loads for two trusted uses, want 1", loads)
	}
	c.Changed() // unrelated write: confirmed, not reloaded
	use()
	if loads != 1 {
		t.Fatalf("%d loads after an unrelated change, want 1", loads)
	}
	f.mu.Lock()
	f.org["o"] = 2 // a revocation in the organization
	f.mu.Unlock()
	c.Changed()
	if v := use(); v != 2 || loads != 2 {
		t.Fatalf("after the org revision moved: value %v, %d loads; want a reload", v, loads)
	}
	// A failed load is returned and not cached.
	fail := errors.New("gone")
	if _, err := c.Token(context.Background(), [32]byte{8}, func(context.Context) (any, string, int64, error) {
		return nil, "", 0, fail
	}); !errors.Is(err, fail) {
		t.Fatalf("failed load: err = %v", err)
	}
}

// TestConcurrentUseIsExact hammers one project with readers while a writer moves its revision:
// a reader that starts after a write returns must never see a value older than that write.
func TestConcurrentUseIsExact(t *testing.T) {
	for _, polled := range []bool{false, true} {
		t.Run(map[bool]string{false: "local", true: "polled"}[polled], func(t *testing.T) { concurrentUse(t, polled) })
	}
}

func concurrentUse(t *testing.T, polled bool) {
	f := newFake()
	g := &polledFake{}
	c := New(f, 1<<20)
	if polled {
		c = NewPolled(f, 1<<20, g.read)
	}
	var committed atomic.Int64 // newest revision whose write has "returned"
	committed.Store(1)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				floor := committed.Load()
				p, err := c.Project(context.Background(), "p")
				if err != nil {
					t.Error(err)
					return
				}
				if v, ok := p.Get("k"); ok {
					if v.(int64) < floor {
						t.Errorf("read value built at revision %d after revision %d was committed", v, floor)
						return
					}
					continue
				}
				// Build the value from "the database", as a caller would, after getting p.
				f.mu.Lock()
				rev := f.project["p"][0]
				f.mu.Unlock()
				c.Put(p, "k", rev, 8)
			}
		}()
	}
	for rev := int64(2); rev < 1000; rev++ {
		f.set("p", rev, 1) // the write commits...
		if polled {
			g.rev.Add(1) // ...moving the global revision (another node wrote)...
		} else {
			c.Changed() // ...the commit hook runs...
		}
		committed.Store(rev)
		for range 50 { // ...and readers get time to see it.
			runtime.Gosched()
		}
	}
	close(stop)
	wg.Wait()
}
