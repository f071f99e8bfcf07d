// Package config provides the server's one Config, loaded from flags, then COFFER_* environment
// variables (with COFFER_*_FILE indirection for secrets), then defaults, and described by one
// table of options from which the flags, the README table and `coffer config` are generated.
//
// config never prints a secret: Dump, LogValue, String, errors and the flag set show secret
// settings as [REDACTED] (a database URL keeps everything but its password), and secrets are never
// accepted as command-line values, only as paths to files holding them.
package config

import (
	"net"
	"path/filepath"
	"strings"
	"time"
)

// Config is the server's configuration. Load fills it; Validate checks it.
type Config struct {
	Dev             bool          // development mode: generated keys, SQLite by default
	Listen          string        // host:port of the HTTP listener
	DataDir         string        // directory for the SQLite file and, in Dev mode, generated keys
	DatabaseURL     string        // secret; postgres://, postgresql:// or sqlite:PATH; "" means SQLite in DataDir
	RootKey         string        // secret; comma-separated base64 keys of 32 bytes (KMS-wrapped with RootKeyKMSKeyID), current first
	RootKeyKMSKeyID string        // AWS KMS key that wraps the root keys; empty: RootKey holds them in the clear
	AuthSecret      string        // secret; signs access tokens, at least 32 bytes
	SiteURL         string        // public base URL; see PublicURL
	LogLevel        string        // debug, info, warn or error
	LogFormat       string        // json or text
	MaxBodyBytes    int64         // largest request body accepted
	ShutdownTimeout time.Duration // how long in-flight requests get on shutdown
	PprofListen     string        // address of the profiling endpoint; empty: none
	CacheMaxBytes   int64         // bound of the in-process cache; 0 disables it
	// Redis (optional): by URL, or through Sentinel.
	RedisURL              string // secret
	RedisSentinelAddrs    string
	RedisSentinelMaster   string
	RedisPassword         string // secret
	RedisSentinelPassword string // secret
	RedisTLS              bool

	// PostgreSQL replicas and pool (see database.go); SQLite ignores them.
	DatabaseReadReplicas     string        // secret; comma-separated postgres:// URLs, see ReadReplicaURLs
	DatabaseMaxConns         int64         // pool size per database; 0: automatic
	DatabaseStatementTimeout time.Duration // statement_timeout of every connection; 0: none

	// The network edge (see network.go).
	ShutdownDrain      time.Duration // how long a stopping node stays up, not ready, before shutting down
	TLSCertFile        string        // PEM certificate chain; with TLSKeyFile, COFFER_LISTEN serves HTTPS
	TLSKeyFile         string        // PEM private key of TLSCertFile
	HTTPRedirectListen string        // host:port of a plain-HTTP listener that redirects to HTTPS; empty: none
	TrustedProxies     string        // comma-separated CIDRs whose X-Forwarded-For and PROXY headers are believed
	ProxyProtocol      string        // off, on or optional: PROXY protocol v1/v2 on the listeners

	// Users and e-mail (see users.go).
	Signup            string // invite or open
	Argon2Memory      int64  // KiB
	Argon2Iterations  int64
	Argon2Parallelism int64
	SMTPHost          string
	SMTPPort          int64
	SMTPUsername      string
	SMTPPassword      string // secret
	SMTPFrom          string
	SMTPTLS           string // starttls, implicit or none

	// Brute-force limits on sign-in (see ratelimit.go).
	RateLimitLoginPerIP        int64         // user sign-in attempts per IP per minute; 0: off
	RateLimitMachineLoginPerIP int64         // universal-auth logins per IP per minute; 0: off
	LockoutFailures            int64         // failures on one account that lock it out; 0: off
	LockoutDuration            time.Duration // failures are counted, and a lockout lasts, this long

	// The audit log (see audit.go).
	AuditStreamFile    string        // JSON lines of this node's events: a file, or "-" for stdout; "" none
	AuditStreamURL     string        // http(s) endpoint that receives JSON lines through the job table; "" none
	AuditStreamHeader  string        // secret; "Name: value" sent with each POST to AuditStreamURL
	AuditRetention     time.Duration // events older are pruned; 0 keeps them forever
	AuditFlushInterval time.Duration // longest a buffered event waits; 0: the default
	AuditCoalesceReads bool          // merge a flush's identical machine reads into one counted event

	// Background jobs and metrics (see jobs.go).
	JobsConcurrency int64         // jobs run at once on this node
	KeyRetireDelay  time.Duration // a rotated project key is destroyed this long after its data is re-encrypted
	MetricsListen   string        // host:port of a listener for /metrics alone; "" serves it on Listen

	refs map[string]setting // secret settings given as references, by variable (see refs.go)
}

// PublicURL returns the URL at which users reach the server, without a trailing slash: SiteURL
// when set, otherwise http://HOST:PORT (https:// with TLS) derived from Listen, with "localhost" for an empty or
// unspecified host.
func (c *Config) PublicURL() string {
	if c.SiteURL != "" {
		return strings.TrimRight(c.SiteURL, "/")
	}
	host, port, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return "http://" + c.Listen
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	scheme := "http://"
	if c.TLSCertFile != "" {
		scheme = "https://"
	}
	return scheme + net.JoinHostPort(host, port)
}

// DatabaseDSN returns the database dialect, "postgres" or "sqlite", and what to open: the URL as
// it is for PostgreSQL, the file path for SQLite (DataDir/coffer.db when DatabaseURL is empty).
// Call it after Validate; for an unsupported URL both results are empty.
func (c *Config) DatabaseDSN() (dialect string, dsn string) {
	u := c.DatabaseURL
	switch {
	case u == "":
		return "sqlite", filepath.Join(c.DataDir, "coffer.db")
	case hasPrefixFold(u, "postgres://"), hasPrefixFold(u, "postgresql://"):
		return "postgres", u
	}
	if path, ok := sqlitePath(u); ok {
		return "sqlite", path
	}
	return "", ""
}

// sqlitePath returns PATH from sqlite:PATH, dropping a leading "//" of the sqlite:///abs/path
// form. (file:PATH is not SQLite: like in every secret setting, it reads the value from a file.)
func sqlitePath(u string) (string, bool) {
	if hasPrefixFold(u, "sqlite:") {
		return strings.TrimPrefix(u[len("sqlite:"):], "//"), true
	}
	return "", false
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
