package cache

import (
	"context"
	"sync"
	"time"
)

// poller reads the database-wide revision for the requests of a round: a request that arrives
// while a read is in flight (which may have started before it arrived) waits for the next
// read, which starts when that one ends, so every request uses a value read after it arrived,
// and concurrent requests share reads instead of each making its own.
type poller struct {
	read func(ctx context.Context) (int64, error)

	mu       sync.Mutex
	inflight bool
	next     *round // the round that starts when the one in flight ends; nil until someone waits
}

type round struct {
	done    chan struct{}
	val     int64
	err     error
	waiters int // requests that joined it (for tests)
}

// pollTimeout bounds one read of the revision.
const pollTimeout = 5 * time.Second

// get returns the revision, read after the call began.
func (p *poller) get(ctx context.Context) (int64, error) {
	p.mu.Lock()
	if !p.inflight {
		p.inflight = true
		p.mu.Unlock()
		r := &round{done: make(chan struct{})}
		p.run(r) // this request reads for itself (and for whoever arrives meanwhile, next round)
		return r.val, r.err
	}
	if p.next == nil {
		p.next = &round{done: make(chan struct{})}
	}
	r := p.next
	r.waiters++
	p.mu.Unlock()
	select {
	case <-r.done:
		return r.val, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// run reads the revision for r, then hands over to the next round, if anyone waits for one, in
// a goroutine of its own (the caller has its own request to finish).
func (p *poller) run(r *round) {
	ctx, cancel := context.WithTimeout(context.Background(), pollTimeout)
	r.val, r.err = p.read(ctx)
	cancel()
	close(r.done)
	p.mu.Lock()
	next := p.next
	p.next = nil
	p.inflight = next != nil
	p.mu.Unlock()
	if next != nil {
		go p.run(next)
	}
}

// waiting returns how many requests wait for the next round (for tests).
func (p *poller) waiting() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.next != nil {
		return p.next.waiters
	}
	return 0
}
