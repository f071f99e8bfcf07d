// Package cache keeps what a node read from the database (authorization grants, access-token
// records, rendered secret listings) in process memory, bounded, and invalidated exactly.
//
// Exactness rests on revisions kept by the database (migrations 00002 and 00009): every write
// that can change a project's reads bumps projects.revision, every write that can change an
// authorization in an organization bumps organizations.revision, and (PostgreSQL) each bump
// also bumps one database-wide revision. An entry remembers the revisions it was built at and
// the epoch at which they were last confirmed:
//   - SQLite is served by one process: the epoch counts its commits (Changed), so an entry
//     nobody wrote to since it was confirmed is served without any query;
//   - PostgreSQL is shared by nodes: the epoch is the database-wide revision, read once per
//     round of concurrent requests and always after each of them arrived, so a write committed
//     on any node before a request began is seen by it, and an entry is served without another
//     query when nothing at all changed since it was confirmed.
//
// An entry whose epoch is stale is confirmed with one indexed query of its two revisions, and
// dropped when they moved.
//
// Values are whatever the callers store: rendered listings hold plaintext, so the cache lives in
// this process only, is bounded in bytes, and is never written to disk, Redis or logs.
package cache

import (
	"container/list"
	"context"
	"sync"
	"sync/atomic"
)

// Revisions is what the cache needs from the store: revisions read from the newest committed
// data (the primary, never a replica).
type Revisions interface {
	ProjectRevisions(ctx context.Context, projectID string) (project, org int64, err error)
	OrgRevision(ctx context.Context, orgID string) (int64, error)
}

// Epoch says how the cache learns that the database may have changed: New's default counts
// the changes this process reports through Changed (one process owns the database: SQLite);
// Polled reads a database-wide revision instead (several nodes share it: PostgreSQL).
type Epoch func(ctx context.Context) (int64, error)

// Cache is safe for concurrent use. The zero value is not usable: call New.
type Cache struct {
	revs     Revisions
	maxBytes int64

	epoch atomic.Uint64 // local changes counted by Changed
	poll  *poller       // nil: the epoch is the local count

	mu       sync.Mutex
	lru      *list.List // of *Project, most recently used first
	projects map[string]*list.Element
	bytes    int64 // sum of the projects' sizes

	tmu    sync.Mutex
	tokens map[[32]byte]*tokenEntry

	stats Stats
}

// Stats counts what the cache did, for metrics and tests.
type Stats struct {
	Hits, Confirms, Misses, Evictions atomic.Int64
}

// maxTokens bounds the token map; when full it is emptied (tokens reload in one query each).
const maxTokens = 1 << 16

// New returns an empty cache of at most maxBytes of values (0: caching disabled: every lookup
// misses and nothing is stored) for a database that only this process writes: it learns of
// every change through Changed, and an entry nobody changed since it was confirmed costs no
// query at all.
func New(revs Revisions, maxBytes int64) *Cache {
	return &Cache{revs: revs, maxBytes: maxBytes, lru: list.New(), projects: map[string]*list.Element{},
		tokens: map[[32]byte]*tokenEntry{}}
}

// NewPolled is New for a database that other nodes write too: each use first reads the
// database-wide revision with global (one read shared by the requests of a round, each read
// made after every request it serves arrived), and an entry confirmed at that revision is
// served without another query. A write committed before a request began is always seen.
func NewPolled(revs Revisions, maxBytes int64, global func(ctx context.Context) (int64, error)) *Cache {
	c := New(revs, maxBytes)
	c.poll = &poller{read: global}
	return c
}

// Changed records that this process committed a change: every entry is confirmed again before
// its next use. Call it after each local commit (a polled cache does not need it).
func (c *Cache) Changed() { c.epoch.Add(1) }

// current returns the epoch to compare entries with: read after the call began.
func (c *Cache) current(ctx context.Context) (uint64, error) {
	if c.poll == nil {
		return c.epoch.Load(), nil
	}
	v, err := c.poll.get(ctx)
	return uint64(v), err
}

// Stats returns the cache's counters.
func (c *Cache) Stats() *Stats { return &c.stats }

// Enabled reports whether the cache stores anything.
func (c *Cache) Enabled() bool { return c != nil && c.maxBytes > 0 }

// confirm raises *checked to epoch e (never lowers it: a slower confirmation that started at an
// older epoch must not make a newer one look stale, nor an older one look fresh).
func confirm(checked *atomic.Uint64, e uint64) {
	for {
		old := checked.Load()
		if old >= e || checked.CompareAndSwap(old, e) {
			return
		}
	}
}

// Project is the cached state of one project: values built at one revision of the project and
// of its organization.
type Project struct {
	ID      string
	rev     int64 // projects.revision the values were built at
	orgRev  int64 // organizations.revision the values were built at
	checked atomic.Uint64

	mu    sync.RWMutex
	items map[string]item
	size  int64
}

type item struct {
	v    any
	size int64
}

// Project returns the entry of a project, valid now: a value got from it was built from data
// at least as new as every write committed before this call. It costs no query of its own when
// nothing changed since the entry was last confirmed, one query otherwise.
// A project that does not exist is the store's ENOTFOUND error. On a disabled cache it returns
// an entry that holds nothing.
func (c *Cache) Project(ctx context.Context, projectID string) (*Project, error) {
	if !c.Enabled() {
		return &Project{ID: projectID}, nil
	}
	c.mu.Lock()
	el, ok := c.projects[projectID]
	var p *Project
	if ok {
		p = el.Value.(*Project)
		c.lru.MoveToFront(el)
	}
	c.mu.Unlock()
	// The epoch is read before the revisions: a change committed after this read advances the
	// epoch past e, so an entry confirmed at e is checked again at its next use.
	e, err := c.current(ctx)
	if err != nil {
		return nil, err
	}
	if p != nil && p.checked.Load() >= e { // confirmed at e or later: nothing changed since we began
		c.stats.Hits.Add(1)
		return p, nil
	}
	rev, orgRev, err := c.revs.ProjectRevisions(ctx, projectID)
	if err != nil {
		if p != nil {
			c.drop(p)
		}
		return nil, err
	}
	if p != nil && p.rev == rev && p.orgRev == orgRev {
		confirm(&p.checked, e)
		c.stats.Confirms.Add(1)
		return p, nil
	}
	c.stats.Misses.Add(1)
	np := &Project{ID: projectID, rev: rev, orgRev: orgRev, items: map[string]item{}}
	np.checked.Store(e)
	c.mu.Lock()
	if el, ok := c.projects[projectID]; ok {
		cur := el.Value.(*Project)
		if cur != p && cur.rev == rev && cur.orgRev == orgRev {
			// Another request rebuilt it meanwhile at the same revisions: share its values.
			c.lru.MoveToFront(el)
			c.mu.Unlock()
			confirm(&cur.checked, e)
			return cur, nil
		}
		c.removeLocked(el)
	}
	c.projects[projectID] = c.lru.PushFront(np)
	c.mu.Unlock()
	return np, nil
}

// Revisions returns the project's and its organization's revisions the entry's values were
// built at.
func (p *Project) Revisions() (project, org int64) { return p.rev, p.orgRev }

// Get returns the value stored under key.
func (p *Project) Get(key string) (any, bool) {
	if p.items == nil {
		return nil, false
	}
	p.mu.RLock()
	it, ok := p.items[key]
	p.mu.RUnlock()
	return it.v, ok
}

// Put stores v under key in the project's entry of c, counting size bytes against the cache's
// bound. Callers must have built v from data read after they got p from c.Project.
func (c *Cache) Put(p *Project, key string, v any, size int64) {
	if !c.Enabled() || p.items == nil || size > c.maxBytes/4 {
		return
	}
	p.mu.Lock()
	old := p.items[key]
	p.items[key] = item{v: v, size: size}
	p.size += size - old.size
	p.mu.Unlock()

	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.projects[p.ID]; !ok || el.Value.(*Project) != p {
		// Replaced or evicted meanwhile: its values are no longer reachable.
		return
	}
	c.bytes += size - old.size
	for c.bytes > c.maxBytes && c.lru.Len() > 1 {
		c.removeLocked(c.lru.Back())
		c.stats.Evictions.Add(1)
	}
}

func (c *Cache) drop(p *Project) {
	c.mu.Lock()
	if el, ok := c.projects[p.ID]; ok && el.Value.(*Project) == p {
		c.removeLocked(el)
	}
	c.mu.Unlock()
}

// removeLocked unlinks a project entry; c.mu is held.
func (c *Cache) removeLocked(el *list.Element) {
	p := el.Value.(*Project)
	c.lru.Remove(el)
	delete(c.projects, p.ID)
	p.mu.RLock()
	c.bytes -= p.size
	p.mu.RUnlock()
}

// Bytes returns the size of the values held.
func (c *Cache) Bytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

type tokenEntry struct {
	orgID   string
	orgRev  int64
	v       any
	checked atomic.Uint64
}

// TokenLoader loads what is cached for an access token, with its organization and that
// organization's revision read in the same query (so that the value is no older than the
// revision).
type TokenLoader func(ctx context.Context) (v any, orgID string, orgRev int64, err error)

// Token returns the value cached under key (a digest of an access token, never the token
// itself), confirming it against its organization's revision, or loads it with load. Errors
// of load are returned as they are and nothing is stored.
func (c *Cache) Token(ctx context.Context, key [32]byte, load TokenLoader) (any, error) {
	if !c.Enabled() {
		v, _, _, err := load(ctx)
		return v, err
	}
	c.tmu.Lock()
	t := c.tokens[key]
	c.tmu.Unlock()
	e, err := c.current(ctx)
	if err != nil {
		return nil, err
	}
	if t != nil {
		if t.checked.Load() >= e {
			c.stats.Hits.Add(1)
			return t.v, nil
		}
		rev, err := c.revs.OrgRevision(ctx, t.orgID)
		if err == nil && rev == t.orgRev {
			confirm(&t.checked, e)
			c.stats.Confirms.Add(1)
			return t.v, nil
		}
	}
	c.stats.Misses.Add(1)
	v, orgID, orgRev, err := load(ctx)
	c.tmu.Lock()
	defer c.tmu.Unlock()
	if err != nil {
		delete(c.tokens, key)
		return nil, err
	}
	if len(c.tokens) >= maxTokens {
		clear(c.tokens)
	}
	nt := &tokenEntry{orgID: orgID, orgRev: orgRev, v: v}
	nt.checked.Store(e)
	c.tokens[key] = nt
	return v, nil
}
