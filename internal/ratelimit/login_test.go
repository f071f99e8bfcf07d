package ratelimit

import (
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/redisconn"
	"github.com/cofferhq/coffer/internal/testenv"
	"github.com/redis/go-redis/v9"
)

var (
	ipA = netip.MustParseAddr("192.0.2.1")
	ipB = netip.MustParseAddr("198.51.100.7")
)

// backend is a Limiter to run the policy tests on.
type backend struct {
	name string
	new  func(t *testing.T) (Limiter, *clock) // clock: nil when time is real
}

func backends() []backend {
	return []backend{
		{"memory", func(t *testing.T) (Limiter, *clock) {
			c := newClock()
			return Fallback{Local: NewMemory(1000, c.Now)}, c
		}},
		{"redis", func(t *testing.T) (Limiter, *clock) {
			return Fallback{Shared: Redis{C: newRedisClient(t, testenv.RedisURL(t))}, Local: NewMemory(1000, nil)}, nil
		}},
	}
}

func newRedisClient(t *testing.T, url string) *redisconn.Client {
	t.Helper()
	c, err := redisconn.New(redisconn.Options{URL: url}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func newLogin(lim Limiter) *Login {
	return &Login{Limiter: lim, Scope: "user", PerIP: 100, Failures: 5, Lockout: 15 * time.Minute,
		KeySalt: []byte("salt"), Log: slog.New(slog.DiscardHandler)}
}

// wantRefusal checks that err is a 429 refusal of the given limit with a wait in (0, most].
func wantRefusal(t *testing.T, err error, limit string, most time.Duration) *Refusal {
	t.Helper()
	r := AsRefusal(err)
	if r == nil {
		t.Fatalf("got %v, want a %s refusal", err, limit)
	}
	if coffer.ErrorCode(err) != coffer.ERATELIMIT || r.Limit != limit || r.After <= 0 || r.After > most {
		t.Fatalf("refusal = code %s, limit %s, after %v; want %s, %s, in (0, %v]", coffer.ErrorCode(err), r.Limit, r.After,
			coffer.ERATELIMIT, limit, most)
	}
	return r
}

// fail makes n attempts on account from ip that are allowed (and then fail: no Succeeded).
func fail(t *testing.T, l *Login, ip netip.Addr, account string, n int) {
	t.Helper()
	for i := range n {
		if err := l.Allow(context.Background(), ip, account); err != nil {
			t.Fatalf("attempt %d on %s: %v", i+1, account, err)
		}
	}
}

func TestLoginLockout(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			lim, _ := b.new(t)
			l := newLogin(lim)
			// Four failures and a success: the count starts again.
			fail(t, l, ipA, "alice@example.com", 4)
			l.Succeeded(ctx, "alice@example.com")
			// Five attempts pass; the sixth, even with the right password, is refused and locks
			// the account for every address. An unknown account locked alike gets the same message.
			fail(t, l, ipA, "alice@example.com", 5)
			known := wantRefusal(t, l.Allow(ctx, ipA, "alice@example.com"), LimitAccount, 15*time.Minute)
			wantRefusal(t, l.Allow(ctx, ipB, "alice@example.com"), LimitAccount, 15*time.Minute)
			fail(t, l, ipB, "nobody@example.com", 5)
			unknown := wantRefusal(t, l.Allow(ctx, ipB, "nobody@example.com"), LimitAccount, 15*time.Minute)
			if coffer.ErrorMessage(known) != coffer.ErrorMessage(unknown) {
				t.Errorf("messages differ: %q and %q", coffer.ErrorMessage(known), coffer.ErrorMessage(unknown))
			}
			if msg := coffer.ErrorMessage(known); strings.Contains(msg, "alice") || !strings.Contains(msg, "15 minutes") {
				t.Errorf("message %q: want the limit named and no account", msg)
			}
			// Other accounts and other scopes are not affected.
			if err := l.Allow(ctx, ipA, "bob@example.com"); err != nil {
				t.Errorf("another account: %v", err)
			}
			other := newLogin(lim)
			other.Scope = "identity"
			if err := other.Allow(ctx, ipA, "alice@example.com"); err != nil {
				t.Errorf("the same name in another scope: %v", err)
			}
		})
	}
}

func TestLoginLockoutEnds(t *testing.T) {
	ctx := context.Background()
	t.Run("memory", func(t *testing.T) {
		c := newClock()
		l := newLogin(Fallback{Local: NewMemory(1000, c.Now)})
		fail(t, l, ipA, "alice@example.com", 5)
		wantRefusal(t, l.Allow(ctx, ipA, "alice@example.com"), LimitAccount, 15*time.Minute)
		c.Advance(15*time.Minute - time.Second)
		wantRefusal(t, l.Allow(ctx, ipA, "alice@example.com"), LimitAccount, time.Second)
		c.Advance(time.Second)
		if err := l.Allow(ctx, ipA, "alice@example.com"); err != nil {
			t.Fatalf("after the lockout: %v", err)
		}
		// Counting starts afresh.
		fail(t, l, ipA, "alice@example.com", 4)
	})
	t.Run("redis", func(t *testing.T) {
		// Redis keeps real time: a lockout of one second, waited out.
		l := newLogin(Redis{C: newRedisClient(t, testenv.RedisURL(t))})
		l.Lockout = time.Second
		for range 5 {
			l.Allow(ctx, ipA, "alice@example.com") // a slow machine may see the window end here already
		}
		r := wantRefusal(t, l.Allow(ctx, ipA, "alice@example.com"), LimitAccount, time.Second)
		time.Sleep(r.After + 50*time.Millisecond)
		if err := l.Allow(ctx, ipA, "alice@example.com"); err != nil {
			t.Fatalf("after the lockout: %v", err)
		}
	})
}

func TestLoginPerIP(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			lim, _ := b.new(t)
			l := newLogin(lim)
			l.PerIP = 3
			for i, acct := range []string{"a@example.com", "b@example.com", "c@example.com"} {
				if err := l.Allow(ctx, ipA, acct); err != nil {
					t.Fatalf("attempt %d: %v", i+1, err)
				}
			}
			r := wantRefusal(t, l.Allow(ctx, ipA, "d@example.com"), LimitIP, time.Minute)
			if msg := coffer.ErrorMessage(r); !strings.Contains(msg, "at most 3 per 1 minute") {
				t.Errorf("message %q does not name the limit", msg)
			}
			if err := l.Allow(ctx, ipB, "d@example.com"); err != nil {
				t.Errorf("another address: %v", err)
			}
			// IPv6: one /64 is one address.
			v6a, v6b := netip.MustParseAddr("2001:db8:1:2::1"), netip.MustParseAddr("2001:db8:1:2:ffff::9")
			for range 3 {
				l.Allow(ctx, v6a, "e@example.com")
			}
			wantRefusal(t, l.Allow(ctx, v6b, "e@example.com"), LimitIP, time.Minute)
			if err := l.Allow(ctx, netip.MustParseAddr("2001:db8:1:3::1"), "e@example.com"); err != nil {
				t.Errorf("another /64: %v", err)
			}
		})
	}
}

func TestLoginPerIPWindow(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	l := newLogin(Fallback{Local: NewMemory(1000, c.Now)})
	l.PerIP = 2
	l.Allow(ctx, ipA, "a")
	l.Allow(ctx, ipA, "a")
	wantRefusal(t, l.Allow(ctx, ipA, "a"), LimitIP, time.Minute)
	c.Advance(time.Minute)
	if err := l.Allow(ctx, ipA, "a"); err != nil {
		t.Fatalf("in the next window: %v", err)
	}
}

func TestNilLoginAllows(t *testing.T) {
	var l *Login
	ctx := context.Background()
	l.Succeeded(ctx, "a")
	if err := l.Allow(ctx, ipA, "a"); err != nil {
		t.Fatal(err)
	}
}

// TestRedisDown: with Redis stopped the limits hold in process, counts made before it stopped
// included, and nothing returns an error; with Redis back, a lockout made meanwhile holds.
func TestRedisDown(t *testing.T) {
	ctx := context.Background()
	srv := testenv.StartRedis(t)
	l := newLogin(Fallback{Shared: Redis{C: newRedisClient(t, srv.URL())}, Local: NewMemory(1000, nil)})
	l.PerIP = 6
	fail(t, l, ipA, "alice@example.com", 2)
	srv.Stop()
	fail(t, l, ipA, "alice@example.com", 3)
	wantRefusal(t, l.Allow(ctx, ipA, "alice@example.com"), LimitAccount, 15*time.Minute)
	fail(t, l, ipB, "x", 4)
	fail(t, l, ipB, "y", 2)
	wantRefusal(t, l.Allow(ctx, ipB, "x"), LimitIP, time.Minute)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	// Redis lost its data (a restart); the lockout made meanwhile is still in process.
	deadline := time.Now().Add(10 * time.Second)
	for l.Limiter.(Fallback).Shared.(Redis).C.Ping(ctx) != nil && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	wantRefusal(t, l.Allow(ctx, netip.MustParseAddr("192.0.2.99"), "alice@example.com"), LimitAccount, 15*time.Minute)
}

// TestKeysHoldNoSecret: what reaches Redis names neither the account nor the address.
func TestKeysHoldNoSecret(t *testing.T) {
	ctx := context.Background()
	url := testenv.RedisURL(t)
	l := newLogin(Redis{C: newRedisClient(t, url)})
	fail(t, l, ipA, "alice@example.com", 1)
	fail(t, l, ipA, "bob@example.com", 5)
	l.Allow(ctx, ipA, "bob@example.com")
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	raw := redis.NewClient(opt)
	defer raw.Close()
	keys, err := raw.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) < 4 { // ip, alice's and bob's attempts, bob's lock
		t.Fatalf("keys %v: want at least 3", keys)
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, redisPrefix+"login:user:") || strings.Contains(k, "alice") || strings.Contains(k, "bob") ||
			strings.Contains(k, "example") || strings.Contains(k, ipA.String()) {
			t.Errorf("key %q names what it counts", k)
		}
	}
}

// TestLoginBurst: 100 parallel attempts on one account get Failures checked, no more, however
// they interleave; the rest are refused.
func TestLoginBurst(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			lim, _ := b.new(t)
			l := newLogin(lim)
			var allowed, refused atomic.Int64
			var wg sync.WaitGroup
			for range 100 {
				wg.Go(func() {
					if err := l.Allow(context.Background(), ipA, "alice@example.com"); err == nil {
						allowed.Add(1)
					} else if AsRefusal(err) != nil {
						refused.Add(1)
					}
				})
			}
			wg.Wait()
			if allowed.Load() != 5 || refused.Load() != 95 {
				t.Errorf("%d allowed, %d refused; want 5 and 95", allowed.Load(), refused.Load())
			}
		})
	}
}

// TestFailureCountingLetsParallelSuccessesThrough: a fleet of one machine identity signing in
// at once from one address is never locked out; failures are what lock.
func TestFailureCountingLetsParallelSuccessesThrough(t *testing.T) {
	l := &Login{Limiter: NewMemory(1000, nil), PerIP: 3, Failures: 5, Scope: "machine", KeySalt: []byte("salt")}
	ctx := context.Background()
	ip := netip.MustParseAddr("10.0.0.1")
	var wg sync.WaitGroup
	var refused atomic.Int64
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if l.CheckIP(ctx, ip) != nil || l.Locked(ctx, "client") != nil {
				refused.Add(1)
				return
			}
			l.Succeeded(ctx, "client")
		}()
	}
	wg.Wait()
	if n := refused.Load(); n != 0 {
		t.Fatalf("%d of 100 parallel successful sign-ins refused", n)
	}
	for i := range 5 {
		if err := l.Locked(ctx, "client"); err != nil {
			t.Fatalf("locked after %d failures: %v", i, err)
		}
		l.Failed(ctx, netip.MustParseAddr("10.0.0.2"), "client")
	}
	if AsRefusal(l.Locked(ctx, "client")) == nil {
		t.Fatal("not locked after 5 failures")
	}
	if err := l.CheckIP(ctx, ip); err != nil {
		t.Fatalf("an address with no failures is refused: %v", err)
	}
	if AsRefusal(l.CheckIP(ctx, netip.MustParseAddr("10.0.0.2"))) == nil {
		t.Fatal("an address with 5 failures (limit 3) is not refused")
	}
}
