package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"log/slog"
	"time"

	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/ratelimit"
	"github.com/cofferhq/coffer/internal/redisconn"
)

// rateLimitKeys bounds the node's in-process counters (addresses and accounts); each costs
// about 100 bytes.
const rateLimitKeys = 100_000

// newLoginLimits returns the brute-force limits of users' and machines' sign-ins: counted in
// Redis, shared by every node, when rc is set, and always in process as well, so that they hold
// when Redis does not answer. The counters read the service clock now.
func newLoginLimits(cfg *config.Config, rc *redisconn.Client, now func() time.Time, log *slog.Logger) (users, machines *ratelimit.Login) {
	lim := ratelimit.Fallback{Local: ratelimit.NewMemory(rateLimitKeys, now)}
	if rc != nil {
		lim.Shared = ratelimit.Redis{C: rc}
	}
	m := hmac.New(sha256.New, []byte(cfg.AuthSecret))
	m.Write([]byte("coffer rate-limit keys"))
	salt := m.Sum(nil)
	users = &ratelimit.Login{Limiter: lim, Scope: "user", PerIP: cfg.RateLimitLoginPerIP,
		Failures: cfg.LockoutFailures, Lockout: cfg.LockoutDuration, KeySalt: salt, Log: log}
	machines = &ratelimit.Login{Limiter: lim, Scope: "identity", PerIP: cfg.RateLimitMachineLoginPerIP,
		Failures: cfg.LockoutFailures, Lockout: cfg.LockoutDuration, KeySalt: salt, Log: log}
	return users, machines
}
