package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Redis settings. Redis is optional: a shared cache across nodes, never the only copy of
// anything. It is reached either by URL (one primary, e.g. ElastiCache's primary endpoint) or
// through Sentinel (a master name and sentinel addresses).
func redisOptions() []Option {
	return []Option{
		stringOption("COFFER_REDIS_URL", "redis-url-file", "",
			"Redis (optional shared cache): redis://[:PASSWORD@]HOST:PORT[/DB], or rediss://… for TLS. Empty: no Redis, unless Sentinel is set.",
			func(c *Config) *string { return &c.RedisURL }).secret().withCheck(checkRedis).withRedact(redactRedisURL),
		stringOption("COFFER_REDIS_SENTINEL_ADDRS", "redis-sentinel-addrs", "",
			"Comma-separated HOST:PORT of Redis Sentinels; with COFFER_REDIS_SENTINEL_MASTER, instead of COFFER_REDIS_URL.",
			func(c *Config) *string { return &c.RedisSentinelAddrs }),
		stringOption("COFFER_REDIS_SENTINEL_MASTER", "redis-sentinel-master", "",
			"Name of the Redis master the Sentinels watch.",
			func(c *Config) *string { return &c.RedisSentinelMaster }),
		stringOption("COFFER_REDIS_PASSWORD", "redis-password-file", "",
			"Password of the Redis master and replicas when reached through Sentinel (a URL carries its own).",
			func(c *Config) *string { return &c.RedisPassword }).secret(),
		stringOption("COFFER_REDIS_SENTINEL_PASSWORD", "redis-sentinel-password-file", "",
			"Password of the Sentinels, when they require one.",
			func(c *Config) *string { return &c.RedisSentinelPassword }).secret(),
		boolOption("COFFER_REDIS_TLS", "redis-tls", "false",
			"TLS to the Sentinels and the Redis they name (a URL asks for TLS with rediss://).",
			func(c *Config) *bool { return &c.RedisTLS }),
	}
}

// RedisConfigured reports whether a Redis is configured.
func (c *Config) RedisConfigured() bool { return c.RedisURL != "" || c.RedisSentinelAddrs != "" }

// RedisSentinels returns COFFER_REDIS_SENTINEL_ADDRS as a list.
func (c *Config) RedisSentinels() []string {
	var out []string
	for _, a := range strings.Split(c.RedisSentinelAddrs, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

func checkRedis(c *Config) error {
	var errs []error
	if c.RedisURL != "" {
		u, err := url.Parse(c.RedisURL)
		switch {
		case err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "":
			errs = append(errs, errors.New("COFFER_REDIS_URL: not a redis://HOST:PORT or rediss://HOST:PORT URL"))
		case c.RedisSentinelAddrs != "":
			errs = append(errs, errors.New("COFFER_REDIS_URL and COFFER_REDIS_SENTINEL_ADDRS: set one or the other"))
		}
	}
	if c.RedisSentinelAddrs != "" {
		for _, a := range c.RedisSentinels() {
			if _, port, err := net.SplitHostPort(a); err != nil || port == "" {
				errs = append(errs, fmt.Errorf("COFFER_REDIS_SENTINEL_ADDRS: %q is not HOST:PORT", a))
			}
		}
		if c.RedisSentinelMaster == "" {
			errs = append(errs, errors.New("COFFER_REDIS_SENTINEL_MASTER: required with COFFER_REDIS_SENTINEL_ADDRS"))
		}
	} else if c.RedisSentinelMaster != "" {
		errs = append(errs, errors.New("COFFER_REDIS_SENTINEL_MASTER: set, but COFFER_REDIS_SENTINEL_ADDRS is not"))
	}
	return errors.Join(errs...)
}

// redactRedisURL shows a Redis URL without its password.
func redactRedisURL(v string) string {
	u, err := url.Parse(v)
	if err != nil || u.Fragment != "" || (u.User == nil && strings.Contains(v, "@")) || strings.Contains(strings.ToLower(u.RawQuery), "password") {
		return redacted
	}
	if u.User == nil {
		return v
	}
	if _, ok := u.User.Password(); !ok {
		return redacted // redis://SECRET@host: some clients read a lone user as the password
	}
	const mark = "REDACTEDPASSWORD"
	u.User = url.UserPassword(u.User.Username(), mark)
	return strings.Replace(u.String(), ":"+mark+"@", ":"+redacted+"@", 1)
}
