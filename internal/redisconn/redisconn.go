// Package redisconn provides Coffer's connection to its optional Redis (one primary by URL, or a
// master found through Sentinel), built so that Redis can fail without costing a request
// anything but a cache miss: every call has a short deadline, and after a failure Redis is
// skipped for a backoff (100 ms doubling to 5 s) instead of being waited on by every request.
// When Redis answers again it is used again, by itself.
//
// Redis holds only what may be lost: sealed (ciphertext) cache entries and counters. Nothing in
// this package logs a key's value.
package redisconn

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Options say how to reach Redis: URL, or SentinelAddrs with MasterName.
type Options struct {
	URL              string
	SentinelAddrs    []string
	MasterName       string
	Password         string // of the master, in Sentinel mode
	SentinelPassword string
	TLS              bool // in Sentinel mode; a URL says rediss://
}

// Deadlines and backoff.
const (
	opTimeout  = 250 * time.Millisecond
	backoffMin = 100 * time.Millisecond
	backoffMax = 5 * time.Second
)

// Client is safe for concurrent use.
type Client struct {
	rdb       redis.UniversalClient
	log       *slog.Logger
	downUntil atomic.Int64 // Unix nanoseconds before which Redis is skipped
	failures  atomic.Int32 // consecutive failures
	skipped   atomic.Int64 // calls not made because Redis was backing off
	errors    atomic.Int64 // calls that failed
}

// New returns a Client; it does not connect until used.
func New(o Options, log *slog.Logger) (*Client, error) {
	if log == nil {
		log = slog.Default()
	}
	var rdb redis.UniversalClient
	switch {
	case o.URL != "":
		ro, err := redis.ParseURL(o.URL)
		if err != nil {
			return nil, errors.New("COFFER_REDIS_URL: not a Redis URL") // err may quote the password
		}
		tune(ro)
		rdb = redis.NewClient(ro)
	case len(o.SentinelAddrs) > 0:
		fo := &redis.FailoverOptions{MasterName: o.MasterName, SentinelAddrs: o.SentinelAddrs,
			SentinelPassword: o.SentinelPassword, Password: o.Password,
			DialTimeout: opTimeout, ReadTimeout: opTimeout, WriteTimeout: opTimeout, PoolTimeout: opTimeout,
			MaxRetries: -1, ContextTimeoutEnabled: true}
		if o.TLS {
			fo.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		rdb = redis.NewFailoverClient(fo)
	default:
		return nil, errors.New("redisconn: neither a URL nor Sentinel addresses")
	}
	return &Client{rdb: rdb, log: log}, nil
}

func tune(o *redis.Options) {
	o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout = opTimeout, opTimeout, opTimeout, opTimeout
	o.MaxRetries = -1 // one attempt: a failure backs off instead
	o.ContextTimeoutEnabled = true
}

// Close closes the connections.
func (c *Client) Close() error { return c.rdb.Close() }

// Available reports whether Redis is being used now (false while backing off after a failure).
func (c *Client) Available() bool { return time.Now().UnixNano() >= c.downUntil.Load() }

// Stats returns how many calls were skipped while backing off and how many failed.
func (c *Client) Stats() (skipped, failed int64) { return c.skipped.Load(), c.errors.Load() }

// ErrUnavailable is returned, without a call, while Redis is backing off.
var ErrUnavailable = errors.New("redis unavailable")

// do runs f with a deadline unless Redis is backing off, and keeps the backoff state.
func (c *Client) do(ctx context.Context, f func(ctx context.Context) error) error {
	if !c.Available() {
		c.skipped.Add(1)
		return ErrUnavailable
	}
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	err := f(ctx)
	if err == nil || errors.Is(err, redis.Nil) {
		if c.failures.Swap(0) > 0 {
			c.log.Info("redis: reachable again; using it")
		}
		return err
	}
	c.errors.Add(1)
	n := c.failures.Add(1)
	wait := min(backoffMin<<min(n-1, 10), backoffMax)
	c.downUntil.Store(time.Now().Add(wait).UnixNano())
	if n == 1 {
		c.log.Warn("redis: call failed; requests go to the database until it answers again", "error", redactErr(err))
	}
	return err
}

// redactErr keeps an error from quoting anything but its kind: go-redis errors name addresses
// and commands, never values, but a server reply could echo arguments.
func redactErr(err error) string {
	var ne interface{ Timeout() bool }
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, ErrUnavailable):
		return "unavailable"
	}
	return fmt.Sprintf("%T", err)
}

// Get returns the value of key; ok is false when it is missing or Redis failed.
func (c *Client) Get(ctx context.Context, key string) (v []byte, ok bool) {
	err := c.do(ctx, func(ctx context.Context) error {
		var err error
		v, err = c.rdb.Get(ctx, key).Bytes()
		return err
	})
	return v, err == nil
}

// Set stores v under key for ttl; a failure is only counted (a cache write may be lost).
func (c *Client) Set(ctx context.Context, key string, v []byte, ttl time.Duration) {
	_ = c.do(ctx, func(ctx context.Context) error { return c.rdb.Set(ctx, key, v, ttl).Err() })
}

// Incr adds 1 to the counter key, which expires window after its first increment, and returns
// its new value: a fixed-window counter shared by every node (rate limits).
func (c *Client) Incr(ctx context.Context, key string, window time.Duration) (int64, error) {
	var n int64
	err := c.do(ctx, func(ctx context.Context) error {
		pipe := c.rdb.TxPipeline()
		incr := pipe.Incr(ctx, key)
		pipe.ExpireNX(ctx, key, window)
		if _, err := pipe.Exec(ctx); err != nil {
			return err
		}
		n = incr.Val()
		return nil
	})
	return n, err
}

// TTL returns how long key has left (0 when it has no expiry or is missing).
func (c *Client) TTL(ctx context.Context, key string) (time.Duration, error) {
	var d time.Duration
	err := c.do(ctx, func(ctx context.Context) error {
		var err error
		d, err = c.rdb.PTTL(ctx, key).Result()
		return err
	})
	return max(d, 0), err
}

// Del deletes keys.
func (c *Client) Del(ctx context.Context, keys ...string) error {
	return c.do(ctx, func(ctx context.Context) error { return c.rdb.Del(ctx, keys...).Err() })
}

// Ping checks that Redis answers now, ignoring the backoff (for /readyz and start-up checks).
func (c *Client) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	if err := c.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis: %s", redactErr(err))
	}
	return nil
}
