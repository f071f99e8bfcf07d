// Package ratelimit provides fixed-window counters for limiting how often something may happen
// (sign-in attempts), kept in Redis so that every node shares them, or in process when there is
// no Redis or it does not answer; and Login, the sign-in policy built on them (per-IP attempts,
// per-account lockout). A limiter never fails a request because Redis is down, and its keys
// never hold a secret: account names and addresses are hashed before they become keys.
package ratelimit

import (
	"context"
	"time"
)

// Limiter keeps fixed-window counters.
type Limiter interface {
	// Incr adds 1 to the counter key, which expires window after its first increment, and
	// returns its new value.
	Incr(ctx context.Context, key string, window time.Duration) (int64, error)
	// TTL returns how long key has left (0 when it is missing).
	TTL(ctx context.Context, key string) (time.Duration, error)
	// Del deletes keys.
	Del(ctx context.Context, keys ...string) error
}

// Fallback is a Limiter that uses Shared (Redis: the counts of every node) when it answers
// and Local (in process) otherwise. Local counts every call too, so a node that loses Redis
// keeps enforcing what it saw itself; and TTL answers the longer of the two, so a lockout made
// locally while Redis was down still holds when Redis is back.
type Fallback struct {
	Shared Limiter // nil: no Redis
	Local  Limiter
}

// Incr implements Limiter.
func (f Fallback) Incr(ctx context.Context, key string, window time.Duration) (int64, error) {
	n, err := f.Local.Incr(ctx, key, window)
	if f.Shared != nil {
		if sn, serr := f.Shared.Incr(ctx, key, window); serr == nil {
			return sn, nil
		}
	}
	return n, err
}

// TTL implements Limiter.
func (f Fallback) TTL(ctx context.Context, key string) (time.Duration, error) {
	d, err := f.Local.TTL(ctx, key)
	if f.Shared != nil {
		if sd, serr := f.Shared.TTL(ctx, key); serr == nil {
			return max(d, sd), nil
		}
	}
	return d, err
}

// Del implements Limiter: it deletes in both, and reports Shared's failure.
func (f Fallback) Del(ctx context.Context, keys ...string) error {
	err := f.Local.Del(ctx, keys...)
	if f.Shared != nil {
		if serr := f.Shared.Del(ctx, keys...); serr != nil {
			return serr
		}
	}
	return err
}
