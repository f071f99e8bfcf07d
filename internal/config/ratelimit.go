package config

import (
	"errors"
	"time"
)

// rateLimitOptions are the brute-force limits on sign-in (see internal/ratelimit).
func rateLimitOptions() []Option {
	return []Option{
		int64Option("COFFER_RATE_LIMIT_LOGIN_PER_IP", "rate-limit-login-per-ip", "20",
			"User sign-in attempts (POST /api/v1/auth/login and /auth/password/login) allowed per client IP (an IPv6 /64) per minute, counted across nodes through Redis when configured; more answer 429 with Retry-After. 0 turns the limit off.",
			func(c *Config) *int64 { return &c.RateLimitLoginPerIP }).withCheck(checkRateLimits),
		int64Option("COFFER_RATE_LIMIT_MACHINE_LOGIN_PER_IP", "rate-limit-machine-login-per-ip", "60",
			"Universal-auth logins of machine identities allowed per client IP (an IPv6 /64) per minute; more answer 429 with Retry-After. 0 turns the limit off.",
			func(c *Config) *int64 { return &c.RateLimitMachineLoginPerIP }),
		int64Option("COFFER_LOCKOUT_FAILURES", "lockout-failures", "5",
			"Sign-in attempts on one account (an e-mail or a client id, known or not) that may fail within COFFER_LOCKOUT_DURATION; the next is refused and locks the account out, from every IP, for COFFER_LOCKOUT_DURATION. A success clears the count. 0 turns lockout off.",
			func(c *Config) *int64 { return &c.LockoutFailures }),
		durationOption("COFFER_LOCKOUT_DURATION", "lockout-duration", "15m0s",
			"How long failed sign-in attempts are counted towards a lockout, and how long a lockout lasts (at least 1s).",
			func(c *Config) *time.Duration { return &c.LockoutDuration }),
	}
}

func checkRateLimits(c *Config) error {
	var errs []error
	if c.RateLimitLoginPerIP < 0 {
		errs = append(errs, errors.New("COFFER_RATE_LIMIT_LOGIN_PER_IP: must be 0 (off) or more"))
	}
	if c.RateLimitMachineLoginPerIP < 0 {
		errs = append(errs, errors.New("COFFER_RATE_LIMIT_MACHINE_LOGIN_PER_IP: must be 0 (off) or more"))
	}
	if c.LockoutFailures < 0 {
		errs = append(errs, errors.New("COFFER_LOCKOUT_FAILURES: must be 0 (off) or more"))
	}
	// Zero (a Config built in code) means the default.
	if c.LockoutDuration != 0 && c.LockoutDuration < time.Second {
		errs = append(errs, errors.New("COFFER_LOCKOUT_DURATION: must be at least 1s"))
	}
	return errors.Join(errs...)
}
