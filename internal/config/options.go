package config

import (
	"errors"
	"strconv"
	"time"
)

// Option describes one setting. Options lists them; adding a setting is one entry in table plus
// one field in Config.
type Option struct {
	Env         string // environment variable, e.g. COFFER_LISTEN
	Flag        string // command-line flag without dashes, "" when none; for a secret it takes a file path
	Default     string // default value as it would be written in the environment
	Secret      bool   // never printed; never accepted as a flag value
	File        bool   // Env+"_FILE" names a file holding the value
	Description string // one line for --help, the README and `coffer config`

	kind   string                          // flag type shown in --help
	parse  func(c *Config, v string) error // sets the field; its error never quotes v
	format func(c *Config) string          // the field as it would be written in the environment
	check  func(c *Config) error           // optional, run by Validate; never quotes a secret
	redact func(v string) string           // optional: how a set secret is shown; default [REDACTED]
}

// Options returns every setting in table order. The slice is a fresh copy.
func Options() []Option { return table() }

// table is the list of settings. It is a function, not a variable, so that nothing in this
// package is global state.
func table() []Option {
	return append([]Option{
		boolOption("COFFER_DEV", "dev", "false",
			"Development mode: generated keys in the data directory, SQLite by default.",
			func(c *Config) *bool { return &c.Dev }),
		stringOption("COFFER_LISTEN", "listen", "127.0.0.1:8080",
			"Address (host:port) the HTTP server listens on.",
			func(c *Config) *string { return &c.Listen }).withCheck(checkListen),
		stringOption("COFFER_DATA_DIR", "data-dir", "./coffer-data",
			"Directory for the SQLite database and, in development mode, generated keys.",
			func(c *Config) *string { return &c.DataDir }),
		stringOption("COFFER_DATABASE_URL", "database-url-file", "",
			"Database: postgres://… or postgresql://… for PostgreSQL, sqlite:PATH for SQLite; empty means SQLite at DATA_DIR/coffer.db.",
			func(c *Config) *string { return &c.DatabaseURL }).secret().withCheck(checkDatabaseURL).withRedact(redactDatabaseURL),
		stringOption("COFFER_DATABASE_READ_REPLICAS", "database-read-replicas-file", "",
			"Comma-separated postgres:// URLs of read replicas for reads that tolerate a moment of lag; a replica that is down is skipped for a while and its reads go to the primary. PostgreSQL only.",
			func(c *Config) *string { return &c.DatabaseReadReplicas }).secret().withCheck(checkReadReplicas).withRedact(redactReplicaURLs),
		int64Option("COFFER_DATABASE_MAX_CONNS", "database-max-conns", "0",
			"PostgreSQL connections each node may open to the primary, and to each replica; 0 means 4 per CPU, at least 4. SQLite ignores it.",
			func(c *Config) *int64 { return &c.DatabaseMaxConns }).withCheck(checkDatabaseMaxConns),
		durationOption("COFFER_DATABASE_STATEMENT_TIMEOUT", "database-statement-timeout", "30s",
			"PostgreSQL statement_timeout of every connection (migrations excepted): a statement running longer is canceled and its request answers 503. 0 means none. SQLite ignores it.",
			func(c *Config) *time.Duration { return &c.DatabaseStatementTimeout }).withCheck(checkStatementTimeout),
		stringOption("COFFER_ROOT_KEY", "root-key-file", "",
			"Root encryption key: base64 of 32 bytes; several comma-separated keys for rotation, current first. With COFFER_ROOT_KEY_KMS_KEY_ID, base64 KMS ciphertext blobs of such keys instead.",
			func(c *Config) *string { return &c.RootKey }).secret().withCheck(checkRootKey),
		stringOption("COFFER_ROOT_KEY_KMS_KEY_ID", "root-key-kms-key-id", "",
			"AWS KMS key (id, ARN or alias/NAME) that wraps the root keys in COFFER_ROOT_KEY; they are unwrapped with kms:Decrypt at start (see `coffer keys generate --kms-key-id`). Empty means COFFER_ROOT_KEY holds plain keys.",
			func(c *Config) *string { return &c.RootKeyKMSKeyID }),
		stringOption("COFFER_AUTH_SECRET", "auth-secret-file", "",
			"Secret of at least 32 bytes that signs access tokens.",
			func(c *Config) *string { return &c.AuthSecret }).secret().withCheck(checkAuthSecret),
		stringOption("COFFER_SITE_URL", "site-url", "",
			"Public base URL of the server; empty means http://HOST:PORT from COFFER_LISTEN.",
			func(c *Config) *string { return &c.SiteURL }).withCheck(checkSiteURL),
		stringOption("COFFER_LOG_LEVEL", "log-level", "info",
			"Log level: debug, info, warn or error.",
			func(c *Config) *string { return &c.LogLevel }).withCheck(checkLogLevel),
		stringOption("COFFER_LOG_FORMAT", "log-format", "json",
			"Log format: json or text.",
			func(c *Config) *string { return &c.LogFormat }).withCheck(checkLogFormat),
		int64Option("COFFER_MAX_BODY_BYTES", "max-body-bytes", "4194304",
			"Largest request body accepted, in bytes (at least 1024).",
			func(c *Config) *int64 { return &c.MaxBodyBytes }).withCheck(checkMaxBodyBytes),
		durationOption("COFFER_SHUTDOWN_TIMEOUT", "shutdown-timeout", "10s",
			"How long in-flight requests get to finish on shutdown.",
			func(c *Config) *time.Duration { return &c.ShutdownTimeout }).withCheck(checkShutdownTimeout),
		int64Option("COFFER_CACHE_MAX_BYTES", "cache-max-bytes", "67108864",
			"Bound, in bytes, of the in-process cache of grants, token records and rendered secret listings (invalidated exactly on every write); 0 disables it.",
			func(c *Config) *int64 { return &c.CacheMaxBytes }).withCheck(checkCacheMaxBytes),
		stringOption("COFFER_PPROF_LISTEN", "pprof-listen", "",
			"Address (host:port) of a Go pprof endpoint, on its own listener; empty means none. Bind it to loopback: profiles show memory.",
			func(c *Config) *string { return &c.PprofListen }).withCheck(checkPprofListen),
		durationOption("COFFER_SHUTDOWN_DRAIN", "shutdown-drain", "15s",
			"On SIGTERM, how long the node keeps serving while /readyz answers 503, so the load balancer deregisters it first; then COFFER_SHUTDOWN_TIMEOUT applies.",
			func(c *Config) *time.Duration { return &c.ShutdownDrain }).withCheck(checkShutdownDrain),
		stringOption("COFFER_TLS_CERT_FILE", "tls-cert-file", "",
			"PEM certificate chain: with COFFER_TLS_KEY_FILE, COFFER_LISTEN serves HTTPS (TLS 1.2+, HSTS); both files are reloaded when they change.",
			func(c *Config) *string { return &c.TLSCertFile }).withCheck(checkTLSFiles),
		stringOption("COFFER_TLS_KEY_FILE", "tls-key-file", "",
			"PEM private key of COFFER_TLS_CERT_FILE.",
			func(c *Config) *string { return &c.TLSKeyFile }),
		stringOption("COFFER_HTTP_REDIRECT_LISTEN", "http-redirect-listen", "",
			"Address (host:port) of a plain-HTTP listener that answers 301 to HTTPS, except /healthz, /readyz and /api/status, which it serves; needs TLS. Empty means none.",
			func(c *Config) *string { return &c.HTTPRedirectListen }).withCheck(checkHTTPRedirectListen),
		stringOption("COFFER_TRUSTED_PROXIES", "trusted-proxies", "",
			"Comma-separated CIDRs of load balancers: X-Forwarded-For is believed only from these peers, and PROXY protocol headers only from them when set.",
			func(c *Config) *string { return &c.TrustedProxies }).withCheck(checkTrustedProxies),
		stringOption("COFFER_PROXY_PROTOCOL", "proxy-protocol", "off",
			"PROXY protocol v1/v2 on the listeners (an NLB): off, on (every connection must start with a header) or optional (a header is used if present; needs COFFER_TRUSTED_PROXIES).",
			func(c *Config) *string { return &c.ProxyProtocol }).withCheck(checkProxyProtocol),
	}, append(append(append(append(usersOptions(), rateLimitOptions()...), auditOptions()...), jobsOptions()...), redisOptions()...)...)
}

func stringOption(env, flag, def, desc string, field func(*Config) *string) Option {
	return Option{Env: env, Flag: flag, Default: def, Description: desc, kind: "string",
		parse:  func(c *Config, v string) error { *field(c) = v; return nil },
		format: func(c *Config) string { return *field(c) },
	}
}

func boolOption(env, flag, def, desc string, field func(*Config) *bool) Option {
	return Option{Env: env, Flag: flag, Default: def, Description: desc, kind: "bool",
		parse: func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return errors.New("not a boolean (true or false)")
			}
			*field(c) = b
			return nil
		},
		format: func(c *Config) string { return strconv.FormatBool(*field(c)) },
	}
}

func int64Option(env, flag, def, desc string, field func(*Config) *int64) Option {
	return Option{Env: env, Flag: flag, Default: def, Description: desc, kind: "int",
		parse: func(c *Config, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return errors.New("not a whole number")
			}
			*field(c) = n
			return nil
		},
		format: func(c *Config) string { return strconv.FormatInt(*field(c), 10) },
	}
}

func durationOption(env, flag, def, desc string, field func(*Config) *time.Duration) Option {
	return Option{Env: env, Flag: flag, Default: def, Description: desc, kind: "duration",
		parse: func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil {
				return errors.New("not a duration such as 10s or 1m30s")
			}
			*field(c) = d
			return nil
		},
		format: func(c *Config) string { return (*field(c)).String() },
	}
}

// secret marks o as a secret with a _FILE variant; its flag, if any, takes a file path.
func (o Option) secret() Option {
	o.Secret, o.File, o.kind = true, true, "path"
	return o
}

func (o Option) withCheck(check func(*Config) error) Option { o.check = check; return o }

func (o Option) withRedact(redact func(string) string) Option { o.redact = redact; return o }

// display returns the option's value in c as it may be shown: secrets redacted.
func (o Option) display(c *Config) string {
	if ref, ok := c.refs[o.Env]; ok {
		return ref.String() // where the secret is kept, not the secret
	}
	v := o.format(c)
	switch {
	case !o.Secret || v == "":
		return v
	case o.redact != nil:
		return o.redact(v)
	}
	return redacted
}
