package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const redisEnv = "COFFER_TEST_REDIS_URL"

// RedisURL returns the URL of a Redis database that belongs to this test
// alone: redis://127.0.0.1:PORT/0 of a throwaway redis-server started for
// this test and stopped in t.Cleanup (one server per test, because pub/sub,
// FLUSHALL and CONFIG SET reach across logical databases). With
// COFFER_TEST_REDIS_URL set, it returns that server's URL with a logical
// database index reserved for this test and flushed (see redis_env.go).
// When no Redis can be had: t.Skip with a loud message naming what is
// missing, or t.Fatal if CI=true.
func RedisURL(t testing.TB) string {
	t.Helper()
	if raw := os.Getenv(redisEnv); raw != "" {
		return envRedisURL(t, raw)
	}
	return StartRedis(t).URL()
}

// StartRedis starts a dedicated redis-server for a test that needs to stop
// and restart it (chaos tests). The server is stopped and its directory
// removed in t.Cleanup. It ignores COFFER_TEST_REDIS_URL: it needs
// redis-server installed, else it skips (or fails when CI=true).
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		fail(t, "", &missingError{"no redis-server on PATH (Debian: apt-get install redis-server)"})
	}
	r, err := newRedis(bin)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(r.close)
	return r
}

// Redis is a redis-server started by StartRedis. It always listens on the
// same port, across Stop and Start. Its methods are safe for concurrent use.
type Redis struct {
	bin, dir   string
	port       int
	extra      []string // more arguments for redis-server (replicaof, sentinel mode)
	unregister func()

	mu sync.Mutex
	p  *proc // nil while stopped
}

// Addr returns the server's host:port.
func (r *Redis) Addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

// URL returns redis://127.0.0.1:PORT/0.
func (r *Redis) URL() string { return "redis://" + r.Addr() + "/0" }

// Stop kills the server (SIGKILL, as a crash would) and waits until it has
// exited: connections are dropped and the port refuses new ones. Data is
// lost. Stopping a stopped server does nothing.
func (r *Redis) Stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.p != nil {
		r.p.stop()
		r.p = nil
	}
}

// Start starts the server again on the same port, empty, and returns once it
// answers PING. Starting a running server does nothing. It fails if another
// process took the port meanwhile.
func (r *Redis) Start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.p != nil && !r.p.exited() {
		return nil
	}
	r.p = nil
	logPath := filepath.Join(r.dir, "redis.log")
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	args := []string{"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", r.dir}
	if len(r.extra) > 0 && r.extra[0] == "--sentinel" {
		// A sentinel reads (and rewrites) a configuration file, given first.
		args = append([]string{filepath.Join(r.dir, "sentinel.conf")}, append(r.extra, "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--dir", r.dir)...)
	} else {
		args = append(args, r.extra...)
	}
	cmd := exec.Command(r.bin, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = r.dir, log, log
	p, err := startProc(cmd, syscall.SIGKILL, r.dir)
	if err != nil {
		return err
	}
	if err := waitRedis(r.Addr(), p); err != nil {
		p.stop()
		return fmt.Errorf("start redis-server on %s: %w\n%s", r.Addr(), err, tail(logPath))
	}
	r.p = p
	return nil
}

// newRedis starts a server on a free port, trying another port on a clash.
func newRedis(bin string, extra ...string) (*Redis, error) {
	return newRedisConf(bin, nil, extra...)
}

// newRedisConf is newRedis for a server that first needs a file written in its directory
// (a sentinel's configuration): conf, when set, writes it for the chosen port.
func newRedisConf(bin string, conf func(dir string, port int) error, extra ...string) (*Redis, error) {
	dir, err := os.MkdirTemp("", "coffer-testenv-redis-")
	if err != nil {
		return nil, err
	}
	r := &Redis{bin: bin, dir: dir, extra: extra}
	for attempt := 1; ; attempt++ {
		if r.port, err = freePort(); err == nil && conf != nil {
			err = conf(dir, r.port)
		}
		if err == nil {
			err = r.Start()
		}
		if err == nil {
			break
		}
		if attempt == 3 {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	r.unregister = onStop(r.shutdown)
	return r, nil
}

// close stops the server for good (t.Cleanup).
func (r *Redis) close() {
	r.unregister()
	r.shutdown()
}

func (r *Redis) shutdown() {
	r.Stop()
	os.RemoveAll(r.dir)
}

// waitRedis waits until p answers on addr, p exits, or 10s pass.
func waitRedis(addr string, p *proc) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := dialRESP(addr)
		if err == nil {
			var reply any
			reply, err = c.do("INFO", "server")
			c.Close()
			info, _ := reply.(string)
			if err == nil {
				// Another process may hold the port if ours failed to bind.
				if !strings.Contains(info, "\nprocess_id:"+strconv.Itoa(p.cmd.Process.Pid)+"\r") {
					return fmt.Errorf("%s is served by another redis-server", addr)
				}
				return nil
			}
		}
		switch {
		case p.exited():
			return fmt.Errorf("redis-server exited: %v", p.err)
		case time.Now().After(deadline):
			return fmt.Errorf("no answer after 10s: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
