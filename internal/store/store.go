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

// Options tune a DB. The zero value is usable.
type Options struct {
	// MaxOpenConns bounds the PostgreSQL pool and the SQLite read pool.
	MaxOpenConns int
}

// DB is a handle to the database: safe for concurrent use.
type DB struct {
	conn
	dialect string
	w       *sql.DB // primary: the only handle that writes
	r       *sql.DB // read pool (the same handle as w on PostgreSQL)
	wake    jobWake // woken when a transaction that enqueued a job commits
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
		if db.w, err = sql.Open("pgx", dsn); err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		db.w.SetMaxOpenConns(opt.MaxOpenConns)
		db.w.SetMaxIdleConns(opt.MaxOpenConns)
		db.w.SetConnMaxIdleTime(5 * time.Minute)
		db.r = db.w
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
	db.conn = conn{q: db.r, d: dialects[dialect]}
	return db, nil
}

// Dialect returns SQLite or Postgres.
func (db *DB) Dialect() string { return db.dialect }

// Ping checks that the primary answers.
func (db *DB) Ping(ctx context.Context) error { return db.w.PingContext(ctx) }

// Close closes every connection.
func (db *DB) Close() error {
	var errs []error
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
// at all.
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	sqltx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	// Rolls back when fn fails, panics or calls runtime.Goexit (a no-op after Commit), so the
	// connection (SQLite's only writer) is never left inside an open transaction.
	defer sqltx.Rollback()
	tx := &Tx{conn: conn{q: sqltx, d: db.conn.d, inTx: true}, tx: sqltx, wake: &db.wake}
	if err := fn(tx); err != nil {
		return err
	}
	if err := sqltx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	for _, f := range tx.onCommit {
		f()
	}
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
}

func (c conn) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := c.q.ExecContext(ctx, c.d.rebind(query), args...)
	return res, c.d.mapError(err)
}

func (c conn) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	rows, err := c.q.QueryContext(ctx, c.d.rebind(query), args...)
	return rows, c.d.mapError(err)
}

func (c conn) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return c.q.QueryRowContext(ctx, c.d.rebind(query), args...)
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
// first and gives a better message; this catches races).
func (d *dialect) mapError(err error) error {
	if err != nil && d.isUnique(err) {
		return &conflictError{err: err}
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
