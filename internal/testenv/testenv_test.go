package testenv

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestMain also checks that Run left no process or port behind.
func TestMain(m *testing.M) {
	code := Run(m)
	if err := leftovers(); err != nil {
		fmt.Fprintln(os.Stderr, "testenv: after Run:", err)
		code = 1
	}
	os.Exit(code)
}

var ports struct {
	sync.Mutex
	addrs []string
}

// recordAddr notes the address of a server this binary started.
func recordAddr(addr string) {
	ports.Lock()
	defer ports.Unlock()
	ports.addrs = append(ports.addrs, addr)
}

func leftovers() error {
	var errs []error
	registry.Lock()
	pids := registry.pids
	registry.Unlock()
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			errs = append(errs, fmt.Errorf("pid %d still exists", pid))
		}
	}
	for _, addr := range ports.addrs {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			errs = append(errs, fmt.Errorf("%s still accepts connections", addr))
		}
	}
	return errors.Join(errs...)
}

func openDB(t *testing.T, u string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestPostgresURL(t *testing.T) {
	t.Parallel()
	u1, u2 := PostgresURL(t), PostgresURL(t)
	if u1 == u2 {
		t.Fatalf("two calls gave the same URL %s", u1)
	}
	if pg, _ := pgServer(); pg.bin != "" {
		recordAddr(pg.url.Host)
	}
	db1, db2 := openDB(t, u1), openDB(t, u2)
	ctx := context.Background()
	if _, err := db1.ExecContext(ctx, `CREATE TABLE items (id int PRIMARY KEY, name text)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db1.ExecContext(ctx, `INSERT INTO items VALUES (1, 'one'), (2, 'two')`); err != nil {
		t.Fatal(err)
	}
	var name string
	if err := db1.QueryRowContext(ctx, `SELECT name FROM items WHERE id = 2`).Scan(&name); err != nil || name != "two" {
		t.Fatalf("select: %q, %v", name, err)
	}
	var found sql.NullString
	if err := db2.QueryRowContext(ctx, `SELECT to_regclass('public.items')::text`).Scan(&found); err != nil {
		t.Fatal(err)
	}
	if found.Valid {
		t.Fatalf("table made in %s is visible in %s", u1, u2)
	}
}

// Parallel tests each get their own database and may use the same names.
func TestPostgresParallel(t *testing.T) {
	for i := range 6 {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			t.Parallel()
			db := openDB(t, PostgresURL(t))
			if _, err := db.Exec(`CREATE TABLE same_name (n int)`); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(`INSERT INTO same_name VALUES ($1)`, i); err != nil {
				t.Fatal(err)
			}
			var sum int
			if err := db.QueryRow(`SELECT sum(n) FROM same_name`).Scan(&sum); err != nil || sum != i {
				t.Fatalf("sum = %d, %v; want %d", sum, err, i)
			}
		})
	}
}

func redisDo(t *testing.T, redisURL string, args ...string) any {
	t.Helper()
	addr, db, _ := strings.Cut(strings.TrimPrefix(redisURL, "redis://"), "/")
	c, err := dialRESP(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.do("SELECT", db); err != nil {
		t.Fatal(err)
	}
	r, err := c.do(args...)
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return r
}

func TestRedisURL(t *testing.T) {
	t.Parallel()
	u1, u2 := RedisURL(t), RedisURL(t)
	if os.Getenv(redisEnv) == "" {
		recordAddr(strings.Split(strings.TrimPrefix(u1, "redis://"), "/")[0])
	}
	if u1 == u2 {
		t.Fatalf("two calls gave the same URL %s", u1)
	}
	redisDo(t, u1, "SET", "k", "v1")
	if got := redisDo(t, u1, "GET", "k"); got != "v1" {
		t.Fatalf("GET k = %v, want v1", got)
	}
	if got := redisDo(t, u2, "GET", "k"); got != nil {
		t.Fatalf("second URL sees the first one's key: %v", got)
	}
}

// Parallel tests each get their own Redis and may use the same keys.
func TestRedisParallel(t *testing.T) {
	for i := range 4 {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			t.Parallel()
			u := RedisURL(t)
			redisDo(t, u, "SET", "same", strconv.Itoa(i))
			time.Sleep(50 * time.Millisecond)
			if got := redisDo(t, u, "GET", "same"); got != strconv.Itoa(i) {
				t.Fatalf("GET same = %v, want %d", got, i)
			}
			if n := redisDo(t, u, "DBSIZE"); n != int64(1) {
				t.Fatalf("DBSIZE = %v, want 1", n)
			}
		})
	}
}

func TestStartRedis(t *testing.T) {
	t.Parallel()
	r := StartRedis(t)
	recordAddr(r.Addr())
	redisDo(t, r.URL(), "SET", "k", "v")
	r.Stop()
	if c, err := net.DialTimeout("tcp", r.Addr(), time.Second); err == nil {
		c.Close()
		t.Fatalf("%s accepts connections after Stop", r.Addr())
	}
	r.Stop() // no-op
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	if err := r.Start(); err != nil { // no-op
		t.Fatal(err)
	}
	if got := redisDo(t, r.URL(), "GET", "k"); got != nil {
		t.Fatalf("GET k after restart = %v, want nil (nothing persisted)", got)
	}
	if got := redisDo(t, r.URL(), "PING"); got != "PONG" {
		t.Fatalf("PING = %v", got)
	}
}

// The COFFER_TEST_REDIS_URL path, against a server of our own: databases are
// handed out once each, flushed, and locked across pools (other binaries).
func TestRedisPool(t *testing.T) {
	t.Parallel()
	r := StartRedis(t)
	redisDo(t, r.URL()[:len(r.URL())-1]+"3", "SET", "stale", "x")
	poolA, err := openRedisPool(r.URL())
	if err != nil {
		t.Fatal(err)
	}
	poolB, _ := openRedisPool(r.URL())
	seen := map[int]bool{}
	for i := range 15 {
		pool := poolA
		if i%2 == 1 {
			pool = poolB
		}
		db, token, err := pool.acquire()
		if err != nil {
			t.Fatal(err)
		}
		if db == 0 || seen[db] {
			t.Fatalf("acquire %d gave database %d (seen: %v)", i, db, seen)
		}
		seen[db] = true
		defer pool.release(db, token)
	}
	if got := redisDo(t, r.URL()[:len(r.URL())-1]+"3", "DBSIZE"); got != int64(0) {
		t.Fatalf("database 3 not flushed: DBSIZE = %v", got)
	}
}

// fakeTB records how fail reported.
type fakeTB struct {
	testing.TB
	skipped, fatal string
}

func (f *fakeTB) Helper()                        {}
func (f *fakeTB) Skipf(format string, a ...any)  { f.skipped = fmt.Sprintf(format, a...) }
func (f *fakeTB) Fatal(a ...any)                 { f.fatal = fmt.Sprint(a...) }
func (f *fakeTB) Fatalf(format string, a ...any) { f.fatal = fmt.Sprintf(format, a...) }

func TestFail(t *testing.T) {
	missing := &missingError{"no PostgreSQL server binaries"}
	for _, tc := range []struct {
		ci         string
		err        error
		skip, fail bool
	}{
		{"", missing, true, false},
		{"false", missing, true, false},
		{"true", missing, false, true},
		{"1", missing, false, true},
		{"", errors.New("initdb failed"), false, true},
	} {
		t.Run(tc.ci+"/"+tc.err.Error(), func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			var f fakeTB
			fail(&f, pgEnv, tc.err)
			if (f.skipped != "") != tc.skip || (f.fatal != "") != tc.fail {
				t.Fatalf("skipped %q, fatal %q", f.skipped, f.fatal)
			}
			if msg := f.skipped + f.fatal; !strings.Contains(msg, tc.err.Error()) ||
				tc.err == missing && !strings.Contains(msg, pgEnv) {
				t.Fatalf("message %q does not name what is missing", msg)
			}
		})
	}
}

func TestFindPostgres(t *testing.T) {
	dir, err := findPostgres()
	if err != nil {
		t.Skip(err)
	}
	t.Logf("PostgreSQL binaries: %s", dir)
	old := pgLibDir
	pgLibDir = t.TempDir()
	t.Cleanup(func() { pgLibDir = old })
	t.Setenv("PATH", t.TempDir())
	var miss *missingError
	if _, err := findPostgres(); !errors.As(err, &miss) {
		t.Fatalf("with no binaries: %v, want a missingError", err)
	}
}
