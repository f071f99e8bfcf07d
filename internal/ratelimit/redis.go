package ratelimit

import (
	"context"
	"time"

	"github.com/cofferhq/coffer/internal/redisconn"
)

// redisPrefix namespaces the counters in Redis.
const redisPrefix = "coffer:ratelimit:"

// Redis is a Limiter in Redis, shared by every node. Its calls fail fast while Redis is down
// (see redisconn); use it inside a Fallback.
type Redis struct {
	C *redisconn.Client
}

// Incr implements Limiter.
func (r Redis) Incr(ctx context.Context, key string, window time.Duration) (int64, error) {
	return r.C.Incr(ctx, redisPrefix+key, window)
}

// TTL implements Limiter.
func (r Redis) TTL(ctx context.Context, key string) (time.Duration, error) {
	return r.C.TTL(ctx, redisPrefix+key)
}

// Del implements Limiter.
func (r Redis) Del(ctx context.Context, keys ...string) error {
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = redisPrefix + k
	}
	return r.C.Del(ctx, full...)
}
