package server_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/servertest"
	"github.com/cofferhq/coffer/internal/store"
	"github.com/cofferhq/coffer/internal/testenv"
)

// TestE2ERedis runs two nodes on one PostgreSQL with one Redis: listings are shared through
// Redis sealed (no value in the clear), a node answers from what the other put there, a
// tampered entry is ignored, and with Redis down every request still succeeds.
func TestE2ERedis(t *testing.T) {
	r := testenv.StartRedis(t)
	a := servertest.StartWith(t, store.Postgres, func(c *config.Config) { c.RedisURL = r.URL() })
	b := a.StartPeer(t)
	admin := a.Bootstrap(t)
	p := a.NewProject(t, admin, "redis", "member")
	const planted = "planted-value-7f3a9c"
	a.MustDo(t, http.MethodPost, "/api/v4/secrets/batch", p.Token, map[string]any{"projectId": p.ID, "environment": "dev",
		"secretPath": "/", "secrets": []map[string]any{{"secretKey": "DB_PASSWORD", "secretValue": planted}}})
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr()})
	defer rdb.Close()
	ctx := context.Background()
	hits := func() int64 {
		info, err := rdb.Info(ctx, "stats").Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(info, "\r\n") {
			if v, ok := strings.CutPrefix(line, "keyspace_hits:"); ok {
				n, _ := strconv.ParseInt(v, 10, 64)
				return n
			}
		}
		t.Fatal("no keyspace_hits in INFO stats")
		return 0
	}
	list := func(n *servertest.Node) string {
		t.Helper()
		body := string(n.MustDo(t, http.MethodGet, listPath(p.ID), p.Token, nil).Body)
		if !strings.Contains(body, planted) {
			t.Fatalf("listing lacks the value: %s", body)
		}
		return body
	}

	want := list(a) // a builds the listing and shares it
	keys, err := rdb.Keys(ctx, "coffer:listing:*").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("Redis holds %d listing keys (%v), want 1", len(keys), err)
	}
	for _, k := range keys {
		v, err := rdb.Get(ctx, k).Bytes()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(v), planted) || strings.Contains(string(v), "DB_PASSWORD") || strings.Contains(k, "DB_PASSWORD") {
			t.Fatalf("Redis holds a listing in the clear under %s", k)
		}
	}
	before := hits()
	if got := list(b); got != want {
		t.Fatalf("node b's listing differs from node a's:\n%s\n%s", got, want)
	}
	if hits() == before {
		t.Fatal("node b did not take the listing from Redis")
	}

	// A tampered entry (another listing's bytes, or garbage) is a miss, never served.
	c := a.StartPeer(t)
	if err := rdb.Set(ctx, keys[0], []byte("garbage"), 0).Err(); err != nil {
		t.Fatal(err)
	}
	if got := list(c); got != want {
		t.Fatalf("a node reading a tampered entry listed:\n%s", got)
	}

	// Redis down: every request still succeeds, including writes and fresh listings, and
	// /readyz stays ready while saying Redis is unreachable.
	r.Stop()
	for i := range 20 {
		n := []*servertest.Node{a, b}[i%2]
		list(n)
		n.MustDo(t, http.MethodPatch, "/api/v4/secrets/DB_PASSWORD", p.Token, map[string]any{"projectId": p.ID, "environment": "dev",
			"secretValue": planted + "-" + strconv.Itoa(i)})
		if body := list(n); !strings.Contains(body, planted+"-"+strconv.Itoa(i)) {
			t.Fatalf("with Redis down, a write was not read back: %s", body)
		}
	}
	ready := a.Do(t, http.MethodGet, "/readyz", "", nil)
	if ready.Status != http.StatusOK || !strings.Contains(string(ready.Body), "unreachable") {
		t.Fatalf("/readyz with Redis down: %d %s", ready.Status, ready.Body)
	}
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	// Back: used again by itself (after a short backoff).
	deadline := 0
	for {
		a.MustDo(t, http.MethodPatch, "/api/v4/secrets/DB_PASSWORD", p.Token, map[string]any{"projectId": p.ID, "environment": "dev", "secretValue": planted})
		list(a)
		if n, _ := rdb.DBSize(ctx).Result(); n > 0 {
			break
		}
		if deadline++; deadline > 200 {
			t.Fatal("Coffer did not use Redis again after it came back")
		}
	}
	if ready := a.Do(t, http.MethodGet, "/readyz", "", nil); !strings.Contains(string(ready.Body), `"redis":"ok"`) {
		t.Fatalf("/readyz with Redis back: %s", ready.Body)
	}
}
