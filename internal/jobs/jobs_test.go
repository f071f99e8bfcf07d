package jobs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/keyring"
	"github.com/cofferhq/coffer/internal/store"
	"github.com/cofferhq/coffer/internal/store/storetest"
	"github.com/cofferhq/coffer/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// cluster opens n handles on one database, as n nodes would: on PostgreSQL n separate pools on
// one database; on SQLite (one process) one handle shared by n workers.
type cluster func(t *testing.T, n int) []*store.DB

func sqliteCluster(t *testing.T, n int) []*store.DB {
	db := storetest.OpenSQLite(t)
	out := make([]*store.DB, n)
	for i := range out {
		out[i] = db
	}
	return out
}

func postgresCluster(t *testing.T, n int) []*store.DB {
	t.Helper()
	dsn := testenv.PostgresURL(t)
	out := make([]*store.DB, n)
	for i := range out {
		db, err := store.Open(t.Context(), store.Postgres, dsn, store.Options{MaxOpenConns: 8})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if err := db.Migrate(t.Context(), quiet); err != nil {
			t.Fatal(err)
		}
		out[i] = db
	}
	return out
}

// TestJobs runs every scenario on SQLite and on PostgreSQL.
func TestJobs(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name string
		fn   func(t *testing.T, open cluster)
	}{
		{"EnqueueRolledBack", testEnqueueRolledBack},
		{"Dedup", testDedup},
		{"ExactlyOnceAcrossNodes", testExactlyOnce},
		{"RetriesThenDead", testRetriesThenDead},
		{"Permanent", testPermanent},
		{"LeaseExpiry", testLeaseExpiry},
		{"ScheduleOncePerPeriod", testScheduleOnce},
		{"ScheduleClockSkew", testScheduleSkew},
		{"SealedPayload", testSealed},
		{"GracefulStop", testGracefulStop},
		{"Prune", testPrune},
		{"Metrics", testMetrics},
		{"WakeOnLocalEnqueue", testWake},
	}
	for _, d := range []struct {
		name string
		open cluster
	}{{"SQLite", sqliteCluster}, {"Postgres", postgresCluster}} {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			for _, s := range scenarios {
				t.Run(s.name, func(t *testing.T) {
					t.Parallel()
					s.fn(t, d.open)
				})
			}
		})
	}
}

// fast are worker options for tests: short polls, leases and backoffs.
func fast(node string) Options {
	return Options{Node: node, Poll: 20 * time.Millisecond, Lease: 2 * time.Second, BackoffBase: 10 * time.Millisecond,
		BackoffMax: 40 * time.Millisecond, ShutdownTimeout: 5 * time.Second, Log: quiet}
}

// start runs w until the test ends, and fails the test if Run does not return.
func start(t *testing.T, w *Worker) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Error("worker did not stop")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// eventually polls cond until it holds, failing the test after a generous deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func mustEnqueue(t *testing.T, db *store.DB, j store.Job) string {
	t.Helper()
	id, err := db.EnqueueJob(t.Context(), j)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func findJob(t *testing.T, db *store.DB, id string) *store.Job {
	t.Helper()
	j, err := db.FindJob(t.Context(), id)
	if err != nil {
		t.Fatalf("find job %s: %v", id, err)
	}
	return j
}

func gone(db *store.DB, id string) bool {
	_, err := db.FindJob(context.Background(), id)
	return coffer.ErrorCode(err) == coffer.ENOTFOUND
}

func testEnqueueRolledBack(t *testing.T, open cluster) {
	db := open(t, 1)[0]
	var id string
	boom := errors.New("boom")
	err := db.InTx(t.Context(), func(tx *store.Tx) error {
		var err error
		if id, err = tx.EnqueueJob(t.Context(), store.Job{Kind: "email.send", Payload: []byte("x")}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx: %v", err)
	}
	if !gone(db, id) {
		t.Fatal("a job enqueued in a rolled-back transaction exists")
	}
	counts, err := db.CountJobs(t.Context())
	if err != nil || len(counts) != 0 {
		t.Fatalf("jobs after rollback: %v, %v", counts, err)
	}
	// The same in a transaction that commits: the job is there, with the defaults.
	id = mustEnqueue(t, db, store.Job{Kind: "email.send", Payload: []byte("x")})
	j := findJob(t, db, id)
	if j.Status != store.JobPending || j.MaxAttempts != store.DefaultJobMaxAttempts || j.Attempts != 0 || string(j.Payload) != "x" {
		t.Fatalf("enqueued job: %+v", j)
	}
}

func testDedup(t *testing.T, open cluster) {
	db := open(t, 1)[0]
	first := mustEnqueue(t, db, store.Job{Kind: "email.send", Key: "user-1", Payload: []byte("a")})
	var second string
	err := db.InTx(t.Context(), func(tx *store.Tx) (err error) {
		second, err = tx.EnqueueJob(t.Context(), store.Job{Kind: "email.send", Key: "user-1", Payload: []byte("b")})
		return err
	})
	if err != nil || second != first {
		t.Fatalf("second enqueue of the same key: %q, %v; want %q", second, err, first)
	}
	if p := findJob(t, db, first).Payload; string(p) != "a" {
		t.Fatalf("the dedup enqueue changed the payload to %q", p)
	}
	other := mustEnqueue(t, db, store.Job{Kind: "audit.stream", Key: "user-1"})
	noKey := mustEnqueue(t, db, store.Job{Kind: "email.send"})
	if other == first || noKey == first {
		t.Fatal("a different kind, or no key, was deduplicated")
	}
	// Once the job is done, the key is free again.
	var ran atomic.Int32
	w := New(db, fast("n1"))
	w.Register("email.send", func(ctx context.Context, j store.Job) error { ran.Add(1); return nil })
	stop := start(t, w)
	eventually(t, "the job to run", func() bool { return gone(db, first) && gone(db, noKey) })
	stop()
	if third := mustEnqueue(t, db, store.Job{Kind: "email.send", Key: "user-1"}); third == first {
		t.Fatal("a done job's key still deduplicates")
	}
}

func testExactlyOnce(t *testing.T, open cluster) {
	const nodes, total = 3, 500
	dbs := open(t, nodes)
	ids := make([]string, total)
	err := dbs[0].InTx(t.Context(), func(tx *store.Tx) error {
		for i := range ids {
			var err error
			if ids[i], err = tx.EnqueueJob(t.Context(), store.Job{Kind: "work", Payload: []byte(fmt.Sprint(i))}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	var mu sync.Mutex
	runs := map[string]int{}
	byNode := map[string]int{}
	var done atomic.Int32
	for i, db := range dbs {
		node := fmt.Sprintf("node%d", i)
		w := New(db, fast(node))
		w.Register("work", func(ctx context.Context, j store.Job) error {
			mu.Lock()
			runs[j.ID]++
			byNode[node]++
			mu.Unlock()
			done.Add(1)
			return nil
		})
		start(t, w)
	}
	eventually(t, "500 jobs to run", func() bool { return done.Load() >= total })
	eventually(t, "the table to empty", func() bool {
		c, err := dbs[0].CountJobs(t.Context())
		return err == nil && len(c) == 0
	})
	mu.Lock()
	defer mu.Unlock()
	for _, id := range ids {
		if runs[id] != 1 {
			t.Errorf("job %s ran %d times", id, runs[id])
		}
	}
	if len(runs) != total {
		t.Errorf("%d distinct jobs ran, want %d", len(runs), total)
	}
	t.Logf("%s: %d jobs on %d nodes in %s; jobs per node: %v", dbs[0].Dialect(), total, nodes, time.Since(began).Round(time.Millisecond), byNode)
}

func testRetriesThenDead(t *testing.T, open cluster) {
	db := open(t, 1)[0]
	var calls atomic.Int32
	id := mustEnqueue(t, db, store.Job{Kind: "flaky", MaxAttempts: 3})
	w := New(db, fast("n1"))
	w.Register("flaky", func(ctx context.Context, j store.Job) error {
		if n := calls.Add(1); int(n) != j.Attempts {
			t.Errorf("call %d sees Attempts %d", n, j.Attempts)
		}
		return fmt.Errorf("smtp: 451 try again (attempt %d)", j.Attempts)
	})
	start(t, w)
	eventually(t, "the job to die", func() bool { return findJob(t, db, id).Status == store.JobDead })
	j := findJob(t, db, id)
	if j.Attempts != 3 || calls.Load() != 3 || j.LastError != "smtp: 451 try again (attempt 3)" || j.LockedBy != "" {
		t.Fatalf("dead job: attempts %d, calls %d, last error %q, locked by %q", j.Attempts, calls.Load(), j.LastError, j.LockedBy)
	}
	time.Sleep(100 * time.Millisecond) // several polls: a dead job is never claimed again
	if calls.Load() != 3 {
		t.Fatalf("a dead job ran again: %d calls", calls.Load())
	}
}

func testPermanent(t *testing.T, open cluster) {
	db := open(t, 1)[0]
	var calls atomic.Int32
	long := strings.Repeat("é", 2000) // 4000 bytes: stored truncated, at a rune boundary
	perm := mustEnqueue(t, db, store.Job{Kind: "perm"})
	pan := mustEnqueue(t, db, store.Job{Kind: "panic", MaxAttempts: 1, Payload: []byte("payload-canary")})
	w := New(db, fast("n1"))
	w.Register("perm", func(ctx context.Context, j store.Job) error {
		calls.Add(1)
		return Permanent(errors.New(long))
	})
	w.Register("panic", func(ctx context.Context, j store.Job) error { panic(string(j.Payload)) })
	start(t, w)
	eventually(t, "both jobs to die", func() bool {
		return findJob(t, db, perm).Status == store.JobDead && findJob(t, db, pan).Status == store.JobDead
	})
	j := findJob(t, db, perm)
	if calls.Load() != 1 || j.Attempts != 1 {
		t.Fatalf("a permanent error was retried: %d calls", calls.Load())
	}
	if len(j.LastError) > 1010 || !strings.HasPrefix(long, strings.TrimSuffix(j.LastError, "…")) {
		t.Fatalf("stored error is %d bytes, not a prefix of the error", len(j.LastError))
	}
	if e := findJob(t, db, pan).LastError; strings.Contains(e, "canary") || !strings.Contains(e, "panicked") {
		t.Fatalf("panic stored as %q", e)
	}
}

func testLeaseExpiry(t *testing.T, open cluster) {
	dbs := open(t, 2)
	ctx := t.Context()
	id := mustEnqueue(t, dbs[0], store.Job{Kind: "work"})
	t0 := time.Now()
	// Node A claims the job and "crashes": it never finishes it.
	claimed, err := dbs[0].ClaimJobs(ctx, "crashed", []string{"work"}, t0, time.Minute, 10)
	if err != nil || len(claimed) != 1 || claimed[0].ID != id || claimed[0].Attempts != 1 {
		t.Fatalf("claim: %+v, %v", claimed, err)
	}
	// Within the lease nobody else gets it; after the lease, node B does.
	if again, err := dbs[1].ClaimJobs(ctx, "b", []string{"work"}, t0.Add(59*time.Second), time.Minute, 10); err != nil || len(again) != 0 {
		t.Fatalf("claimed within the lease: %+v, %v", again, err)
	}
	var ran atomic.Int32
	opt := fast("b")
	opt.Now = func() time.Time { return time.Now().Add(61 * time.Second) }
	w := New(dbs[1], opt)
	w.Register("work", func(ctx context.Context, j store.Job) error {
		if j.Attempts != 2 {
			t.Errorf("rerun sees Attempts %d, want 2", j.Attempts)
		}
		ran.Add(1)
		return nil
	})
	start(t, w)
	eventually(t, "the job to run again", func() bool { return gone(dbs[0], id) })
	if ran.Load() != 1 {
		t.Fatalf("ran %d times after the lease", ran.Load())
	}
	// The crashed node's late completion is refused: the claim is not its any more.
	if ok, err := dbs[0].CompleteJob(ctx, claimed[0]); err != nil || ok {
		t.Fatalf("stale completion: %v, %v", ok, err)
	}
}

// clock is a settable clock shared by the nodes of a test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *clock) skewed(d time.Duration) func() time.Time {
	return func() time.Time { return c.now().Add(d) }
}

// tickAll runs one schedule check on every worker at once and returns how many ran a period.
func tickAll(t *testing.T, ws []*Worker, name string) int {
	t.Helper()
	var wg sync.WaitGroup
	var ran atomic.Int32
	for _, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := w.runDue(t.Context(), t.Context(), w.sched[0])
			if err != nil {
				t.Error(err)
			}
			if ok {
				ran.Add(1)
			}
		}()
	}
	wg.Wait()
	return int(ran.Load())
}

func testScheduleOnce(t *testing.T, open cluster) {
	dbs := open(t, 3)
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	var runs atomic.Int32
	var ws []*Worker
	for i, db := range dbs {
		opt := fast(fmt.Sprintf("n%d", i))
		opt.Now = c.now
		w := New(db, opt)
		w.Schedule("report", time.Minute, func(ctx context.Context) error { runs.Add(1); return nil })
		ws = append(ws, w)
	}
	start0 := c.now()
	for period := range 5 {
		c.set(start0.Add(time.Duration(period) * time.Minute))
		if n := tickAll(t, ws, "report"); n != 1 {
			t.Fatalf("period %d: %d nodes ran it", period, n)
		}
		// Later in the same period nobody runs it again.
		c.set(start0.Add(time.Duration(period)*time.Minute + 59*time.Second))
		if n := tickAll(t, ws, "report"); n != 0 {
			t.Fatalf("period %d: ran again %d times within the period", period, n)
		}
	}
	if runs.Load() != 5 {
		t.Fatalf("%d runs in 5 periods", runs.Load())
	}
}

// testScheduleSkew: nodes whose clocks are 20 s apart still run each period exactly once,
// and never two periods closer than every minus the skew.
func testScheduleSkew(t *testing.T, open cluster) {
	dbs := open(t, 3)
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	var mu sync.Mutex
	var at []time.Time // true times of the runs
	var ws []*Worker
	for i, db := range dbs {
		opt := fast(fmt.Sprintf("n%d", i))
		opt.Now = c.skewed(time.Duration(i-1) * 10 * time.Second) // -10 s, 0, +10 s
		w := New(db, opt)
		w.Schedule("report", time.Minute, func(ctx context.Context) error {
			mu.Lock()
			at = append(at, c.now())
			mu.Unlock()
			return nil
		})
		ws = append(ws, w)
	}
	start0 := c.now()
	for s := 0; s <= 600; s += 5 {
		c.set(start0.Add(time.Duration(s) * time.Second))
		if n := tickAll(t, ws, "report"); n > 1 {
			t.Fatalf("at +%ds %d nodes ran it", s, n)
		}
	}
	if len(at) < 9 || len(at) > 11 {
		t.Fatalf("%d runs in 10 minutes of a 1-minute schedule", len(at))
	}
	for i := 1; i < len(at); i++ {
		if gap := at[i].Sub(at[i-1]); gap < 40*time.Second {
			t.Fatalf("runs %d and %d only %s apart", i-1, i, gap)
		}
	}
}

func testSealed(t *testing.T, open cluster) {
	db := open(t, 1)[0]
	keys, err := keyring.New(nil, bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	const secret = "https://coffer.example/reset?token=s3cr3t-reset-token"
	j, err := Sealed(keys, store.Job{Kind: "email.send", Payload: []byte(secret)})
	if err != nil {
		t.Fatal(err)
	}
	id := mustEnqueue(t, db, j)
	stored := findJob(t, db, id)
	if !stored.Sealed || bytes.Contains(stored.Payload, []byte("s3cr3t")) {
		t.Fatalf("stored payload is not ciphertext: sealed=%v", stored.Sealed)
	}
	// A sealed payload copied to another job does not open there.
	copied, err := db.EnqueueJob(t.Context(), store.Job{Kind: "email.send", Payload: stored.Payload, Sealed: true})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 2)
	opt := fast("n1")
	opt.Keys = keys
	w := New(db, opt)
	w.Register("email.send", func(ctx context.Context, j store.Job) error { got <- string(j.Payload); return nil })
	start(t, w)
	select {
	case p := <-got:
		if p != secret {
			t.Fatalf("handler got %q", p)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the sealed job did not run")
	}
	eventually(t, "the copied payload to fail", func() bool { return findJob(t, db, copied).Status == store.JobDead })
	if e := findJob(t, db, copied).LastError; strings.Contains(e, "s3cr3t") {
		t.Fatalf("error quotes the payload: %q", e)
	}
	if len(got) != 0 {
		t.Fatal("the handler ran with a payload that should not have opened")
	}
}

func testGracefulStop(t *testing.T, open cluster) {
	db := open(t, 1)[0]
	id := mustEnqueue(t, db, store.Job{Kind: "slow"})
	running := make(chan struct{})
	opt := fast("n1")
	opt.ShutdownTimeout = 50 * time.Millisecond
	w := New(db, opt)
	w.Register("slow", func(ctx context.Context, j store.Job) error {
		close(running)
		<-ctx.Done() // only the shutdown timeout ends it
		return ctx.Err()
	})
	stop := start(t, w)
	<-running
	stop()
	j := findJob(t, db, id)
	if j.Status != store.JobPending || j.Attempts != 0 || !strings.Contains(j.LastError, "interrupted") {
		t.Fatalf("after shutdown: status %s, attempts %d, error %q", j.Status, j.Attempts, j.LastError)
	}
	// A stopped worker claims nothing more.
	mustEnqueue(t, db, store.Job{Kind: "slow"})
	time.Sleep(50 * time.Millisecond)
	if c, _ := db.CountJobs(t.Context()); len(c) != 1 || c[0].Status != store.JobPending || c[0].N != 2 {
		t.Fatalf("after stop: %+v", c)
	}
}

func testPrune(t *testing.T, open cluster) {
	db := open(t, 1)[0]
	ctx := t.Context()
	now := time.Now()
	dead := mustEnqueue(t, db, store.Job{Kind: "old", MaxAttempts: 1, RunAt: now.Add(-11 * 24 * time.Hour)})
	claimed, err := db.ClaimJobs(ctx, "n", []string{"old"}, now.Add(-10*24*time.Hour), time.Minute, 1)
	if err != nil || len(claimed) != 1 {
		t.Fatal(claimed, err)
	}
	if ok, err := db.KillJob(ctx, claimed[0], "x", now.Add(-8*24*time.Hour)); !ok || err != nil {
		t.Fatal(ok, err)
	}
	// A job whose node died during its last attempt: dead once its lease ends.
	orphan := mustEnqueue(t, db, store.Job{Kind: "orphan", MaxAttempts: 1, RunAt: now.Add(-2 * time.Hour)})
	if c, err := db.ClaimJobs(ctx, "n", []string{"orphan"}, now.Add(-time.Hour), time.Minute, 1); err != nil || len(c) != 1 {
		t.Fatal(c, err)
	}
	fresh := mustEnqueue(t, db, store.Job{Kind: "fresh"})
	opt := fast("n")
	opt.Now = func() time.Time { return now }
	w := New(db, opt)
	if err := prune(ctx, db, w.opt); err != nil {
		t.Fatal(err)
	}
	if !gone(db, dead) || gone(db, fresh) {
		t.Fatal("prune deleted the wrong jobs")
	}
	if j := findJob(t, db, orphan); j.Status != store.JobDead || !strings.Contains(j.LastError, "lease") {
		t.Fatalf("orphan after prune: %s %q", j.Status, j.LastError)
	}
}

// testWake: with a poll interval of an hour, a job enqueued through the worker's own DB handle
// still runs at once: the commit wakes the worker.
func testWake(t *testing.T, open cluster) {
	db := open(t, 1)[0]
	opt := fast("n1")
	opt.Poll = time.Hour
	w := New(db, opt)
	ran := make(chan struct{}, 1)
	w.Register("work", func(ctx context.Context, j store.Job) error { ran <- struct{}{}; return nil })
	start(t, w)
	time.Sleep(50 * time.Millisecond) // the worker's first claim found nothing; it now waits
	mustEnqueue(t, db, store.Job{Kind: "work"})
	select {
	case <-ran:
	case <-time.After(30 * time.Second): // far below the hour of the next poll
		t.Fatal("the enqueue did not wake the worker")
	}
}

func testMetrics(t *testing.T, open cluster) {
	db := open(t, 1)[0]
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	mustEnqueue(t, db, store.Job{Kind: "later", RunAt: time.Now().Add(time.Hour)})
	mustEnqueue(t, db, store.Job{Kind: "later", RunAt: time.Now().Add(time.Hour)})
	ok := mustEnqueue(t, db, store.Job{Kind: "ok"})
	opt := fast("n")
	opt.Metrics = m
	opt.DepthInterval = 20 * time.Millisecond
	w := New(db, opt)
	w.Register("ok", func(ctx context.Context, j store.Job) error { return nil })
	w.Register("later", func(ctx context.Context, j store.Job) error { return nil })
	start(t, w)
	eventually(t, "the job to run", func() bool { return gone(db, ok) })
	eventually(t, "the metrics", func() bool {
		return metricValue(t, reg, "coffer_jobs_queue_depth", "kind=later,status=pending") == 2 &&
			metricValue(t, reg, "coffer_jobs_processed_total", "kind=ok") == 1
	})
}

// metricValue returns the value of the series of name whose labels, as "k=v,k=v" in order,
// are labels; -1 when absent.
func metricValue(t *testing.T, reg *prometheus.Registry, name, labels string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.Metric {
			var ls []string
			for _, l := range m.Label {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			if strings.Join(ls, ",") != labels {
				continue
			}
			switch {
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			case m.Counter != nil:
				return m.Counter.GetValue()
			}
		}
	}
	return -1
}

func TestBackoff(t *testing.T) {
	w := New(nil, Options{BackoffBase: time.Second, BackoffMax: time.Hour})
	tests := []struct {
		attempt int
		want    time.Duration // the un-jittered delay: the result is in [want/2, want]
	}{
		{1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second}, {10, 512 * time.Second},
		{13, time.Hour}, {64, time.Hour}, {1000, time.Hour},
	}
	for _, tc := range tests {
		for range 100 {
			if d := w.backoff(tc.attempt); d < tc.want/2 || d > tc.want {
				t.Fatalf("backoff(%d) = %s, want within [%s, %s]", tc.attempt, d, tc.want/2, tc.want)
			}
		}
	}
}
