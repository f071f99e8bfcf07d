package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

const pgEnv = "COFFER_TEST_POSTGRES_URL"

// pgLibDir is where Debian keeps PostgreSQL server binaries, in one
// <version>/bin directory per major version.
var pgLibDir = "/usr/lib/postgresql"

// postgres is the server this binary's tests get their databases from.
type postgres struct {
	admin   *sql.DB
	url     url.URL       // admin URL; per-test URLs differ only in the path
	bin     string        // directory of the binaries; empty for COFFER_TEST_POSTGRES_URL
	initdb  time.Duration // time spent in initdb
	startup time.Duration // time from the first call to a ready cluster
}

var (
	pgServer = sync.OnceValues(func() (*postgres, error) {
		if raw := os.Getenv(pgEnv); raw != "" {
			return openPostgres(raw)
		}
		return startPostgres()
	})
	pgLogged atomic.Bool
)

// PostgresURL returns the URL of a new, empty PostgreSQL database that belongs
// to this test alone (dropped in t.Cleanup). The first call in a test binary
// starts one throwaway cluster (or uses COFFER_TEST_POSTGRES_URL, an admin URL
// on which the helper creates and drops per-test databases; PostgreSQL 13 or
// later). When no PostgreSQL can be had: t.Skip with a loud message naming
// what is missing, or t.Fatal if CI=true.
func PostgresURL(t testing.TB) string {
	t.Helper()
	pg, err := pgServer()
	if err != nil {
		fail(t, pgEnv, err)
	}
	if pg.bin != "" && pgLogged.CompareAndSwap(false, true) {
		t.Logf("testenv: started PostgreSQL from %s in %v (initdb %v) at %s",
			pg.bin, pg.startup.Round(time.Millisecond), pg.initdb.Round(time.Millisecond), pg.url.Host)
	}
	name, u, err := pg.createDB(t.Name())
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := pg.admin.ExecContext(ctx, `DROP DATABASE IF EXISTS "`+name+`" WITH (FORCE)`); err != nil {
			t.Errorf("testenv: drop database %s: %v", name, err)
		}
	})
	return u
}

// createDB creates a database named after the test plus a random suffix.
func (pg *postgres) createDB(test string) (name, dbURL string, err error) {
	var b [8]byte
	rand.Read(b[:])
	clean := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, strings.ToLower(test))
	name = "t_" + clean[:min(len(clean), 40)] + "_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := pg.admin.ExecContext(ctx, `CREATE DATABASE "`+name+`"`); err != nil {
		return "", "", fmt.Errorf("create database %s: %w", name, err)
	}
	u := pg.url
	u.Path = "/" + name
	return name, u.String(), nil
}

// openPostgres connects to the admin URL given in COFFER_TEST_POSTGRES_URL.
func openPostgres(raw string) (*postgres, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, fmt.Errorf("%s must be a postgres:// URL, got %q", pgEnv, raw)
	}
	db, err := sql.Open("pgx", raw)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", pgEnv, err)
	}
	onStop(func() { db.Close() })
	return &postgres{admin: db, url: *u}, nil
}

// startPostgres creates and starts a throwaway cluster in a temp directory.
func startPostgres() (*postgres, error) {
	start := time.Now()
	bin, err := findPostgres()
	if err != nil {
		return nil, err
	}
	cred, err := unprivileged()
	if err != nil {
		return nil, err
	}
	base, err := os.MkdirTemp("", "coffer-testenv-pg-")
	if err != nil {
		return nil, err
	}
	pg, err := initAndStart(bin, base, cred)
	if err != nil {
		os.RemoveAll(base)
		return nil, err
	}
	pg.startup = time.Since(start)
	return pg, nil
}

// initAndStart runs initdb into base/data as cred, then starts postgres,
// trying up to three free ports.
func initAndStart(bin, base string, cred *syscall.Credential) (*postgres, error) {
	if cred != nil {
		if err := os.Chown(base, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, err
		}
	}
	logPath := filepath.Join(base, "postgres.log")
	data := filepath.Join(base, "data")
	t0 := time.Now()
	p, err := pgCommand(bin, "initdb", base, logPath, cred, syscall.SIGKILL,
		"-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C")
	if err != nil {
		return nil, err
	}
	<-p.done
	p.stop()
	if p.err != nil {
		return nil, fmt.Errorf("initdb (as uid %d): %v\n%s", os.Geteuid(), p.err, tail(logPath))
	}
	initdb := time.Since(t0)
	for attempt := 1; ; attempt++ {
		pg, err := launch(bin, base, data, logPath, cred)
		if err == nil || attempt == 3 {
			if pg != nil {
				pg.initdb = initdb
			}
			return pg, err
		}
	}
}

// launch starts postgres on a free port and waits until it accepts
// connections; it fails fast when postgres exits (a port clash, say).
func launch(bin, base, data, logPath string, cred *syscall.Credential) (*postgres, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	p, err := pgCommand(bin, "postgres", base, logPath, cred, syscall.SIGQUIT,
		"-D", data, "-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200")
	if err != nil {
		return nil, err
	}
	u := url.URL{Scheme: "postgres", User: url.User("postgres"), Host: "127.0.0.1:" + strconv.Itoa(port),
		Path: "/postgres", RawQuery: "sslmode=disable"}
	db, err := sql.Open("pgx", u.String())
	if err == nil {
		err = waitPing(db, p, data)
	}
	if err != nil {
		p.stop()
		if db != nil {
			db.Close()
		}
		return nil, fmt.Errorf("start postgres: %w\n%s", err, tail(logPath))
	}
	onStop(func() {
		db.Close()
		p.stop()
		os.RemoveAll(base)
	})
	return &postgres{admin: db, url: u, bin: bin}, nil
}

// waitPing waits until db answers, p exits, or 30s pass, and checks that
// the server answering is ours (serves data), not one holding the port.
func waitPing(db *sql.DB, p *proc, data string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		var dir string
		err := db.QueryRowContext(ctx, "SHOW data_directory").Scan(&dir)
		cancel()
		switch {
		case err == nil && dir != data:
			return fmt.Errorf("port taken by another PostgreSQL (data directory %s)", dir)
		case err == nil:
			return nil
		case p.exited():
			return fmt.Errorf("postgres exited: %v", p.err)
		case time.Now().After(deadline):
			return fmt.Errorf("postgres not ready after 30s: %w", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pgCommand starts one of the PostgreSQL binaries as cred (if not nil), in
// dir, logging to logPath, without PG* variables from our environment.
func pgCommand(bin, name, dir, logPath string, cred *syscall.Credential, sig syscall.Signal, args ...string) (*proc, error) {
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer log.Close()
	cmd := exec.Command(filepath.Join(bin, name), args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	return startProc(cmd, sig, dir)
}

// findPostgres returns the directory holding initdb and postgres: the highest
// version under pgLibDir, else the directory initdb on PATH resolves to.
func findPostgres() (string, error) {
	var best string
	var bestV []int
	dirs, _ := filepath.Glob(filepath.Join(pgLibDir, "*", "bin"))
	for _, d := range dirs {
		if !isExec(filepath.Join(d, "initdb")) || !isExec(filepath.Join(d, "postgres")) {
			continue
		}
		var v []int
		for _, f := range strings.Split(filepath.Base(filepath.Dir(d)), ".") {
			n, err := strconv.Atoi(f)
			if err != nil {
				n = -1
			}
			v = append(v, n)
		}
		if best == "" || slices.Compare(v, bestV) > 0 {
			best, bestV = d, v
		}
	}
	if best != "" {
		return best, nil
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil && isExec(filepath.Join(filepath.Dir(real), "postgres")) {
			return filepath.Dir(real), nil
		}
	}
	return "", &missingError{"no PostgreSQL server binaries (initdb and postgres in " + pgLibDir +
		"/<version>/bin or on PATH; Debian: apt-get install postgresql)"}
}

func isExec(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}
