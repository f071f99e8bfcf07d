package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Validate reports, all at once, every setting that is missing or invalid. Outside Dev mode the
// root key and the auth secret are required; in Dev mode they may be empty, and the server
// generates them into the data directory. No error quotes a secret.
func (c *Config) Validate() error {
	var errs []error
	for _, o := range table() {
		if unresolved, err := c.checkResolved(o); unresolved {
			errs = append(errs, err)
		} else if o.check != nil {
			errs = append(errs, o.check(c))
		}
	}
	return errors.Join(errs...)
}

func checkPprofListen(c *Config) error {
	if c.PprofListen == "" {
		return nil
	}
	if _, _, err := net.SplitHostPort(c.PprofListen); err != nil {
		return fmt.Errorf("COFFER_PPROF_LISTEN: %q is not host:port", c.PprofListen)
	}
	return nil
}

func checkListen(c *Config) error {
	_, port, err := net.SplitHostPort(c.Listen)
	if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 0 || n > 65535 {
		return fmt.Errorf("COFFER_LISTEN: %q is not HOST:PORT (for example 127.0.0.1:8080 or :8080)", c.Listen)
	}
	return nil
}

func checkDatabaseURL(c *Config) error {
	v := c.DatabaseURL
	if v == "" {
		return nil
	}
	if dialect, _ := c.DatabaseDSN(); dialect == "postgres" {
		return checkPostgresURL("COFFER_DATABASE_URL", v) // see database.go
	}
	if path, ok := sqlitePath(v); ok {
		if path == "" || strings.ContainsAny(path, "?#") {
			return errors.New("COFFER_DATABASE_URL: give SQLite as sqlite:PATH with a path and no options (Coffer sets them)")
		}
		return nil
	}
	scheme, _, found := strings.Cut(v, "://")
	if !found || strings.Trim(scheme, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-") != "" {
		scheme = "" // nothing that looks like a scheme: show nothing rather than part of a secret
	}
	return fmt.Errorf("COFFER_DATABASE_URL: unsupported database %q: use postgres://…, postgresql://… or sqlite:PATH", scheme)
}

func checkRootKey(c *Config) error {
	if c.RootKeyKMSKeyID != "" {
		return checkWrappedRootKey(c) // see kms.go
	}
	if c.RootKey == "" {
		if c.Dev {
			return nil
		}
		return errors.New("COFFER_ROOT_KEY is not set (or COFFER_ROOT_KEY_FILE): the server needs a root encryption key; generate one with `coffer keys generate`, or run with --dev")
	}
	keys := strings.Split(c.RootKey, ",")
	var errs []error
	for i, k := range keys {
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(k))
		if err != nil || len(b) != 32 {
			errs = append(errs, fmt.Errorf("COFFER_ROOT_KEY: key %d of %d is not the base64 encoding of 32 bytes", i+1, len(keys)))
		}
	}
	return errors.Join(errs...)
}

func checkAuthSecret(c *Config) error {
	switch {
	case c.AuthSecret == "" && c.Dev:
		return nil
	case c.AuthSecret == "":
		return errors.New("COFFER_AUTH_SECRET is not set (or COFFER_AUTH_SECRET_FILE): the server needs a secret of at least 32 bytes to sign access tokens; generate one with `openssl rand -base64 32`, or run with --dev")
	case len(c.AuthSecret) < 32:
		return errors.New("COFFER_AUTH_SECRET is too short: it must be at least 32 bytes; generate one with `openssl rand -base64 32`")
	}
	return nil
}

func checkSiteURL(c *Config) error {
	if c.SiteURL == "" {
		return nil
	}
	u, err := url.Parse(c.SiteURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("COFFER_SITE_URL: %q is not an absolute http:// or https:// URL", c.SiteURL)
	}
	return nil
}

func checkLogLevel(c *Config) error {
	return checkOneOf("COFFER_LOG_LEVEL", c.LogLevel, "debug", "info", "warn", "error")
}

func checkLogFormat(c *Config) error {
	return checkOneOf("COFFER_LOG_FORMAT", c.LogFormat, "json", "text")
}

func checkOneOf(env, v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return fmt.Errorf("%s: %q is not one of %s", env, v, strings.Join(allowed, ", "))
}

func checkMaxBodyBytes(c *Config) error {
	if c.MaxBodyBytes < 1024 {
		return fmt.Errorf("COFFER_MAX_BODY_BYTES: %d is less than 1024", c.MaxBodyBytes)
	}
	return nil
}

func checkShutdownTimeout(c *Config) error {
	if c.ShutdownTimeout < 0 {
		return fmt.Errorf("COFFER_SHUTDOWN_TIMEOUT: %s is negative", c.ShutdownTimeout)
	}
	return nil
}

func checkCacheMaxBytes(c *Config) error {
	if c.CacheMaxBytes < 0 {
		return fmt.Errorf("COFFER_CACHE_MAX_BYTES: %d is negative; 0 disables the cache", c.CacheMaxBytes)
	}
	return nil
}
