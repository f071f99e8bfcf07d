package ratelimit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/cofferhq/coffer"
)

// Defaults of a Login's windows.
const (
	DefaultIPWindow = time.Minute
	DefaultLockout  = 15 * time.Minute
)

// Login is the brute-force policy of one kind of sign-in (users' passwords, or machine
// identities' universal auth): at most PerIP attempts from one client address per IPWindow, and
// at most Failures attempts on one account within Lockout that do not end in Succeeded; the
// next is refused, and the account stays refused from every address for Lockout. Attempts are
// counted before the credentials are checked, so a burst of guesses on one account, however
// parallel, gets Failures of them checked at most; attempts refused during a lockout are not
// counted.
//
// Accounts are counted whether they exist or not, and a refusal never says which: the caller
// must give the same answer for both. A nil *Login allows everything.
type Login struct {
	Limiter  Limiter
	Scope    string        // "user", "identity": the key space, so one kind never counts for the other
	PerIP    int64         // attempts per address per IPWindow; 0: no limit
	IPWindow time.Duration // 0: DefaultIPWindow
	Failures int64         // attempts per account without success before a lockout; 0: no lockout
	Lockout  time.Duration // how long attempts are counted, and how long a lockout lasts; 0: DefaultLockout
	// KeySalt keys the hash that turns account names and addresses into counter keys, so that
	// a Redis dump does not list who tried to sign in. Every node must use the same.
	KeySalt []byte
	Log     *slog.Logger // limiter errors; nil: slog.Default()
}

// Limits a Refusal names.
const (
	LimitIP      = "ip"
	LimitAccount = "account"
)

// Refusal is the error of a refused attempt: ERATELIMIT (429) with the time to wait, which
// httpserver writes as Retry-After.
type Refusal struct {
	Limit string        // LimitIP or LimitAccount
	After time.Duration // until the limit lifts
	err   *coffer.Error
}

// Error implements error.
func (r *Refusal) Error() string { return r.err.Error() }

// Unwrap returns the domain error.
func (r *Refusal) Unwrap() error { return r.err }

// RetryAfter returns how long to wait before trying again.
func (r *Refusal) RetryAfter() time.Duration { return r.After }

// AsRefusal returns the Refusal in err's chain, or nil.
func AsRefusal(err error) *Refusal {
	var r *Refusal
	if errors.As(err, &r) {
		return r
	}
	return nil
}

func (l *Login) ipWindow() time.Duration {
	if l.IPWindow > 0 {
		return l.IPWindow
	}
	return DefaultIPWindow
}

func (l *Login) lockout() time.Duration {
	if l.Lockout > 0 {
		return l.Lockout
	}
	return DefaultLockout
}

// key returns the counter key of what (an address or an account) under kind.
func (l *Login) key(kind, what string) string {
	m := hmac.New(sha256.New, l.KeySalt)
	m.Write([]byte(kind + "\x00" + what))
	return "login:" + l.Scope + ":" + kind + ":" + hex.EncodeToString(m.Sum(nil)[:16])
}

// addrKey is what an address counts as: itself for IPv4, its /64 for IPv6 (one host easily
// holds a whole /64).
func addrKey(ip netip.Addr) string {
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

func (l *Login) logErr(ctx context.Context, op string, err error) {
	log := l.Log
	if log == nil {
		log = slog.Default()
	}
	log.WarnContext(ctx, "rate limit: counter unavailable; the attempt is allowed", "op", op, "scope", l.Scope, "err", err)
}

// Allow is AllowIP and then AllowAccount.
func (l *Login) Allow(ctx context.Context, ip netip.Addr, account string) error {
	if err := l.AllowIP(ctx, ip); err != nil {
		return err
	}
	return l.AllowAccount(ctx, account)
}

// AllowIP counts an attempt from ip and returns a *Refusal when the address has made too many.
// Call it before anything else is done for the attempt. An invalid ip is not counted. When the
// counters cannot be reached the attempt is allowed.
func (l *Login) AllowIP(ctx context.Context, ip netip.Addr) error {
	if l == nil || l.PerIP <= 0 || !ip.IsValid() {
		return nil
	}
	k := l.key("ip", addrKey(ip))
	n, err := l.Limiter.Incr(ctx, k, l.ipWindow())
	if err != nil {
		l.logErr(ctx, "incr", err)
		return nil
	}
	if n <= l.PerIP {
		return nil
	}
	d, err := l.Limiter.TTL(ctx, k)
	if err != nil || d <= 0 {
		d = l.ipWindow()
	}
	return &Refusal{Limit: LimitIP, After: d, err: coffer.Errorf(coffer.ERATELIMIT,
		"Too many sign-in attempts from this address (at most %d per %s); try again later", l.PerIP, human(l.ipWindow()))}
}

// AllowAccount counts an attempt on account, before its credentials are checked, and returns
// a *Refusal when the account is locked out or this attempt is one too many (which locks it
// out). When the counters cannot be reached the attempt is allowed.
func (l *Login) AllowAccount(ctx context.Context, account string) error {
	if l == nil || l.Failures <= 0 {
		return nil
	}
	lock := l.key("lock", account)
	if d, err := l.Limiter.TTL(ctx, lock); err != nil {
		l.logErr(ctx, "ttl", err)
	} else if d > 0 {
		return &Refusal{Limit: LimitAccount, After: d, err: l.lockedError()}
	}
	// The attempt counter is never cleared by a lockout: it started before the lock, so it
	// expires before the lock does, and an attempt counted just as another locked the account
	// is refused too.
	n, err := l.Limiter.Incr(ctx, l.key("try", account), l.lockout())
	if err != nil {
		l.logErr(ctx, "incr", err)
		return nil
	}
	if n <= l.Failures {
		return nil
	}
	if _, err := l.Limiter.Incr(ctx, lock, l.lockout()); err != nil {
		l.logErr(ctx, "incr", err)
	}
	d, err := l.Limiter.TTL(ctx, lock)
	if err != nil || d <= 0 {
		d = l.lockout()
	}
	return &Refusal{Limit: LimitAccount, After: d, err: l.lockedError()}
}

// Failure counting, for credentials that legitimate clients present in parallel bursts (a
// fleet of pods of one machine identity, behind one address, starting at once): counting every
// attempt before the check would lock such a fleet out. Check with CheckIP and Locked before
// comparing the credentials, and count with Failed after a wrong one. Comparing a machine's
// client secret costs a hash, not argon2, so a parallel burst of guesses can get at most its
// own concurrency checked before the counters refuse it.

// CheckIP returns a *Refusal when ip has failed too often in the current window, counting
// nothing.
func (l *Login) CheckIP(ctx context.Context, ip netip.Addr) error {
	if l == nil || l.PerIP <= 0 || !ip.IsValid() {
		return nil
	}
	d, err := l.Limiter.TTL(ctx, l.key("ipblock", addrKey(ip)))
	if err != nil {
		l.logErr(ctx, "ttl", err)
		return nil
	}
	if d <= 0 {
		return nil
	}
	return &Refusal{Limit: LimitIP, After: d, err: coffer.Errorf(coffer.ERATELIMIT,
		"Too many failed sign-in attempts from this address (at most %d per %s); try again later", l.PerIP, human(l.ipWindow()))}
}

// Locked returns a *Refusal when account is locked out, counting nothing.
func (l *Login) Locked(ctx context.Context, account string) error {
	if l == nil || l.Failures <= 0 {
		return nil
	}
	if d, err := l.Limiter.TTL(ctx, l.key("lock", account)); err != nil {
		l.logErr(ctx, "ttl", err)
	} else if d > 0 {
		return &Refusal{Limit: LimitAccount, After: d, err: l.lockedError()}
	}
	return nil
}

// Failed counts a failed attempt on account from ip: the address's failures, and the account's,
// which lock it out when they reach the limit.
func (l *Login) Failed(ctx context.Context, ip netip.Addr, account string) {
	if l == nil {
		return
	}
	if l.PerIP > 0 && ip.IsValid() {
		n, err := l.Limiter.Incr(ctx, l.key("ipfail", addrKey(ip)), l.ipWindow())
		if err != nil {
			l.logErr(ctx, "incr", err)
		} else if n >= l.PerIP {
			if _, err := l.Limiter.Incr(ctx, l.key("ipblock", addrKey(ip)), l.ipWindow()); err != nil {
				l.logErr(ctx, "incr", err)
			}
		}
	}
	if l.Failures <= 0 {
		return
	}
	n, err := l.Limiter.Incr(ctx, l.key("try", account), l.lockout())
	if err != nil {
		l.logErr(ctx, "incr", err)
		return
	}
	if n >= l.Failures {
		if _, err := l.Limiter.Incr(ctx, l.key("lock", account), l.lockout()); err != nil {
			l.logErr(ctx, "incr", err)
		}
	}
}

// lockedError is the message of an account lockout: the same for every account, existing or not.
func (l *Login) lockedError() *coffer.Error {
	return coffer.Errorf(coffer.ERATELIMIT, "Too many failed sign-in attempts (%d within %s): sign-in is locked for %s; try again later",
		l.Failures, human(l.lockout()), human(l.lockout()))
}

// Succeeded clears the attempts counted on account: its credentials were right.
func (l *Login) Succeeded(ctx context.Context, account string) {
	if l == nil || l.Failures <= 0 {
		return
	}
	if err := l.Limiter.Del(ctx, l.key("try", account)); err != nil {
		l.logErr(ctx, "del", err)
	}
}

// human writes a duration for a message: "15 minutes", "1 minute", "30 seconds".
func human(d time.Duration) string {
	unit := func(n int64, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %ss", n, one)
	}
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return unit(int64(d/time.Hour), "hour")
	case d >= time.Minute && d%time.Minute == 0:
		return unit(int64(d/time.Minute), "minute")
	case d >= time.Second && d%time.Second == 0:
		return unit(int64(d/time.Second), "second")
	}
	return d.String()
}
