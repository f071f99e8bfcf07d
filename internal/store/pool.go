package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/cofferhq/coffer"
)

// Connection defaults for PostgreSQL URLs that do not say otherwise.
const (
	// primaryConnectTimeout bounds each attempt to connect to the primary (each host of a
	// multi-host URL), so that a request during an outage fails in seconds, not minutes.
	primaryConnectTimeout = 5 * time.Second
	// replicaConnectTimeout is shorter: a replica that does not answer costs its reads a trip to
	// the primary, so waiting long for it helps no one.
	replicaConnectTimeout = 2 * time.Second
	// connMaxLifetime recycles connections, so that after a failover or a DNS change (RDS
	// Multi-AZ) every connection ends up on the new address, and load spreads over replicas
	// behind one DNS name.
	connMaxLifetime = 30 * time.Minute
)

// pgOptions are what openPostgres needs from Options.
type pgOptions struct {
	what             string // names the URL in errors: "database URL", "read replica 2"
	maxConns         int
	statementTimeout time.Duration
	connectTimeout   time.Duration // used when the URL has no connect_timeout
}

// openPostgres returns a pool of pgx connections to dsn, which may be a multi-host URL
// (target_session_attrs=read-write picks the primary among its hosts on every new connection).
// Nothing is dialed yet. Connections that die (the server restarted, a failover) are dropped by
// database/sql and pgx (stdlib pings a connection idle for more than a second before reuse) and
// replaced by new ones on demand, so the pool recovers by itself once the server is back.
func openPostgres(dsn string, o pgOptions) (*sql.DB, error) {
	if !strings.Contains(dsn, "connect_timeout=") {
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		dsn += sep + "connect_timeout=" + strconv.Itoa(max(1, int(o.connectTimeout/time.Second)))
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, parseError(o.what, dsn, err)
	}
	cfg.DialFunc = dialer(cfg.ConnectTimeout) // see dial.go
	if o.statementTimeout > 0 {
		// A startup parameter: set by the server on every new connection, no round trip.
		cfg.RuntimeParams["statement_timeout"] = strconv.FormatInt(o.statementTimeout.Milliseconds(), 10)
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(o.maxConns)
	db.SetMaxIdleConns(o.maxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	db.SetConnMaxLifetime(connMaxLifetime)
	return db, nil
}

// parseError describes a PostgreSQL URL that pgx refused, without the URL: pgx's own message
// quotes it with only the user-info password masked, not a password=… query parameter.
func parseError(what, dsn string, err error) error {
	msg := "invalid connection settings"
	if inner := errors.Unwrap(err); inner != nil {
		msg += ": " + inner.Error()
	}
	for _, pw := range passwords(dsn) {
		msg = strings.ReplaceAll(msg, pw, "[REDACTED]")
	}
	return fmt.Errorf("%s: %s", what, msg)
}

// passwords returns the passwords a URL holds, to scrub them from messages.
func passwords(dsn string) []string {
	u, err := url.Parse(dsn)
	if err != nil {
		return nil
	}
	var out []string
	if pw, ok := u.User.Password(); ok && pw != "" {
		out = append(out, pw)
	}
	for k, vs := range u.Query() {
		if strings.Contains(strings.ToLower(k), "password") {
			for _, v := range vs {
				if v != "" {
					out = append(out, v)
				}
			}
		}
	}
	return out
}

// unavailableMessage is what a client sees when the database cannot be reached.
const unavailableMessage = "The database is unavailable; retry shortly"

// unavailableError marks an error of a database that is down, restarting, overloaded or too
// slow: an EUNAVAILABLE (503) for the client, the cause for the log.
type unavailableError struct{ err error }

func (e *unavailableError) Error() string { return "database unavailable: " + e.err.Error() }
func (e *unavailableError) Unwrap() []error {
	return []error{e.err, coffer.Errorf(coffer.EUNAVAILABLE, unavailableMessage)}
}

// IsUnavailable reports whether err comes from a database that could not be reached or did not
// answer in time (a 503 rather than a 500).
func IsUnavailable(err error) bool {
	var u *unavailableError
	return errors.As(err, &u)
}

// unavailable reports whether err means the server is unreachable, going away, not yet
// accepting connections, out of connections, or too slow; not a problem with the statement.
func unavailable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	// Any failure to connect, even one the server explains (a wrong password on a replica, say),
	// makes the server unusable for now.
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case strings.HasPrefix(pgErr.Code, "08"): // connection exception
			return true
		case pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03": // admin/crash shutdown, cannot connect now
			return true
		case pgErr.Code == "57014": // query_canceled: statement_timeout
			return true
		case pgErr.Code == "53300": // too_many_connections
			return true
		case pgErr.Code == "25006": // read_only_sql_transaction: connected to a standby mid-failover
			return true
		}
		return false
	}
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, context.DeadlineExceeded) ||
		pgconn.SafeToRetry(err) || pgconn.Timeout(err)
}

// ResetIdleConns closes the idle connections of the primary's pools (PostgreSQL), so that the
// next query opens a new one. After the primary restarted or failed over, every idle
// connection is dead and each fails the one query that finds it (SQLSTATE 57P01, EOF); a
// caller that saw such a failure and wants a true answer now (the readiness probe) resets
// them and asks again. Connections in use are not touched.
func (db *DB) ResetIdleConns() {
	if db.dialect != Postgres {
		return
	}
	db.w.SetMaxIdleConns(0)
	db.w.SetMaxIdleConns(db.idle)
	db.mig.SetMaxIdleConns(0)
	db.mig.SetMaxIdleConns(migConns)
}

// migConns is the size of the migrations' pool.
const migConns = 2

// openPostgres opens the primary's pool, the migrations' pool and the replicas' pools.
func (db *DB) openPostgres(dsn string, opt Options) error {
	var err error
	primary := pgOptions{what: "database URL", maxConns: opt.MaxOpenConns, statementTimeout: opt.StatementTimeout,
		connectTimeout: primaryConnectTimeout}
	if db.w, err = openPostgres(dsn, primary); err != nil {
		return err
	}
	db.r, db.idle = db.w, opt.MaxOpenConns
	// Migrations may take longer than any statement timeout: they get a small pool without one.
	mig := primary
	mig.maxConns, mig.statementTimeout = migConns, 0
	if db.mig, err = openPostgres(dsn, mig); err != nil {
		db.w.Close()
		return err
	}
	db.mig.SetConnMaxIdleTime(time.Minute)
	if len(opt.ReadReplicas) == 0 {
		return nil
	}
	log := opt.Log
	if log == nil {
		log = slog.Default()
	}
	db.rt = &router{log: log, now: time.Now}
	for i, u := range opt.ReadReplicas {
		name := fmt.Sprintf("read replica %d", i+1)
		r, err := openPostgres(u, pgOptions{what: name, maxConns: opt.MaxOpenConns, statementTimeout: opt.StatementTimeout,
			connectTimeout: replicaConnectTimeout})
		if err != nil {
			db.Close()
			return err
		}
		db.rt.replicas = append(db.rt.replicas, &replica{name: name, db: r})
	}
	return nil
}
