// Package store keeps Coffer's state in SQLite or PostgreSQL with one set of SQL statements.
//
// The store never sees plaintext: secret values and comments arrive sealed by internal/keyring
// and leave sealed. Queries are written with '?' placeholders and rebound once per statement
// for PostgreSQL. Writes happen only inside InTx, on the primary (SQLite: the one writer
// connection); reads outside a transaction use the read pool.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver

	"github.com/cofferhq/coffer"
)

// Dialects.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Options tune a DB. The zero value is usable. PostgreSQL only: SQLite ignores all but
// MaxOpenConns.
type Options struct {
	// MaxOpenConns bounds the PostgreSQL pool (of the primary, and of each replica) and the
	// SQLite read pool; 0 means 4 per CPU, at least 4.
	MaxOpenConns int
	// ReadReplicas are PostgreSQL URLs of read replicas (see replicas.go). They are not dialed
	// by Open: a replica that is down at start only sends its reads to the primary.
	ReadReplicas []string
	// StatementTimeout is the statement_timeout of every connection but the migrations'; 0
	// means the server's default (usually none).
	StatementTimeout time.Duration
	// Log receives replica state changes; slog.Default() when nil.
	Log *slog.Logger
}

// DB is a handle to the database: safe for concurrent use.
type DB struct {
	conn
	dialect string
	w       *sql.DB // primary: the only handle that writes
	r       *sql.DB // read pool (the same handle as w on PostgreSQL)
	mig     *sql.DB // PostgreSQL: the primary without statement_timeout, for migrations
	idle    int     // PostgreSQL: the primary pool's idle connections (see ResetIdleConns)
	rt      *router // PostgreSQL read replicas; nil when none
	wake    jobWake // woken when a transaction that enqueued a job commits
	commits commitHooks
}

// Open connects to the database named by dialect and dsn (a PostgreSQL URL, or an SQLite file
// path), without migrating it. Call Migrate before use.
func Open(ctx context.Context, dialect, dsn string, opt Options) (*DB, error) {
	if opt.MaxOpenConns <= 0 {
		opt.MaxOpenConns = max(4, 4*runtime.GOMAXPROCS(0))
	}
	db := &DB{dialect: dialect}
	var err error
	switch dialect {
	case Postgres:
		if err := db.openPostgres(dsn, opt); err != nil {
			return nil, err
		}
	case SQLite:
		// One writer connection serializes writes in Go instead of failing with SQLITE_BUSY;
		// BEGIN IMMEDIATE takes the write lock up front. Readers open the file read-only.
		pragmas := "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"
		if db.w, err = sql.Open("sqlite", "file:"+dsn+"?"+pragmas+"&_pragma=journal_mode(WAL)&_txlock=immediate"); err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		db.w.SetMaxOpenConns(1)
		db.w.SetMaxIdleConns(1)
		db.w.SetConnMaxIdleTime(0)
		if err := db.w.PingContext(ctx); err != nil { // creates the file and switches it to WAL
			db.w.Close()
			return nil, fmt.Errorf("open sqlite %s: %w", dsn, err)
		}
		if db.r, err = sql.Open("sqlite", "file:"+dsn+"?mode=ro&"+pragmas); err != nil {
			db.w.Close()
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		db.r.SetMaxOpenConns(opt.MaxOpenConns)
		db.r.SetMaxIdleConns(opt.MaxOpenConns)
	default:
		return nil, fmt.Errorf("store: unknown dialect %q", dialect)
	}
	if err := db.w.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s: %w", dialect, err)
	}
	db.conn = conn{q: db.r, d: dialects[dialect], rt: db.rt}
	return db, nil
}

// Dialect returns SQLite or Postgres.
func (db *DB) Dialect() string { return db.dialect }

// Ping checks that the primary answers.
func (db *DB) Ping(ctx context.Context) error { return db.conn.d.mapError(db.w.PingContext(ctx)) }

// Close closes every connection.
func (db *DB) Close() error {
	var errs []error
	if db.rt != nil {
		for _, r := range db.rt.replicas {
			errs = append(errs, r.db.Close())
		}
	}
	if db.mig != nil {
		errs = append(errs, db.mig.Close())
	}
	if db.r != nil && db.r != db.w {
		errs = append(errs, db.r.Close())
	}
	if db.w != nil {
		errs = append(errs, db.w.Close())
	}
	return errors.Join(errs...)
}

// Tx is a write transaction. Its methods are the DB's, run inside the transaction.
type Tx struct {
	conn
	tx       *sql.Tx
	wake     *jobWake
	onCommit []func() // run after a successful commit
}

// InTx runs fn in one write transaction on the primary: committed when fn returns nil, rolled
// back otherwise. All writes of one request go through one InTx, so they land together or not
// at all. Once it commits, the later reads of ctx's session go to the primary.
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	sqltx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", db.conn.d.mapError(err))
	}
	// Rolls back when fn fails, panics or calls runtime.Goexit (a no-op after Commit), so the
	// connection (SQLite's only writer) is never left inside an open transaction.
	defer sqltx.Rollback()
	tx := &Tx{conn: conn{q: sqltx, d: db.conn.d, inTx: true}, tx: sqltx, wake: &db.wake}
	if err := fn(tx); err != nil {
		return err
	}
	if err := sqltx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", db.conn.d.mapError(err))
	}
	usePrimary(ctx)
	for _, f := range tx.onCommit {
		f()
	}
	db.commits.run()
	return nil
}

// queryer is what database/sql's DB and Tx have in common.
type queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// conn carries the queries shared by DB and Tx.
type conn struct {
	q    queryer
	d    *dialect
	inTx bool
	rt   *router // read replicas, when this is the DB's conn and there are any
	lag  bool    // reads may go to a replica (see replica)
}

// replica returns c for a replica-eligible read: one that may be stale by a moment of
// replication lag (see replicas.go). Inside a transaction, or without replicas, it is c.
func (c conn) replica() conn {
	if c.inTx || c.rt == nil {
		return c
	}
	c.lag = true
	return c
}

func (c conn) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := c.q.ExecContext(ctx, c.d.rebind(query), args...)
	if err == nil && !c.inTx {
		usePrimary(ctx) // a write outside InTx committed: the request reads its writes too
	}
	return res, c.d.mapError(err)
}

func (c conn) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	query = c.d.rebind(query)
	if r := c.pick(ctx); r != nil {
		rows, err := r.db.QueryContext(ctx, query, args...)
		if err == nil {
			c.rt.served(r)
			return rows, nil
		} else if ctx.Err() != nil {
			return nil, c.d.mapError(err)
		}
		c.rt.failed(r, err)
	}
	rows, err := c.q.QueryContext(ctx, query, args...)
	return rows, c.d.mapError(err)
}

// queryRow runs a query for one row when the row is scanned.
func (c conn) queryRow(ctx context.Context, query string, args ...any) *row {
	return &row{c: c, ctx: ctx, query: c.d.rebind(query), args: args}
}

func (c conn) pick(ctx context.Context) *replica {
	if !c.lag {
		return nil
	}
	return c.rt.pick(ctx)
}

// row is the result of queryRow: like *sql.Row, but the query runs in Scan, so that a replica
// that fails, or finds no row, can be replaced by the primary.
type row struct {
	c     conn
	ctx   context.Context
	query string
	args  []any
}

// Scan runs the query and copies the first row's columns into dest; sql.ErrNoRows when none.
func (r *row) Scan(dest ...any) error {
	c := r.c
	missed := false
	if rep := c.pick(r.ctx); rep != nil {
		err := rep.db.QueryRowContext(r.ctx, r.query, r.args...).Scan(dest...)
		switch {
		case err == nil:
			c.rt.served(rep)
			return nil
		case errors.Is(err, sql.ErrNoRows):
			c.rt.served(rep) // not found on the replica: perhaps not yet; ask the primary
			missed = true
		case r.ctx.Err() != nil:
			return c.d.mapError(err)
		default:
			c.rt.failed(rep, err)
		}
	}
	err := c.q.QueryRowContext(r.ctx, r.query, r.args...).Scan(dest...)
	if missed && err == nil {
		usePrimary(r.ctx) // the replica lags behind this request: the rest of it reads the primary
	}
	return c.d.mapError(err)
}

// forUpdate returns the row-locking suffix for a SELECT inside a write transaction.
func (c conn) forUpdate() string {
	if c.inTx {
		return c.d.forUpdate
	}
	return ""
}

// dialect holds what differs between the engines.
type dialect struct {
	numbered  bool // $1, $2… instead of ?
	forUpdate string
	isUnique  func(error) bool
	cache     sync.Map // query text → rebound text
}

func (d *dialect) rebind(q string) string {
	if !d.numbered {
		return q
	}
	if v, ok := d.cache.Load(q); ok {
		return v.(string)
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteByte(q[i])
	}
	out := b.String()
	d.cache.Store(q, out)
	return out
}

// mapError turns a unique-constraint violation into an ECONFLICT (the caller usually checks
// first and gives a better message; this catches races), and a database that cannot be reached
// or did not answer in time into an EUNAVAILABLE.
func (d *dialect) mapError(err error) error {
	switch {
	case err == nil:
		return nil
	case d.isUnique(err):
		return &conflictError{err: err}
	case unavailable(err):
		return &unavailableError{err: err}
	}
	return err
}

type conflictError struct{ err error }

func (e *conflictError) Error() string { return "conflict: " + e.err.Error() }
func (e *conflictError) Unwrap() []error {
	return []error{e.err, coffer.Errorf(coffer.ECONFLICT, "a resource with these identifiers already exists")}
}

// IsConflict reports whether err comes from a unique-constraint violation.
func IsConflict(err error) bool {
	var c *conflictError
	return errors.As(err, &c)
}

// NewID returns a new time-ordered UUID (v7), which keeps B-tree inserts local.
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// ms converts a time to the stored Unix milliseconds; fromMS reverses it.
func ms(t time.Time) int64       { return t.UnixMilli() }
func fromMS(v int64) time.Time   { return time.UnixMilli(v).UTC() }
func notFound(what string) error { return coffer.Errorf(coffer.ENOTFOUND, "%s not found", what) }

// placeholders returns "?, ?, ?" for n arguments.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}
