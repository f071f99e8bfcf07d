package config

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// auditOptions are the settings of the audit log.
func auditOptions() []Option {
	return []Option{
		stringOption("COFFER_AUDIT_STREAM_FILE", "audit-stream-file", "",
			"Write every audit event this node records, as one JSON line, to this file (appended, created 0600), or to standard output with -; empty means no stream.",
			func(c *Config) *string { return &c.AuditStreamFile }),
		stringOption("COFFER_AUDIT_STREAM_URL", "audit-stream-url", "",
			"POST every audit event, as JSON lines (application/x-ndjson), to this http(s) URL; delivery goes through the job table and is retried while the endpoint fails. Empty means none.",
			func(c *Config) *string { return &c.AuditStreamURL }).withCheck(checkAuditStreamURL),
		stringOption("COFFER_AUDIT_STREAM_HEADER", "audit-stream-header-file", "",
			"Header sent with each POST to COFFER_AUDIT_STREAM_URL, as \"Name: value\" (a bare value is sent as Authorization), e.g. \"Authorization: Splunk TOKEN\".",
			func(c *Config) *string { return &c.AuditStreamHeader }).secret(),
		retentionOption("COFFER_AUDIT_RETENTION", "audit-retention", "0",
			"How long audit events are kept, e.g. 365d or 2160h; older ones are pruned every hour (the chain stays verifiable from the last pruned event). 0 keeps them forever.",
			func(c *Config) *time.Duration { return &c.AuditRetention }),
		durationOption("COFFER_AUDIT_FLUSH_INTERVAL", "audit-flush-interval", "100ms",
			"Longest a buffered audit event (a machine's secret read, a failed sign-in, a denial) waits before it is written (1ms to 10s); a crash loses at most that much.",
			func(c *Config) *time.Duration { return &c.AuditFlushInterval }).withCheck(checkAuditFlushInterval),
		boolOption("COFFER_AUDIT_COALESCE_READS", "audit-coalesce-reads", "true",
			"Record the machine reads of one flush interval that repeat one another exactly (same identity, IP, user agent, scope and keys) as one event with a count and the first and last request ids; false records one event per read.",
			func(c *Config) *bool { return &c.AuditCoalesceReads }),
	}
}

// retentionOption is a duration that also takes whole days ("365d").
func retentionOption(env, flag, def, desc string, field func(*Config) *time.Duration) Option {
	return Option{Env: env, Flag: flag, Default: def, Description: desc, kind: "duration",
		parse: func(c *Config, v string) error {
			d, err := parseDays(v)
			if err != nil {
				return err
			}
			*field(c) = d
			return nil
		},
		format: func(c *Config) string {
			d := *field(c)
			if d > 0 && d%(24*time.Hour) == 0 {
				return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
			}
			if d == 0 {
				return "0"
			}
			return d.String()
		},
	}
}

// parseDays reads "0", "365d" or a Go duration ("2160h"); negative values are refused.
func parseDays(v string) (time.Duration, error) {
	var d time.Duration
	if n, ok := strings.CutSuffix(v, "d"); ok {
		days, err := strconv.ParseInt(n, 10, 64)
		if err != nil || days < 0 || days > 100*366 {
			return 0, errors.New("not a number of days such as 365d")
		}
		d = time.Duration(days) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			return 0, errors.New("not a duration such as 365d or 2160h")
		}
	}
	if d < 0 {
		return 0, errors.New("must not be negative")
	}
	return d, nil
}

func checkAuditStreamURL(c *Config) error {
	if c.AuditStreamURL == "" {
		return nil
	}
	u, err := url.Parse(c.AuditStreamURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("COFFER_AUDIT_STREAM_URL: must be an http:// or https:// URL")
	}
	if u.User != nil {
		return fmt.Errorf("COFFER_AUDIT_STREAM_URL: put credentials in COFFER_AUDIT_STREAM_HEADER, not in the URL")
	}
	return nil
}

func checkAuditFlushInterval(c *Config) error {
	if c.AuditFlushInterval == 0 { // a Config built in code: the default
		return nil
	}
	if c.AuditFlushInterval < time.Millisecond || c.AuditFlushInterval > 10*time.Second {
		return fmt.Errorf("COFFER_AUDIT_FLUSH_INTERVAL: must be between 1ms and 10s")
	}
	return nil
}
