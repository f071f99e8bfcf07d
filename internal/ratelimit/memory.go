package ratelimit

import (
	"context"
	"hash/maphash"
	"sync"
	"time"
)

// memShards is the number of independently locked parts of a Memory.
const memShards = 16

// evictSample is how many entries a full shard looks at to choose the one to evict.
const evictSample = 8

// Memory is a Limiter in process, bounded to a number of keys. Expired counters are dropped
// when a full shard needs room; when none has expired, the one nearest its expiry among a few
// sampled goes (an attacker who floods the table with keys can make it forget a counter early,
// never grow it).
type Memory struct {
	now    func() time.Time
	max    int // keys per shard
	seed   maphash.Seed
	shards [memShards]memShard
}

type memShard struct {
	mu sync.Mutex
	m  map[string]memEntry
}

type memEntry struct {
	n   int64
	exp time.Time
}

// NewMemory returns a Memory that holds at most maxKeys counters (at least memShards) and
// reads the time from now (time.Now when nil).
func NewMemory(maxKeys int, now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	m := &Memory{now: now, max: max(maxKeys/memShards, 1), seed: maphash.MakeSeed()}
	for i := range m.shards {
		m.shards[i].m = make(map[string]memEntry)
	}
	return m
}

func (m *Memory) shard(key string) *memShard {
	return &m.shards[maphash.String(m.seed, key)%memShards]
}

// Incr implements Limiter; it never fails.
func (m *Memory) Incr(_ context.Context, key string, window time.Duration) (int64, error) {
	now := m.now()
	s := m.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[key]
	if ok && now.Before(e.exp) {
		e.n++
		s.m[key] = e
		return e.n, nil
	}
	if !ok && len(s.m) >= m.max {
		s.makeRoom(now)
	}
	s.m[key] = memEntry{n: 1, exp: now.Add(window)}
	return 1, nil
}

// makeRoom drops every expired entry or, when none has, the sampled one nearest its expiry.
func (s *memShard) makeRoom(now time.Time) {
	before := len(s.m)
	for k, e := range s.m {
		if !now.Before(e.exp) {
			delete(s.m, k)
		}
	}
	if len(s.m) < before {
		return
	}
	var victim string
	var soonest time.Time
	i := 0
	for k, e := range s.m { // map order is random: a sample
		if i == 0 || e.exp.Before(soonest) {
			victim, soonest = k, e.exp
		}
		if i++; i == evictSample {
			break
		}
	}
	delete(s.m, victim)
}

// TTL implements Limiter; it never fails.
func (m *Memory) TTL(_ context.Context, key string) (time.Duration, error) {
	now := m.now()
	s := m.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[key]
	if !ok || !now.Before(e.exp) {
		return 0, nil
	}
	return e.exp.Sub(now), nil
}

// Del implements Limiter; it never fails.
func (m *Memory) Del(_ context.Context, keys ...string) error {
	for _, k := range keys {
		s := m.shard(k)
		s.mu.Lock()
		delete(s.m, k)
		s.mu.Unlock()
	}
	return nil
}

// Len returns how many counters are held (expired ones included until dropped).
func (m *Memory) Len() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}
