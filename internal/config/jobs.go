package config

import (
	"fmt"
	"net"
	"time"
)

// maxJobsConcurrency bounds COFFER_JOBS_CONCURRENCY: each running job may hold a database
// connection.
const maxJobsConcurrency = 256

func jobsOptions() []Option {
	return []Option{
		int64Option("COFFER_JOBS_CONCURRENCY", "jobs-concurrency", "4",
			"Background jobs (e-mail, audit streaming, pruning) this node runs at once, from the job table shared by all nodes (1 to 256; 0 means 4).",
			func(c *Config) *int64 { return &c.JobsConcurrency }).withCheck(checkJobsConcurrency),
		durationOption("COFFER_KEY_RETIRE_DELAY", "key-retire-delay", "1m0s",
			"After a project key rotation has re-encrypted everything, how long the older key is kept before it is destroyed, so that requests under way and read replicas that lag behind still open what they read (0s to 24h).",
			func(c *Config) *time.Duration { return &c.KeyRetireDelay }).withCheck(checkKeyRetireDelay),
		stringOption("COFFER_METRICS_LISTEN", "metrics-listen", "",
			"Address (host:port) of a listener that serves Prometheus /metrics alone; then /metrics is not on COFFER_LISTEN. Empty means /metrics is served on COFFER_LISTEN.",
			func(c *Config) *string { return &c.MetricsListen }).withCheck(checkMetricsListen),
	}
}

func checkJobsConcurrency(c *Config) error {
	if c.JobsConcurrency < 0 || c.JobsConcurrency > maxJobsConcurrency {
		return fmt.Errorf("COFFER_JOBS_CONCURRENCY: %d is not between 1 and %d", c.JobsConcurrency, maxJobsConcurrency)
	}
	return nil
}

func checkKeyRetireDelay(c *Config) error {
	if c.KeyRetireDelay < 0 || c.KeyRetireDelay > 24*time.Hour {
		return fmt.Errorf("COFFER_KEY_RETIRE_DELAY: %s is not between 0s and 24h", c.KeyRetireDelay)
	}
	return nil
}

func checkMetricsListen(c *Config) error {
	if c.MetricsListen == "" {
		return nil
	}
	if _, _, err := net.SplitHostPort(c.MetricsListen); err != nil {
		return fmt.Errorf("COFFER_METRICS_LISTEN: %q is not host:port", c.MetricsListen)
	}
	return nil
}
