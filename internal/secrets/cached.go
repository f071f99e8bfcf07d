package secrets

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/cache"
	"github.com/cofferhq/coffer/internal/store"
)

// UseCache makes ListRendered keep rendered listings in c (see internal/cache). Call it before
// use.
func (s *Service) UseCache(c *cache.Cache) { s.cache = c }

// Renderer turns a listing into the bytes sent (the encoded response body).
type Renderer func(*Listing) ([]byte, error)

// Rendered is a listing as sent: its bytes and a digest of them (hex of the first 16 bytes of
// their SHA-256, an entity tag). It is shared: never modify Data.
type Rendered struct {
	Data []byte
	Sum  string
}

func newRendered(data []byte) *Rendered {
	sum := sha256.Sum256(data)
	return &Rendered{Data: data, Sum: hex.EncodeToString(sum[:16])}
}

// cachedListing is a rendered listing with the keys it hands out, so that a read answered from
// a cache is audited like any other.
type cachedListing struct {
	r    *Rendered
	keys []string
}

// SharedCache is a cache shared by the nodes (Redis): it may lose anything, fail, or hold what
// another node put. It only ever receives values sealed with the project's key.
type SharedCache interface {
	Get(ctx context.Context, key string) ([]byte, bool)
	Set(ctx context.Context, key string, v []byte, ttl time.Duration)
}

// sharedTTL bounds how long a sealed listing stays in the shared cache; its key names the
// revisions it was built at, so it is never served stale, only left to expire.
const sharedTTL = 10 * time.Minute

// UseSharedCache makes ListRendered look in, and fill, c after a miss of its own cache. Call
// it before use.
func (s *Service) UseSharedCache(c SharedCache) { s.shared = c }

// ListRendered is List followed by render, with the rendering kept in the cache: an identical
// request (same input, same variant of rendering, same role, same owner of personal secrets)
// made before the project or its organization changes again is answered from memory, or from
// the shared cache, sealed there with the project's key. Authorization is decided, and the read
// audited, for every call, as for List.
func (s *Service) ListRendered(ctx context.Context, in ListInput, variant string, render Renderer) (*Rendered, error) {
	l, err := s.locate(ctx, in.Scope)
	if err != nil {
		return nil, err
	}
	if err := l.grant.Require(authz.Read, authz.Secrets, l.env.Slug, l.path); err != nil {
		return nil, err
	}
	if !s.cache.Enabled() {
		listing, err := s.list(ctx, in, l)
		if err != nil {
			return nil, err
		}
		if err := s.recordList(ctx, l, in, listingKeys(listing)); err != nil {
			return nil, err
		}
		data, err := render(listing)
		if err != nil {
			return nil, err
		}
		return newRendered(data), nil
	}
	// The entry is confirmed before the listing is read, so a value put in it is never older
	// than the revisions it is filed under.
	pe, err := s.cache.Project(ctx, l.grant.Project.ID)
	if err != nil {
		return nil, err
	}
	key := listKey(in, l, variant)
	cl, ok := s.cachedListing(ctx, pe, key)
	if !ok {
		// Read from the primary: a replica may lag behind the revisions of the entry.
		listing, err := s.list(store.Primary(ctx), in, l)
		if err != nil {
			return nil, err
		}
		data, err := render(listing)
		if err != nil {
			return nil, err
		}
		cl = &cachedListing{r: newRendered(data), keys: listingKeys(listing)}
		s.cache.Put(pe, key, cl, cl.size(key))
		s.shareListing(ctx, pe, key, cl)
	}
	if err := s.recordList(ctx, l, in, cl.keys); err != nil {
		return nil, err
	}
	return cl.r, nil
}

func (cl *cachedListing) size(key string) int64 {
	n := int64(len(cl.r.Data) + len(cl.r.Sum) + len(key) + 64)
	for _, k := range cl.keys {
		n += int64(len(k)) + 16
	}
	return n
}

// cachedListing looks for a listing in this node's cache, then in the shared one.
func (s *Service) cachedListing(ctx context.Context, pe *cache.Project, key string) (*cachedListing, bool) {
	if v, ok := pe.Get(key); ok {
		return v.(*cachedListing), true
	}
	if s.shared == nil {
		return nil, false
	}
	skey := sharedKey(pe, key)
	sealed, ok := s.shared.Get(ctx, skey)
	if !ok {
		return nil, false
	}
	payload, err := s.keys.Open(ctx, pe.ID, []byte(skey), sealed)
	if err != nil {
		return nil, false // not ours, or tampered with: a miss
	}
	cl, ok := decodeListing(payload)
	if !ok {
		return nil, false
	}
	s.cache.Put(pe, key, cl, cl.size(key))
	return cl, true
}

// shareListing puts a listing in the shared cache, sealed with the project's key and bound to
// its cache key.
func (s *Service) shareListing(ctx context.Context, pe *cache.Project, key string, cl *cachedListing) {
	if s.shared == nil {
		return
	}
	// With the project's current key term as the database has it, not as this node's keyring
	// last loaded it: after a rotation no node shares a listing sealed with the older key.
	term, err := s.db.KeyTerm(ctx, pe.ID)
	if err != nil {
		return
	}
	skey := sharedKey(pe, key)
	sealed, err := s.keys.SealTerm(ctx, pe.ID, term, []byte(skey), encodeListing(cl))
	if err != nil {
		return
	}
	s.shared.Set(ctx, skey, sealed, sharedTTL)
}

// sharedKey names a listing in the shared cache by project, the revisions it was built at and
// a digest of what it depends on (which may name a user).
func sharedKey(pe *cache.Project, key string) string {
	rev, orgRev := pe.Revisions()
	sum := sha256.Sum256([]byte(key))
	return "coffer:listing:v1:" + pe.ID + ":" + strconv.FormatInt(rev, 10) + ":" + strconv.FormatInt(orgRev, 10) + ":" + hex.EncodeToString(sum[:16])
}

// encodeListing lays a cached listing out as: uvarint count of keys, each key as uvarint length
// and bytes, then the rendered bytes.
func encodeListing(cl *cachedListing) []byte {
	b := binary.AppendUvarint(nil, uint64(len(cl.keys)))
	for _, k := range cl.keys {
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
	}
	return append(b, cl.r.Data...)
}

func decodeListing(b []byte) (*cachedListing, bool) {
	n, w := binary.Uvarint(b)
	if w <= 0 || n > uint64(len(b)) {
		return nil, false
	}
	b = b[w:]
	keys := make([]string, 0, n)
	for range n {
		l, w := binary.Uvarint(b)
		if w <= 0 || l > uint64(len(b)-w) {
			return nil, false
		}
		keys = append(keys, string(b[w:w+int(l)]))
		b = b[w+int(l):]
	}
	return &cachedListing{r: newRendered(b), keys: keys}, true
}

// listKey names everything a listing depends on besides the project's data: the located scope,
// the options, the rendering, the role that authorized it and, when personal secrets are
// listed, whose.
func listKey(in ListInput, l *located, variant string) string {
	var b strings.Builder
	b.Grow(128)
	for _, part := range []string{"list", variant, l.env.Slug, l.path, l.grant.Key(),
		strconv.FormatBool(in.Recursive), strconv.FormatBool(in.Expand), strconv.FormatBool(in.IncludeImports),
		strconv.Itoa(int(in.Personal)), strings.Join(in.TagSlugs, ",")} {
		b.WriteString(part)
		b.WriteByte(0)
	}
	if in.Personal != PersonalNone {
		b.WriteString(actorUserID(l.grant.Actor))
	}
	return b.String()
}
