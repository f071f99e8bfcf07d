package store

import (
	"context"
	"database/sql"
	"log/slog"
	"sync/atomic"
	"time"
)

// Read replicas (PostgreSQL only).
//
// A read goes to a replica only when all of these hold:
//   - the method is replica-eligible: it lists or reads secrets, versions, folders, imports,
//     tags, projects, environments or memberships (see conn.replica). Credentials (access
//     tokens, identities, client secrets, users), settings, project keys, jobs and revisions
//     are always read from the primary: a token minted a millisecond ago must authenticate;
//   - it runs outside a transaction (a Tx always uses the primary);
//   - its context carries a session (WithSession, installed per HTTP request) whose request
//     has not written yet, and was not marked with Primary. Background work without a
//     session reads from the primary;
//   - a replica is healthy. One that fails with a connection error or a timeout is skipped for
//     a backoff (1 s, doubling to 30 s), its read retried on the primary at once; the request
//     never fails because a replica is down.
//
// A single-row lookup that finds nothing on the replica is retried on the primary, so that a
// row created a moment ago (by another request, or through another node) is found even while
// the replica lags; when the primary has it, the replica is behind for this request, and its
// later reads go to the primary too (a project just created is found, and so are its
// environments, listed next). Lists are not retried: a list may miss, for a moment of lag,
// what another request wrote; the request that wrote reads from the primary. See README
// "Read replicas".

// session is what one request shares with the store.
type session struct {
	primary atomic.Bool  // a write of the request committed, or the replica proved behind it
	pin     atomic.Int32 // 1 + index of the replica this request reads from; 0: none chosen yet
}

type sessionKey struct{}
type primaryKey struct{}

// WithSession returns ctx with a new session: replica-eligible reads with this context may go to
// a read replica until a write transaction with it commits; from then on they read from the
// primary, so a request sees its own writes. One request reads from one replica. The HTTP
// server installs a session per request.
func WithSession(ctx context.Context) context.Context {
	return context.WithValue(ctx, sessionKey{}, &session{})
}

// Primary returns ctx whose reads all go to the primary: for a read that must not be stale, such
// as one whose result is cached under a revision read from the primary.
func Primary(ctx context.Context) context.Context {
	return context.WithValue(ctx, primaryKey{}, true)
}

func sessionOf(ctx context.Context) *session {
	s, _ := ctx.Value(sessionKey{}).(*session)
	return s
}

// usePrimary sends the later reads of ctx's request to the primary: the request wrote, or the
// replica proved to lag behind what it needs.
func usePrimary(ctx context.Context) {
	if s := sessionOf(ctx); s != nil {
		s.primary.Store(true)
	}
}

// Replica backoff bounds.
const (
	replicaBackoffMin = time.Second
	replicaBackoffMax = 30 * time.Second
)

// replica is one read replica's pool and health.
type replica struct {
	name      string // "read replica N", for logs
	db        *sql.DB
	downUntil atomic.Int64 // Unix nanoseconds before which the replica is skipped
	failures  atomic.Int32 // consecutive failures
	reads     atomic.Int64 // reads it served
}

func (r *replica) usable(now time.Time) bool { return now.UnixNano() >= r.downUntil.Load() }

// router chooses a replica for a read.
type router struct {
	replicas []*replica
	next     atomic.Uint32
	log      *slog.Logger
	now      func() time.Time
}

// pick returns the replica for a replica-eligible read with ctx, or nil for the primary.
func (rt *router) pick(ctx context.Context) *replica {
	if rt == nil {
		return nil
	}
	s := sessionOf(ctx)
	if s == nil || s.primary.Load() || ctx.Value(primaryKey{}) != nil {
		return nil
	}
	now := rt.now()
	if i := s.pin.Load(); i > 0 && rt.replicas[i-1].usable(now) {
		return rt.replicas[i-1]
	}
	n := uint32(len(rt.replicas))
	start := rt.next.Add(1)
	for k := range n {
		i := (start + k) % n
		if r := rt.replicas[i]; r.usable(now) {
			s.pin.Store(int32(i) + 1)
			return r
		}
	}
	return nil
}

// failed records a failed read on r: a connection error or timeout puts r aside for a backoff.
// Other errors (a conflict with recovery, say) only send this read to the primary.
func (rt *router) failed(r *replica, err error) {
	if !unavailable(err) {
		rt.log.Warn("read replica query failed; read from the primary", "replica", r.name, "err", err.Error())
		return
	}
	n := r.failures.Add(1)
	backoff := min(replicaBackoffMin<<min(n-1, 10), replicaBackoffMax)
	r.downUntil.Store(rt.now().Add(backoff).UnixNano())
	rt.log.Warn("read replica unavailable; reading from the primary", "replica", r.name, "retry_in", backoff.String(),
		"failures", n, "err", err.Error())
}

// served records a successful read on r.
func (rt *router) served(r *replica) {
	r.reads.Add(1)
	if r.failures.Load() != 0 {
		r.failures.Store(0)
		rt.log.Info("read replica is back", "replica", r.name)
	}
}

// ReplicaStats is what a read replica has done since Open.
type ReplicaStats struct {
	Name    string // "read replica N" (N from 1, in COFFER_DATABASE_READ_REPLICAS order)
	Reads   int64  // reads it answered
	Healthy bool   // false while it is set aside after a failure
	Pool    sql.DBStats
}

// ReplicaStats returns the state of every read replica, in configuration order.
func (db *DB) ReplicaStats() []ReplicaStats {
	if db.rt == nil {
		return nil
	}
	now := db.rt.now()
	out := make([]ReplicaStats, len(db.rt.replicas))
	for i, r := range db.rt.replicas {
		out[i] = ReplicaStats{Name: r.name, Reads: r.reads.Load(), Healthy: r.usable(now), Pool: r.db.Stats()}
	}
	return out
}

// PoolStats returns the statistics of the primary's connection pool.
func (db *DB) PoolStats() sql.DBStats { return db.w.Stats() }
