package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// ReadReplicaURLs returns the URLs of DatabaseReadReplicas, in order, without blanks. The list is
// comma-separated, and a comma not followed by a scheme belongs to the URL before it, so that a
// replica may be a multi-host URL (postgres://h1,h2/db?target_session_attrs=standby).
func (c *Config) ReadReplicaURLs() []string { return splitURLs(c.DatabaseReadReplicas) }

func splitURLs(v string) []string {
	var out []string
	for _, part := range strings.Split(v, ",") {
		p := strings.TrimSpace(part)
		switch {
		case p == "":
		case len(out) > 0 && !strings.Contains(p, "://"):
			out[len(out)-1] += "," + p
		default:
			out = append(out, p)
		}
	}
	return out
}

// checkReadReplicas requires PostgreSQL URLs, and a PostgreSQL primary: SQLite has no replicas.
// Errors name a replica by its position, never by its URL, which may hold a password.
func checkReadReplicas(c *Config) error {
	urls := c.ReadReplicaURLs()
	if len(urls) == 0 {
		return nil
	}
	if dialect, _ := c.DatabaseDSN(); dialect != "postgres" {
		return errors.New("COFFER_DATABASE_READ_REPLICAS: read replicas need PostgreSQL; COFFER_DATABASE_URL is SQLite")
	}
	var errs []error
	for i, v := range urls {
		what := fmt.Sprintf("COFFER_DATABASE_READ_REPLICAS: replica %d of %d", i+1, len(urls))
		if !hasPrefixFold(v, "postgres://") && !hasPrefixFold(v, "postgresql://") {
			errs = append(errs, fmt.Errorf("%s is not a postgres:// or postgresql:// URL", what))
			continue
		}
		errs = append(errs, checkPostgresURL(what, v))
	}
	return errors.Join(errs...)
}

// checkPostgresURL checks that v parses and that the files it names (sslrootcert, sslcert,
// sslkey) can be read, so that a typo fails at start-up with a message naming the setting. It
// quotes file paths, never the URL.
func checkPostgresURL(what, v string) error {
	// url.Parse errors quote the URL, password included: never wrap them.
	u, err := url.Parse(v)
	if err != nil || u.Fragment != "" {
		return fmt.Errorf("%s: not a valid postgres:// URL (is a special character in the password not percent-encoded?)", what)
	}
	q := u.Query()
	var errs []error
	for _, key := range []string{"sslrootcert", "sslcert", "sslkey"} {
		path := q.Get(key)
		if path == "" || (key == "sslrootcert" && path == "system") {
			continue
		}
		f, err := os.Open(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %s file %q cannot be read: %w", what, key, path, errors.Unwrap(err)))
			continue
		}
		f.Close()
	}
	if t := q.Get("connect_timeout"); t != "" {
		if n, err := strconv.Atoi(t); err != nil || n < 0 {
			errs = append(errs, fmt.Errorf("%s: connect_timeout %q is not a whole number of seconds", what, t))
		}
	}
	return errors.Join(errs...)
}

// redactReplicaURLs redacts each URL of a replica list like COFFER_DATABASE_URL: only passwords.
func redactReplicaURLs(v string) string {
	parts := splitURLs(v)
	for i, p := range parts {
		parts[i] = redactDatabaseURL(p)
	}
	return strings.Join(parts, ",")
}

func checkDatabaseMaxConns(c *Config) error {
	if c.DatabaseMaxConns < 0 || c.DatabaseMaxConns > 10000 {
		return fmt.Errorf("COFFER_DATABASE_MAX_CONNS: %d is not between 0 (automatic) and 10000", c.DatabaseMaxConns)
	}
	return nil
}

func checkStatementTimeout(c *Config) error {
	if d := c.DatabaseStatementTimeout; d < 0 || (d > 0 && d < time.Millisecond) {
		return fmt.Errorf("COFFER_DATABASE_STATEMENT_TIMEOUT: %s is not 0 (off) or at least 1ms", d)
	}
	return nil
}
