// Package jobs runs Coffer's background work from the job table (internal/store): any node
// claims due jobs (FOR UPDATE SKIP LOCKED on PostgreSQL), holds each under a lease that it
// extends while the handler runs, and deletes the job when the handler succeeds. A failed job
// is retried with exponential backoff and jitter up to its MaxAttempts, then kept as dead with
// its last error. A job whose node died is claimed again once its lease ends, so handlers must
// be idempotent: a job runs at least once, and more than once only after a crash or a lease
// lost to a stall. Leases are read on each node's clock, so the nodes' clocks must agree to
// well within a lease.
//
// Periodic jobs (Schedule) run once per period across all nodes.
//
// Handlers must never put a secret in the error they return: the message is stored in the job
// table (truncated) and logged. Payloads are never logged; one that carries a secret (a reset
// link) is sealed with Sealed before it is enqueued and opened here before the handler runs.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/cofferhq/coffer/internal/keyring"
	"github.com/cofferhq/coffer/internal/store"
)

// Handler runs one job. A nil error deletes the job; an error retries it later (Permanent:
// never). ctx is cancelled when the node shuts down past its grace period or loses the lease.
type Handler func(ctx context.Context, j store.Job) error

// Options tune a Worker. Zero values take the defaults.
type Options struct {
	// Node names this worker in the job table (locked_by); hostname-pid-random when empty.
	Node string
	// Concurrency is how many jobs run at once on this node (COFFER_JOBS_CONCURRENCY); 4.
	Concurrency int
	// Poll is how often the table is checked for due jobs when nothing woke the worker; 1 s.
	Poll time.Duration
	// Lease is how long a claim holds a job before another node may take it; renewed every
	// Lease/3 while the handler runs. 1 min.
	Lease time.Duration
	// BackoffBase and BackoffMax bound the delay before retry n: BackoffBase·2^(n-1), capped
	// at BackoffMax, of which a random half is jitter. 1 s and 1 h.
	BackoffBase, BackoffMax time.Duration
	// ShutdownTimeout is how long running handlers may finish after Run's context ends before
	// their own context is cancelled; 10 s.
	ShutdownTimeout time.Duration
	// DepthInterval is how often the queue-depth gauge is refreshed; 15 s.
	DepthInterval time.Duration
	// Keys opens sealed payloads; jobs with a sealed payload fail without it.
	Keys *keyring.Keyring
	// Metrics, when set, receives the job metrics.
	Metrics *Metrics
	// Log receives failures; slog.Default() when nil.
	Log *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Worker claims and runs jobs of the kinds registered on it, and the periodic jobs scheduled
// on it. Register and Schedule before Run.
type Worker struct {
	db       *store.DB
	opt      Options
	handlers map[string]Handler
	kinds    []string
	sched    []*schedule
	running  bool
}

// New returns a worker on db.
func New(db *store.DB, opt Options) *Worker {
	if opt.Node == "" {
		host, _ := os.Hostname()
		opt.Node = fmt.Sprintf("%s-%d-%04x", host, os.Getpid(), rand.Uint32()&0xffff)
	}
	if opt.Concurrency <= 0 {
		opt.Concurrency = 4
	}
	defaults := []struct {
		d   *time.Duration
		def time.Duration
	}{
		{&opt.Poll, time.Second}, {&opt.Lease, time.Minute}, {&opt.BackoffBase, time.Second},
		{&opt.BackoffMax, time.Hour}, {&opt.ShutdownTimeout, 10 * time.Second}, {&opt.DepthInterval, 15 * time.Second},
	}
	for _, d := range defaults {
		if *d.d <= 0 {
			*d.d = d.def
		}
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Worker{db: db, opt: opt, handlers: make(map[string]Handler)}
}

// Node returns the name this worker claims jobs under.
func (w *Worker) Node() string { return w.opt.Node }

// Register makes h the handler of kind. It panics when called twice for a kind or after Run.
func (w *Worker) Register(kind string, h Handler) {
	if w.running || kind == "" || h == nil || w.handlers[kind] != nil {
		panic(fmt.Sprintf("jobs: bad Register of kind %q", kind))
	}
	w.handlers[kind] = h
	w.kinds = append(w.kinds, kind)
	slices.Sort(w.kinds)
}

// permanent marks an error not worth retrying.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent wraps err so that the job fails at once, without retries.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanent{err}
}

// IsPermanent reports whether err was wrapped by Permanent.
func IsPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p)
}

// Run claims and runs jobs until ctx is done. It then stops claiming at once, gives running
// handlers ShutdownTimeout to finish, cancels them, and returns when all have returned.
func (w *Worker) Run(ctx context.Context) error {
	w.running = true
	// Handlers run under their own context: the node's shutdown cancels it only after the
	// grace period.
	hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	var wg sync.WaitGroup
	slots := make(chan struct{}, w.opt.Concurrency)

	wg.Add(1)
	go func() { defer wg.Done(); w.runSchedules(ctx, hctx) }()
	if w.opt.Metrics != nil {
		wg.Add(1)
		go func() { defer wg.Done(); w.refreshDepth(ctx) }()
	}

	timer := time.NewTimer(0)
	defer timer.Stop()
	for ctx.Err() == nil {
		wake := w.db.JobWake() // before claiming, so an enqueue committed meanwhile wakes us
		free := w.opt.Concurrency - len(slots)
		claimed := 0
		if free > 0 {
			jobs, err := w.db.ClaimJobs(ctx, w.opt.Node, w.kinds, w.opt.Now(), w.opt.Lease, free)
			if err != nil && ctx.Err() == nil {
				w.opt.Log.Error("jobs: claim failed", "err", err)
			}
			for _, j := range jobs {
				slots <- struct{}{}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer func() { <-slots }()
					w.run(hctx, j)
				}()
			}
			claimed = len(jobs)
		}
		if claimed > 0 && claimed == free {
			// The table may hold more: claim again as soon as a slot frees.
			select {
			case <-ctx.Done():
			case slots <- struct{}{}:
				<-slots
			}
			continue
		}
		timer.Reset(w.opt.Poll)
		select {
		case <-ctx.Done():
		case <-wake:
		case <-timer.C:
		}
	}

	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(w.opt.ShutdownTimeout):
		w.opt.Log.Warn("jobs: handlers still running after the shutdown timeout: cancelling them")
		cancel()
		<-done
	}
	return nil
}

// run runs one claimed job and records its outcome.
func (w *Worker) run(ctx context.Context, j store.Job) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopLease := w.keepLease(ctx, cancel, j)
	start := time.Now()
	err := w.call(ctx, j)
	stopLease()
	if m := w.opt.Metrics; m != nil {
		m.duration(j.Kind).Observe(time.Since(start).Seconds())
	}
	// The outcome is written even when ctx was cancelled (shutdown), on a context of its own.
	fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer fcancel()
	now := w.opt.Now()
	var ok bool
	var ferr error
	log := w.opt.Log.With("job_id", j.ID, "kind", j.Kind, "attempt", j.Attempts)
	switch {
	case err == nil:
		ok, ferr = w.db.CompleteJob(fctx, j)
		w.count(j.Kind, outcomeDone)
	case ctx.Err() != nil && !IsPermanent(err):
		// Shut down or lost the lease mid-run: not the job's fault, so it runs again at once and
		// this attempt is not counted.
		ok, ferr = w.db.ReleaseJob(fctx, j, "interrupted: "+err.Error(), now)
		w.count(j.Kind, outcomeRetried)
		log.Warn("jobs: handler interrupted; the job will run again", "err", err)
	case IsPermanent(err) || j.Attempts >= j.MaxAttempts:
		ok, ferr = w.db.KillJob(fctx, j, err.Error(), now)
		w.count(j.Kind, outcomeFailed)
		log.Error("jobs: job failed for good", "err", err, "permanent", IsPermanent(err))
	default:
		next := now.Add(w.backoff(j.Attempts))
		ok, ferr = w.db.RetryJob(fctx, j, next, err.Error(), now)
		w.count(j.Kind, outcomeRetried)
		log.Warn("jobs: job failed; retrying", "err", err, "retry_at", next)
	}
	if ferr != nil {
		log.Error("jobs: recording the outcome failed; the job runs again after its lease", "err", ferr)
	} else if !ok {
		log.Warn("jobs: the lease ended before the job finished; another claim owns it now")
	}
}

// call opens the payload and runs the handler, turning a panic into an error.
func (w *Worker) call(ctx context.Context, j store.Job) (err error) {
	defer func() {
		if p := recover(); p != nil {
			// The panic value may quote the payload: log only where it happened.
			w.opt.Log.Error("jobs: handler panicked", "job_id", j.ID, "kind", j.Kind, "stack", string(debug.Stack()))
			err = errors.New("the handler panicked (stack in the node's log)")
		}
	}()
	if j.Sealed {
		if j.Payload, err = open(w.opt.Keys, j); err != nil {
			return Permanent(err)
		}
		defer clear(j.Payload)
		j.Sealed = false
	}
	return w.handlers[j.Kind](ctx, j)
}

// keepLease renews the job's lease every Lease/3 while the handler runs, and cancels the
// handler when the claim is lost. The returned function stops it.
func (w *Worker) keepLease(ctx context.Context, cancel context.CancelFunc, j store.Job) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(w.opt.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				now := w.opt.Now()
				ok, err := w.db.ExtendJobLease(ctx, j, now.Add(w.opt.Lease), now)
				if err == nil && !ok {
					w.opt.Log.Warn("jobs: lost the lease of a running job; cancelling it", "job_id", j.ID, "kind", j.Kind)
					cancel()
					return
				}
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// backoff returns the delay before the retry that follows attempt n (1-based):
// BackoffBase·2^(n-1) capped at BackoffMax, half of it fixed and half random.
func (w *Worker) backoff(n int) time.Duration {
	d := w.opt.BackoffMax
	if n-1 < 40 {
		if e := w.opt.BackoffBase << (n - 1); e > 0 && e < d {
			d = e
		}
	}
	return d/2 + rand.N(d/2+1)
}

func (w *Worker) count(kind string, o outcome) {
	if m := w.opt.Metrics; m != nil {
		m.outcome(kind, o).Inc()
	}
}

// refreshDepth sets the queue-depth gauge every DepthInterval until ctx is done.
func (w *Worker) refreshDepth(ctx context.Context) {
	t := time.NewTicker(w.opt.DepthInterval)
	defer t.Stop()
	for {
		if err := w.opt.Metrics.refreshDepth(ctx, w.db); err != nil && ctx.Err() == nil {
			w.opt.Log.Warn("jobs: counting the queue failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
