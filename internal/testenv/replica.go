package testenv

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Replicated is a PostgreSQL primary with one streaming standby (a hot-standby read replica),
// each on its own free loopback port, in a temp directory of their own. Unlike PostgresURL's
// shared cluster, it belongs to one test, which may stop, kill and restart either server.
type Replicated struct {
	// PrimaryURL and ReplicaURL name database "coffer" on each server (user postgres, trust).
	PrimaryURL, ReplicaURL string

	bin     string
	base    string
	cred    *syscall.Credential
	primary *pgNode
	standby *pgNode
}

// pgNode is one postgres process of a Replicated, restartable on the same port.
type pgNode struct {
	name string // "primary" or "standby"
	data string
	port int
	args []string // extra postgres arguments

	mu sync.Mutex
	p  *proc // nil while stopped
}

// ReplicationUser is the role the standby streams WAL as.
const ReplicationUser = "replicator"

// PostgresReplicated starts a primary configured for streaming replication (wal_level=replica,
// max_wal_senders, a replication role and a pg_hba replication line) and a standby cloned from
// it with pg_basebackup -R, and waits until the standby replays. Both stop in t.Cleanup. It
// needs the PostgreSQL server binaries (COFFER_TEST_POSTGRES_URL cannot provide a replica):
// without them it skips loudly, or fails when CI=true.
func PostgresReplicated(t testing.TB) *Replicated {
	t.Helper()
	start := time.Now()
	bin, err := findPostgres()
	if err != nil {
		fail(t, "", err)
		return nil
	}
	cred, err := unprivileged()
	if err != nil {
		fail(t, "", err)
		return nil
	}
	base, err := os.MkdirTemp("", "coffer-testenv-pgrepl-")
	if err != nil {
		t.Fatal(err)
	}
	r := &Replicated{bin: bin, base: base, cred: cred}
	unregister := onStop(r.stopAll)
	t.Cleanup(func() { unregister(); r.stopAll() })
	if cred != nil {
		if err := os.Chown(base, int(cred.Uid), int(cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.initPrimary(); err != nil {
		t.Fatalf("testenv: replicated primary: %v", err)
	}
	if err := r.cloneStandby(); err != nil {
		t.Fatalf("testenv: replicated standby: %v", err)
	}
	r.WaitReplayed(t)
	t.Logf("testenv: PostgreSQL primary on :%d and streaming standby on :%d ready in %v",
		r.primary.port, r.standby.port, time.Since(start).Round(time.Millisecond))
	return r
}

func (r *Replicated) logPath() string { return filepath.Join(r.base, "postgres.log") }

func (r *Replicated) url(s *pgNode, db string) string {
	u := url.URL{Scheme: "postgres", User: url.User("postgres"), Host: "127.0.0.1:" + strconv.Itoa(s.port),
		Path: "/" + db, RawQuery: "sslmode=disable"}
	return u.String()
}

// PrimaryPort and ReplicaPort are the servers' TCP ports.
func (r *Replicated) PrimaryPort() int { return r.primary.port }
func (r *Replicated) ReplicaPort() int { return r.standby.port }

func (r *Replicated) initPrimary() error {
	data := filepath.Join(r.base, "primary")
	p, err := pgCommand(r.bin, "initdb", r.base, r.logPath(), r.cred, syscall.SIGKILL,
		"-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C")
	if err != nil {
		return err
	}
	<-p.done
	p.stop()
	if p.err != nil {
		return fmt.Errorf("initdb: %v\n%s", p.err, tail(r.logPath()))
	}
	hba, err := os.OpenFile(filepath.Join(data, "pg_hba.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(hba, "host replication %s 127.0.0.1/32 trust\n", ReplicationUser)
	if cerr := hba.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	r.primary = &pgNode{name: "primary", data: data, args: []string{
		"-c", "wal_level=replica", "-c", "max_wal_senders=5", "-c", "wal_keep_size=64MB", "-c", "hot_standby=on"}}
	for attempt := 1; ; attempt++ {
		if r.primary.port, err = freePort(); err != nil {
			return err
		}
		if err = r.start(r.primary); err == nil || attempt == 3 {
			break
		}
	}
	if err != nil {
		return err
	}
	db, err := sql.Open("pgx", r.url(r.primary, "postgres"))
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, q := range []string{`CREATE ROLE ` + ReplicationUser + ` WITH REPLICATION LOGIN`, `CREATE DATABASE coffer`} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	r.PrimaryURL = r.url(r.primary, "coffer")
	return nil
}

// cloneStandby copies the primary with pg_basebackup -R (which writes primary_conninfo and
// standby.signal) and starts the copy as a hot standby.
func (r *Replicated) cloneStandby() error {
	data := filepath.Join(r.base, "standby")
	p, err := pgCommand(r.bin, "pg_basebackup", r.base, r.logPath(), r.cred, syscall.SIGKILL,
		"-h", "127.0.0.1", "-p", strconv.Itoa(r.primary.port), "-U", ReplicationUser, "-D", data,
		"-R", "-X", "stream", "--no-sync", "-c", "fast")
	if err != nil {
		return err
	}
	<-p.done
	p.stop()
	if p.err != nil {
		return fmt.Errorf("pg_basebackup: %v\n%s", p.err, tail(r.logPath()))
	}
	r.standby = &pgNode{name: "standby", data: data, args: []string{"-c", "hot_standby=on",
		"-c", "hot_standby_feedback=on", "-c", "wal_receiver_status_interval=1s"}}
	for attempt := 1; ; attempt++ {
		if r.standby.port, err = freePort(); err != nil {
			return err
		}
		if err = r.start(r.standby); err == nil || attempt == 3 {
			break
		}
	}
	if err != nil {
		return err
	}
	r.ReplicaURL = r.url(r.standby, "coffer")
	return nil
}

// start runs postgres for s on s.port and waits until it answers.
func (r *Replicated) start(s *pgNode) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.p != nil {
		return nil
	}
	args := append([]string{"-D", s.data, "-p", strconv.Itoa(s.port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
		"-c", "fsync=off", "-c", "full_page_writes=off", // commits still write WAL at once, for the standby
		"-c", "max_connections=100"}, s.args...)
	p, err := pgCommand(r.bin, "postgres", r.base, r.logPath(), r.cred, syscall.SIGINT, args...)
	if err != nil {
		return err
	}
	db, err := sql.Open("pgx", r.url(s, "postgres"))
	if err == nil {
		err = waitPing(db, p, s.data)
		db.Close()
	}
	if err != nil {
		p.stop()
		return fmt.Errorf("start %s: %w\n%s", s.name, err, tail(r.logPath()))
	}
	s.p = p
	return nil
}

// stop ends s's postgres with sig and waits for it (SIGKILL after 10 s).
func (s *pgNode) stop(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.p == nil {
		return
	}
	s.p.sig = sig
	s.p.stop()
	s.p = nil
}

func (r *Replicated) stopAll() {
	for _, s := range []*pgNode{r.standby, r.primary} {
		if s != nil {
			s.stop(syscall.SIGQUIT)
		}
	}
	os.RemoveAll(r.base)
}

// StopPrimary shuts the primary down (fast shutdown: sessions are ended, connections refused).
func (r *Replicated) StopPrimary(t testing.TB) {
	t.Helper()
	r.primary.stop(syscall.SIGINT)
}

// StartPrimary starts the primary again on the same port and waits until it answers; the
// standby reconnects to it by itself.
func (r *Replicated) StartPrimary(t testing.TB) {
	t.Helper()
	if err := r.start(r.primary); err != nil {
		t.Fatalf("testenv: %v", err)
	}
}

// KillReplica ends the standby abruptly (immediate shutdown: no checkpoint, as after a crash).
func (r *Replicated) KillReplica(t testing.TB) {
	t.Helper()
	r.standby.stop(syscall.SIGQUIT)
}

// StartReplica starts the standby again on the same port and waits until it answers.
func (r *Replicated) StartReplica(t testing.TB) {
	t.Helper()
	if err := r.start(r.standby); err != nil {
		t.Fatalf("testenv: %v", err)
	}
}

// exec runs a statement on one server's "coffer" database.
func (r *Replicated) exec(t testing.TB, s *pgNode, q string, args ...any) {
	t.Helper()
	db, err := sql.Open("pgx", r.url(s, "coffer"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, q, args...); err != nil {
		t.Fatalf("testenv: %s on the %s: %v", q, s.name, err)
	}
}

// PauseReplay stops the standby applying WAL (pg_wal_replay_pause): from now on it lags, and
// reads from it miss every later write, until ResumeReplay.
func (r *Replicated) PauseReplay(t testing.TB) {
	t.Helper()
	r.exec(t, r.standby, `SELECT pg_wal_replay_pause()`)
}

// ResumeReplay lets the standby apply WAL again.
func (r *Replicated) ResumeReplay(t testing.TB) {
	t.Helper()
	r.exec(t, r.standby, `SELECT pg_wal_replay_resume()`)
}

// WaitReplayed waits until the standby has replayed everything the primary has written so far.
func (r *Replicated) WaitReplayed(t testing.TB) {
	t.Helper()
	p, err := sql.Open("pgx", r.url(r.primary, "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	s, err := sql.Open("pgx", r.url(r.standby, "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var lsn string
	if err := p.QueryRowContext(ctx, `SELECT pg_current_wal_insert_lsn()::text`).Scan(&lsn); err != nil {
		t.Fatalf("testenv: primary WAL position: %v", err)
	}
	for {
		var done bool
		err := s.QueryRowContext(ctx, `SELECT COALESCE(pg_last_wal_replay_lsn() >= $1::pg_lsn, false)`, lsn).Scan(&done)
		if err == nil && done {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("testenv: standby has not replayed %s after 60s (last error %v)\n%s", lsn, err, tail(r.logPath()))
		case <-time.After(20 * time.Millisecond):
		}
	}
}
