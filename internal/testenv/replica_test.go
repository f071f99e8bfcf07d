package testenv

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"testing"
)

// TestPostgresReplicated checks the helper against PostgreSQL itself: the standby is a
// read-only hot standby that replays the primary's writes, replay can be paused, and either
// server can be stopped and started again on its port.
func TestPostgresReplicated(t *testing.T) {
	t.Parallel()
	r := PostgresReplicated(t)
	recordAddr("127.0.0.1:" + strconv.Itoa(r.PrimaryPort()))
	recordAddr("127.0.0.1:" + strconv.Itoa(r.ReplicaPort()))
	ctx := context.Background()
	primary, replica := openDB(t, r.PrimaryURL), openDB(t, r.ReplicaURL)
	exec := func(db *sql.DB, q string) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	count := func() int {
		t.Helper()
		var n int
		if err := replica.QueryRowContext(ctx, `SELECT count(*) FROM items`).Scan(&n); err != nil {
			t.Fatalf("count on the replica: %v", err)
		}
		return n
	}
	exec(primary, `CREATE TABLE items (id int PRIMARY KEY)`)
	exec(primary, `INSERT INTO items VALUES (1)`)
	r.WaitReplayed(t)
	if n := count(); n != 1 {
		t.Fatalf("replica has %d rows, want 1", n)
	}
	var inRecovery bool
	if err := replica.QueryRowContext(ctx, `SELECT pg_is_in_recovery()`).Scan(&inRecovery); err != nil || !inRecovery {
		t.Errorf("replica in recovery = %v, %v", inRecovery, err)
	}
	if _, err := replica.ExecContext(ctx, `INSERT INTO items VALUES (99)`); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("write on the replica: %v, want a read-only error", err)
	}

	r.PauseReplay(t)
	exec(primary, `INSERT INTO items VALUES (2)`)
	if n := count(); n != 1 {
		t.Errorf("paused replica has %d rows, want 1", n)
	}
	r.ResumeReplay(t)
	r.WaitReplayed(t)
	if n := count(); n != 2 {
		t.Errorf("resumed replica has %d rows, want 2", n)
	}

	r.KillReplica(t)
	if err := replica.PingContext(ctx); err == nil {
		t.Error("the killed replica answers")
	}
	r.StartReplica(t)
	r.StopPrimary(t)
	if err := primary.PingContext(ctx); err == nil {
		t.Error("the stopped primary answers")
	}
	r.StartPrimary(t)
	exec(primary, `INSERT INTO items VALUES (3)`)
	r.WaitReplayed(t)
	if n := count(); n != 3 {
		t.Errorf("after both restarts the replica has %d rows, want 3", n)
	}
}

func TestPostgresReplicatedMissing(t *testing.T) {
	old := pgLibDir
	pgLibDir = t.TempDir()
	t.Cleanup(func() { pgLibDir = old })
	t.Setenv("PATH", t.TempDir())
	t.Setenv("CI", "true")
	var f fakeTB
	if r := PostgresReplicated(&f); r != nil || f.fatal == "" || f.skipped != "" {
		t.Fatalf("without binaries under CI=true: %v, fatal %q, skipped %q", r, f.fatal, f.skipped)
	}
	t.Setenv("CI", "")
	f = fakeTB{}
	if r := PostgresReplicated(&f); r != nil || f.skipped == "" || !strings.Contains(f.skipped, "PostgreSQL") {
		t.Fatalf("without binaries: %v, fatal %q, skipped %q", r, f.fatal, f.skipped)
	}
}
