package redisconn

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }

func eventually(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestOutageCostsAMissNotAWait(t *testing.T) {
	r := testenv.StartRedis(t)
	c, err := New(Options{URL: r.URL()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	c.Set(ctx, "k", []byte("sealed"), time.Minute)
	if v, ok := c.Get(ctx, "k"); !ok || !bytes.Equal(v, []byte("sealed")) {
		t.Fatalf("Get = %q, %v", v, ok)
	}
	if _, ok := c.Get(ctx, "missing"); ok {
		t.Fatal("a missing key was found")
	}
	if !c.Available() {
		t.Fatal("a miss (redis.Nil) made the client back off")
	}
	for i, want := range []int64{1, 2, 3} {
		if n, err := c.Incr(ctx, "counter", time.Minute); err != nil || n != want {
			t.Fatalf("Incr %d = %d, %v; want %d", i, n, err, want)
		}
	}
	if ttl, err := c.TTL(ctx, "counter"); err != nil || ttl <= 0 || ttl > time.Minute {
		t.Fatalf("counter TTL = %s, %v; want (0, 1m]", ttl, err)
	}

	r.Stop()
	start := time.Now()
	if _, ok := c.Get(ctx, "k"); ok {
		t.Fatal("Get succeeded with Redis down")
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("a call to a dead Redis took %s; calls must give up quickly", took)
	}
	if c.Available() {
		t.Fatal("still available after a failure")
	}
	for range 100 {
		c.Get(ctx, "k") // skipped while backing off: no call made
	}
	if skipped, failed := c.Stats(); skipped < 90 || failed < 1 {
		t.Errorf("stats skipped=%d failed=%d; want most calls skipped while backing off", skipped, failed)
	}
	if err := c.Ping(ctx); err == nil {
		t.Error("Ping succeeded with Redis down")
	}

	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	// Used again by itself once the backoff ends (Redis restarted empty).
	eventually(t, "the client to use Redis again", 10*time.Second, func() bool {
		c.Set(ctx, "k2", []byte("x"), time.Minute)
		_, ok := c.Get(ctx, "k2")
		return ok
	})
	if err := c.Ping(ctx); err != nil {
		t.Errorf("Ping after restart: %v", err)
	}
}

func TestSentinelFailover(t *testing.T) {
	s := testenv.StartRedisSentinel(t)
	c, err := New(Options{SentinelAddrs: s.Addrs(), MasterName: testenv.SentinelMaster}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	c.Set(ctx, "k", []byte("v"), time.Minute)
	if _, ok := c.Get(ctx, "k"); !ok {
		t.Fatal("Get through Sentinel failed")
	}
	s.Primary.Stop()
	s.WaitMaster(t, s.Replica.Addr(), 30*time.Second)
	eventually(t, "writes through the promoted replica", 15*time.Second, func() bool {
		c.Set(ctx, "after", []byte("v"), time.Minute)
		_, ok := c.Get(ctx, "after")
		return ok
	})
}

func TestNewRefusesBadURLWithoutQuotingIt(t *testing.T) {
	_, err := New(Options{URL: "redis://:hunter2@[::1"}, nil)
	if err == nil {
		t.Fatal("a malformed URL was accepted")
	}
	if bytes.Contains([]byte(err.Error()), []byte("hunter2")) {
		t.Fatalf("error quotes the password: %v", err)
	}
}
