package server

import (
	"context"
	"log/slog"

	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/redisconn"
)

// newRedis returns the node's Redis client, or nil when none is configured. It does not wait
// for Redis: a node starts, and serves, with Redis down.
func newRedis(cfg *config.Config, log *slog.Logger) (*redisconn.Client, error) {
	if !cfg.RedisConfigured() {
		return nil, nil
	}
	rc, err := redisconn.New(redisconn.Options{URL: cfg.RedisURL, SentinelAddrs: cfg.RedisSentinels(),
		MasterName: cfg.RedisSentinelMaster, Password: cfg.RedisPassword, SentinelPassword: cfg.RedisSentinelPassword,
		TLS: cfg.RedisTLS}, log)
	if err != nil {
		return nil, err
	}
	if err := rc.Ping(context.Background()); err != nil {
		log.Warn("redis configured but not answering; serving from the database until it does", "error", err)
	}
	return rc, nil
}

// redisStatus is what /readyz says of Redis: its state, never a reason to be unready (Redis
// is a cache; a node without it serves every request from the database).
func redisStatus(ctx context.Context, rc *redisconn.Client) string {
	if rc == nil {
		return "not configured"
	}
	if err := rc.Ping(ctx); err != nil {
		return "unreachable (serving from the database)"
	}
	return "ok"
}
