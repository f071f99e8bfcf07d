package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// clock is a test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestMemoryWindow(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	m := NewMemory(100, c.Now)
	for want := int64(1); want <= 3; want++ {
		if n, err := m.Incr(ctx, "k", time.Minute); err != nil || n != want {
			t.Fatalf("Incr = %d, %v; want %d", n, err, want)
		}
		c.Advance(10 * time.Second)
	}
	if d, _ := m.TTL(ctx, "k"); d != 30*time.Second {
		t.Errorf("TTL = %v, want 30s (the window runs from the first increment)", d)
	}
	c.Advance(30 * time.Second)
	if d, _ := m.TTL(ctx, "k"); d != 0 {
		t.Errorf("TTL after the window = %v, want 0", d)
	}
	if n, _ := m.Incr(ctx, "k", time.Minute); n != 1 {
		t.Errorf("Incr after the window = %d, want a new count of 1", n)
	}
	m.Del(ctx, "k")
	if d, _ := m.TTL(ctx, "k"); d != 0 {
		t.Errorf("TTL after Del = %v, want 0", d)
	}
	if n, _ := m.Incr(ctx, "k", time.Minute); n != 1 {
		t.Errorf("Incr after Del = %d, want 1", n)
	}
}

// TestMemoryBounded: a flood of keys never grows the table past its bound, expired counters
// make room first, and a live counter survives a flood smaller than the bound.
func TestMemoryBounded(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	const bound = 64 * memShards
	m := NewMemory(bound, c.Now)
	for i := range 10 * bound {
		m.Incr(ctx, fmt.Sprint("flood-", i), time.Minute)
	}
	if n := m.Len(); n > bound {
		t.Fatalf("%d counters held, bound %d", n, bound)
	}
	c.Advance(2 * time.Minute) // every flood counter has expired
	for range 3 {
		m.Incr(ctx, "victim", time.Hour)
	}
	for i := range bound / 4 {
		m.Incr(ctx, fmt.Sprint("more-", i), time.Minute)
	}
	if n, _ := m.Incr(ctx, "victim", time.Hour); n != 4 {
		t.Errorf("victim count = %d, want 4: expired counters should have made room", n)
	}
	if n := m.Len(); n > bound {
		t.Errorf("%d counters held, bound %d", n, bound)
	}
}

func TestMemoryConcurrent(t *testing.T) {
	ctx := context.Background()
	m := NewMemory(1000, nil)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { m.Incr(ctx, "shared", time.Minute) })
	}
	wg.Wait()
	if n, _ := m.Incr(ctx, "shared", time.Minute); n != 51 {
		t.Errorf("count = %d, want 51", n)
	}
}
