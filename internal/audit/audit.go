// Package audit is Coffer's audit log: it records who did what, from where, with what outcome,
// in a hash chain that makes an edited, removed or reordered event detectable; it answers
// queries, verifies the chain, streams events as JSON lines and prunes them after a retention
// period.
//
// Changes are recorded with Record inside the transaction of the change, so there is no change
// without its event and no event of a rolled-back change. Reads, failed sign-ins and denials,
// which change nothing, go through Enqueue: a bounded buffer that one appender goroutine per
// node writes in batches, blocking callers when it is full rather than dropping events.
//
// An event names what was touched (project, environment, path, keys) and never carries a
// secret value, token or password: callers put only ids, names and counts in Metadata.
package audit

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/store"
)

// Defaults of Options.
const (
	DefaultFlushInterval = 100 * time.Millisecond
	DefaultBatchSize     = 500
	DefaultBufferSize    = 10000
)

// Options configure a Log. The zero value records and buffers with the defaults.
type Options struct {
	Node          string        // this node's name, stored with each event it appends
	FlushInterval time.Duration // longest a buffered event waits; DefaultFlushInterval when zero
	BatchSize     int           // most events written per transaction; DefaultBatchSize when zero
	BufferSize    int           // events buffered before Enqueue blocks; DefaultBufferSize when zero
	Log           *slog.Logger
	Now           func() time.Time
	// Stream receives every event this node appends, as one JSON line, after its transaction
	// commits; nil streams nothing.
	Stream *LineWriter
	// StreamJobs, when set, makes every append enqueue (in the same transaction) a job of kind
	// StreamJobKind that delivers the events to an HTTP endpoint.
	StreamJobs bool
	// CoalesceReads merges the machine reads of one flush that repeat one another exactly into
	// one event counting them (see coalesce).
	CoalesceReads bool
}

// Log records audit events. A nil *Log records nothing (for tests of other packages).
type Log struct {
	db    *store.DB
	opt   Options
	names names

	mu      sync.RWMutex // held for reading while a caller sends to ch; Close takes it to stop them
	closed  bool
	ch      chan item
	stop    chan struct{} // closed by Close: drain and exit
	abandon chan struct{} // closed when Close's context ends: give up retrying
	done    chan struct{} // closed when the appender has exited
	started bool
}

// item is a buffered event, or (ev nil) a flush marker whose channel is closed once every
// event before it is written.
type item struct {
	ev      *coffer.AuditEvent
	flushed chan error
}

// New returns a Log on db. Call Start to run its appender, and Close to flush it.
func New(db *store.DB, opt Options) *Log {
	if opt.FlushInterval <= 0 {
		opt.FlushInterval = DefaultFlushInterval
	}
	if opt.BatchSize <= 0 {
		opt.BatchSize = DefaultBatchSize
	}
	if opt.BufferSize <= 0 {
		opt.BufferSize = DefaultBufferSize
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Node == "" {
		opt.Node = store.NewID()
	}
	return &Log{db: db, opt: opt, names: names{db: db}, ch: make(chan item, opt.BufferSize),
		stop: make(chan struct{}), abandon: make(chan struct{}), done: make(chan struct{})}
}

// Node returns the name this node stores with its events.
func (l *Log) Node() string { return l.opt.Node }

func (l *Log) now() time.Time { return l.opt.Now().UTC().Truncate(time.Millisecond) }

// Request is what the HTTP layer knows of a request before (or without) authentication.
type Request struct {
	ID        string
	IP        netip.Addr
	UserAgent string
}

type requestKey struct{}

// WithRequest returns a context that carries the request's id, client address and user agent
// for the events recorded while serving it.
func WithRequest(ctx context.Context, r Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

func requestFrom(ctx context.Context) Request {
	r, _ := ctx.Value(requestKey{}).(Request)
	return r
}

// fill completes an event from the request context: id, time, actor (unless the caller named
// one), client address, user agent, request id and outcome.
// fill completes an event from the request. r looks up the actor's name: the transaction of a
// change (Record), so that no second connection is taken while it holds its locks, or the
// database (nil).
func (l *Log) fill(ctx context.Context, r nameReader, ev *coffer.AuditEvent) {
	if ev.ID == "" {
		ev.ID = store.NewID()
	}
	if ev.Time.IsZero() {
		ev.Time = l.now()
	}
	req := requestFrom(ctx)
	a := coffer.ActorFromContext(ctx)
	if ev.ActorType == "" {
		ev.ActorType = coffer.AuditActorAnonymous
		if a != nil {
			ev.ActorType, ev.ActorID = string(a.Kind), a.ID
		}
	}
	if a != nil && ev.OrgID == "" {
		ev.OrgID = a.OrgID
	}
	if ev.ActorName == "" && ev.ActorID != "" {
		ev.ActorName = l.names.lookup(ctx, r, ev.ActorType, ev.ActorID)
	}
	ip, ua := req.IP, req.UserAgent
	if a != nil {
		if a.IP.IsValid() {
			ip = a.IP
		}
		if a.UserAgent != "" {
			ua = a.UserAgent
		}
	}
	if ev.IP == "" && ip.IsValid() {
		ev.IP = ip.String()
	}
	if ev.UserAgent == "" {
		ev.UserAgent = truncate(ua, 512)
	}
	if ev.RequestID == "" {
		ev.RequestID = req.ID
	}
	if ev.Outcome == "" {
		ev.Outcome = coffer.OutcomeSuccess
	}
	ev.Node = l.opt.Node
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// Record appends events inside tx, the transaction of the change they describe: they exist
// if and only if it commits. Call it last in the transaction: it locks the head of the chain,
// which every other appender then waits for until the commit.
func (l *Log) Record(ctx context.Context, tx *store.Tx, evs ...coffer.AuditEvent) error {
	if l == nil || len(evs) == 0 {
		return nil
	}
	var r nameReader // the transaction's own connection, when there is one
	if tx != nil {
		r = tx
	}
	ptrs := make([]*coffer.AuditEvent, len(evs))
	for i := range evs {
		l.fill(ctx, r, &evs[i])
		ptrs[i] = &evs[i]
	}
	return l.append(ctx, tx, ptrs)
}

// append chains events after the head of the chain and inserts them.
func (l *Log) append(ctx context.Context, tx *store.Tx, evs []*coffer.AuditEvent) error {
	rows := make([]*store.AuditRow, len(evs))
	for i, ev := range evs {
		r, err := toRow(ev)
		if err != nil {
			return fmt.Errorf("audit: encode event %s: %w", ev.Action, err)
		}
		rows[i] = r
	}
	head, err := tx.LockAuditHead(ctx)
	if err != nil {
		return err
	}
	for _, r := range rows {
		r.Seq, r.PrevHash = head.Seq+1, head.Hash
		r.Hash = Hash(r)
		head = store.ChainPoint{Seq: r.Seq, Hash: r.Hash}
	}
	var committed func([]*store.AuditRow)
	if l.opt.Stream != nil {
		committed = l.opt.Stream.writeRows
	}
	if err := tx.AppendAuditRows(ctx, rows, committed); err != nil {
		return err
	}
	if l.opt.StreamJobs {
		return enqueueDelivery(ctx, tx, rows)
	}
	return nil
}

// names resolves actors' display names (a user's e-mail, an identity's name), cached for a
// few minutes: they rarely change, and reads are recorded often.
type names struct {
	db *store.DB
	m  sync.Map // type+"\x00"+id → cachedName
	n  int64
	mu sync.Mutex
}

type cachedName struct {
	name    string
	expires time.Time
}

const nameTTL = 5 * time.Minute

// nameReader is what a name lookup reads: a *store.DB or a *store.Tx.
type nameReader interface {
	FindUserByID(ctx context.Context, id string) (*coffer.User, error)
	FindIdentity(ctx context.Context, id string) (*coffer.Identity, error)
}

func (n *names) lookup(ctx context.Context, r nameReader, typ, id string) string {
	if r == nil {
		r = n.db
	}
	k := typ + "\x00" + id
	if v, ok := n.m.Load(k); ok && time.Now().Before(v.(cachedName).expires) {
		return v.(cachedName).name
	}
	var name string
	switch typ {
	case coffer.AuditActorUser:
		if u, err := r.FindUserByID(ctx, id); err == nil {
			name = u.Email
		}
	case coffer.AuditActorIdentity:
		if i, err := r.FindIdentity(ctx, id); err == nil {
			name = i.Name
		}
	}
	if name == "" {
		return "" // not cached: it may be created by the transaction being recorded
	}
	n.mu.Lock()
	if n.n++; n.n > 10000 { // bound the cache: start over rather than grow without end
		n.m.Clear()
		n.n = 0
	}
	n.mu.Unlock()
	n.m.Store(k, cachedName{name: name, expires: time.Now().Add(nameTTL)})
	return name
}
