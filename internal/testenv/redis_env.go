package testenv

import (
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"
)

// A shared Redis (COFFER_TEST_REDIS_URL) is split by logical database: each
// test reserves one index with a lock key, so that tests in this binary and in
// other test binaries running at the same time never share one. The lock keys
// live in the database the URL names (default 0), which is never handed out;
// they expire after lockTTL should a binary die holding them. Reserved
// databases are flushed when taken and when given back. Pub/sub is
// server-wide, so tests sharing a server can see each other's messages.
const lockTTL = 15 * time.Minute

var envPools sync.Map // raw URL -> func() (*redisPool, error)

type redisPool struct {
	base   url.URL
	lockDB int
	dbs    int // number of logical databases on the server
}

// envRedisURL reserves a database on the server named by raw for t.
func envRedisURL(t testing.TB, raw string) string {
	t.Helper()
	open, _ := envPools.LoadOrStore(raw, sync.OnceValues(func() (*redisPool, error) { return openRedisPool(raw) }))
	pool, err := open.(func() (*redisPool, error))()
	if err != nil {
		t.Fatalf("testenv: %s: %v", redisEnv, err)
	}
	db, token, err := pool.acquire()
	if err != nil {
		t.Fatalf("testenv: %s: %v", redisEnv, err)
	}
	t.Cleanup(func() {
		if err := pool.release(db, token); err != nil {
			t.Errorf("testenv: %s: release database %d: %v", redisEnv, db, err)
		}
	})
	u := pool.base
	u.Path = "/" + strconv.Itoa(db)
	return u.String()
}

func openRedisPool(raw string) (*redisPool, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "redis" {
		return nil, fmt.Errorf("want a redis:// URL, got %q", raw)
	}
	p := &redisPool{base: *u, dbs: 16}
	if s := u.Path; len(s) > 1 {
		if p.lockDB, err = strconv.Atoi(s[1:]); err != nil {
			return nil, fmt.Errorf("bad database index in %q", raw)
		}
	}
	c, err := p.dial(p.lockDB)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	// CONFIG may be disabled; 16 is the default then.
	if r, err := c.do("CONFIG", "GET", "databases"); err == nil {
		if a, ok := r.([]any); ok && len(a) == 2 {
			if n, err := strconv.Atoi(fmt.Sprint(a[1])); err == nil {
				p.dbs = n
			}
		}
	}
	if p.dbs < 2 {
		return nil, errors.New("the server needs at least 2 logical databases")
	}
	return p, nil
}

// dial connects, authenticates and selects db.
func (p *redisPool) dial(db int) (*respConn, error) {
	c, err := dialRESP(p.base.Host)
	if err != nil {
		return nil, err
	}
	if pass, ok := p.base.User.Password(); ok {
		if _, err = c.do("AUTH", p.base.User.Username(), pass); err != nil {
			_, err = c.do("AUTH", pass) // Redis < 6, or the default user
		}
	}
	if err == nil {
		_, err = c.do("SELECT", strconv.Itoa(db))
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func lockKey(db int) string { return "coffer-testenv:lock:" + strconv.Itoa(db) }

// acquire reserves and flushes a free database, waiting up to a minute for one.
func (p *redisPool) acquire() (db int, token string, err error) {
	token = rand.Text()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		c, err := p.dial(p.lockDB)
		if err != nil {
			return 0, "", err
		}
		for _, i := range mrand.Perm(p.dbs) {
			if i == p.lockDB {
				continue
			}
			r, err := c.do("SET", lockKey(i), token, "NX", "PX", strconv.FormatInt(lockTTL.Milliseconds(), 10))
			if err == nil && r == "OK" {
				if _, err = c.do("SELECT", strconv.Itoa(i)); err == nil {
					_, err = c.do("FLUSHDB")
				}
				c.Close()
				return i, token, err
			}
			if err != nil {
				c.Close()
				return 0, "", err
			}
		}
		c.Close()
		if time.Now().After(deadline) {
			return 0, "", fmt.Errorf("all %d databases stayed reserved for a minute", p.dbs-1)
		}
	}
}

// release flushes db and drops its lock if it still holds token.
func (p *redisPool) release(db int, token string) error {
	c, err := p.dial(db)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.do("FLUSHDB"); err != nil {
		return err
	}
	if _, err := c.do("SELECT", strconv.Itoa(p.lockDB)); err != nil {
		return err
	}
	_, err = c.do("EVAL", `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`,
		"1", lockKey(db), token)
	return err
}
