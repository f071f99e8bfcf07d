package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/testenv"
)

func TestUnavailable(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"refused", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, true},
		{"bad conn", fmt.Errorf("query: %w", driver.ErrBadConn), true},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, true},
		{"starting up", &pgconn.PgError{Code: "57P03"}, true},
		{"statement timeout", &pgconn.PgError{Code: "57014"}, true},
		{"connection exception", &pgconn.PgError{Code: "08006"}, true},
		{"read-only standby", &pgconn.PgError{Code: "25006"}, true},
		{"too many connections", &pgconn.PgError{Code: "53300"}, true},
		{"deadline", context.DeadlineExceeded, true},
		{"caller canceled", context.Canceled, false},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"syntax error", &pgconn.PgError{Code: "42601"}, false},
		{"other", errors.New("boom"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := unavailable(tt.err); got != tt.want {
				t.Errorf("unavailable(%v) = %v, want %v", tt.err, got, tt.want)
			}
			mapped := dialects[Postgres].mapError(tt.err)
			if got := coffer.ErrorCode(mapped) == coffer.EUNAVAILABLE; got != tt.want {
				t.Errorf("mapError(%v) code %q", tt.err, coffer.ErrorCode(mapped))
			}
			if tt.err != nil && !errors.Is(mapped, tt.err) {
				t.Errorf("mapError(%v) lost the cause", tt.err)
			}
		})
	}
}

func TestParseErrorHidesPasswords(t *testing.T) {
	for _, dsn := range []string{
		"postgres://u:planted-pw@h/db?connect_timeout=soon",
		"postgres://h/db?password=planted-pw&port=planted-pw",
		"postgres://u:planted-pw@h/db?sslmode=verify-full&sslrootcert=/missing/planted-pw.pem",
	} {
		_, err := openPostgres(dsn, pgOptions{what: "COFFER_DATABASE_URL", maxConns: 1, connectTimeout: time.Second})
		if err == nil {
			t.Fatalf("%s: no error", dsn)
		}
		if msg := err.Error(); strings.Contains(msg, "planted-pw") || !strings.HasPrefix(msg, "COFFER_DATABASE_URL: ") {
			t.Errorf("error %q leaks the password or does not name the setting", msg)
		}
	}
}

// TestStatementTimeout: every connection of the pool has the statement timeout, a statement
// that outlasts it is EUNAVAILABLE, and migrations run without it.
func TestStatementTimeout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := Open(ctx, Postgres, testenv.PostgresURL(t), Options{StatementTimeout: 250 * time.Millisecond, MaxOpenConns: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var got string
	if err := db.queryRow(ctx, `SHOW statement_timeout`).Scan(&got); err != nil || got != "250ms" {
		t.Errorf("statement_timeout = %q, %v; want 250ms", got, err)
	}
	if err := db.mig.QueryRowContext(ctx, `SHOW statement_timeout`).Scan(&got); err != nil || got != "0" {
		t.Errorf("migrations' statement_timeout = %q, %v; want 0", got, err)
	}
	_, err = db.exec(ctx, `SELECT pg_sleep(5)`)
	if !IsUnavailable(err) || coffer.ErrorCode(err) != coffer.EUNAVAILABLE {
		t.Errorf("a statement over the timeout: %v, want EUNAVAILABLE", err)
	}
	if db.PoolStats().MaxOpenConnections != 3 {
		t.Errorf("pool size %d, want 3", db.PoolStats().MaxOpenConnections)
	}
}
