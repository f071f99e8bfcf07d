package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/server"
	"github.com/cofferhq/coffer/internal/servertest"
	"github.com/cofferhq/coffer/internal/store"
	"github.com/cofferhq/coffer/internal/testenv"
)

const bfAgent = "bruteforce-test/1"

// bfClock is a settable clock for the node's services (and its in-process counters).
type bfClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *bfClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *bfClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

// bfNode starts a bootstrapped node that believes X-Forwarded-For from loopback (so a test
// can sign in "from" any address), with cheap password hashing, the given Redis ("" none) and
// clock, and production's limits unless configure changes them.
func bfNode(t *testing.T, dialect, redisURL string, clock *bfClock, configure func(*config.Config)) (*servertest.Node, *servertest.Admin) {
	t.Helper()
	var opt server.Options
	if clock != nil {
		opt.Now = clock.Now
	}
	n := servertest.StartOptions(t, dialect, func(c *config.Config) {
		c.TrustedProxies, c.RedisURL = "127.0.0.1/32", redisURL
		c.Argon2Memory, c.Argon2Iterations = 8192, 1
		c.RateLimitLoginPerIP, c.RateLimitMachineLoginPerIP = 20, 60 // servertest turns them off
		if configure != nil {
			configure(c)
		}
	}, opt)
	return n, n.Bootstrap(t)
}

// bfSignIn signs in as email from ip through POST /api/v1/auth/login.
func bfSignIn(t *testing.T, n *servertest.Node, ip, email, password string) *servertest.Response {
	t.Helper()
	return n.Do(t, http.MethodPost, "/api/v1/auth/login", "", map[string]any{"email": email, "password": password},
		"X-Forwarded-For", ip, "User-Agent", bfAgent)
}

// bfMachineLogin logs in with universal auth from ip.
func bfMachineLogin(t *testing.T, n *servertest.Node, ip, clientID, secret string) *servertest.Response {
	t.Helper()
	return n.Do(t, http.MethodPost, "/api/v1/auth/universal-auth/login", "", map[string]any{"clientId": clientID, "clientSecret": secret},
		"X-Forwarded-For", ip, "User-Agent", bfAgent)
}

// bfWant checks r's status; for a 5xx it says so loudly (the limits must never cause one).
func bfWant(t *testing.T, r *servertest.Response, status int, what string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: %d %s, want %d", what, r.Status, r.Body, status)
	}
}

// bfRefused checks that r is Infisical's 429 with a Retry-After of 1 to most seconds, and
// returns its message and Retry-After.
func bfRefused(t *testing.T, r *servertest.Response, most int, what string) (msg, retry string) {
	t.Helper()
	bfWant(t, r, http.StatusTooManyRequests, what)
	var body struct {
		StatusCode int    `json:"statusCode"`
		Error      string `json:"error"`
		Message    string `json:"message"`
		ReqID      string `json:"reqId"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatalf("%s: %v: %s", what, err, r.Body)
	}
	if body.StatusCode != 429 || body.Error != "RateLimitError" || body.Message == "" || body.ReqID == "" {
		t.Errorf("%s: body %s", what, r.Body)
	}
	retry = r.Header.Get("Retry-After")
	if s, err := strconv.Atoi(retry); err != nil || s < 1 || s > most {
		t.Errorf("%s: Retry-After %q, want 1 to %d seconds", what, retry, most)
	}
	return body.Message, retry
}

// bfVariants runs f on each dialect, without Redis and with one.
func bfVariants(t *testing.T, f func(t *testing.T, dialect, redisURL string)) {
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		t.Run("in-process", func(t *testing.T) { f(t, dialect, "") })
		t.Run("redis", func(t *testing.T) { f(t, dialect, testenv.RedisURL(t)) })
	})
}

// TestBruteForceLockout: five wrong passwords lock an account out, from every address and on
// both sign-in routes, even with the right password; an unknown e-mail is answered the same
// way; universal auth alike; every refusal is audited.
func TestBruteForceLockout(t *testing.T) {
	bfVariants(t, func(t *testing.T, dialect, redisURL string) {
		clock := &bfClock{}
		n, admin := bfNode(t, dialect, redisURL, clock, nil)
		const ipA, ipB = "203.0.113.10", "198.51.100.20"
		_, clientID, secret, _ := n.NewIdentity(t, admin, "robot", "member")

		// A success clears the failures: 4 wrong, right, 4 wrong is no lockout.
		for range 4 {
			bfWant(t, bfSignIn(t, n, ipA, admin.Email, "wrong password"), http.StatusUnauthorized, "wrong password")
		}
		bfWant(t, bfSignIn(t, n, ipA, admin.Email, admin.Password), http.StatusOK, "right password after 4 failures")
		for range 4 {
			bfWant(t, bfSignIn(t, n, ipA, admin.Email, "wrong password"), http.StatusUnauthorized, "wrong password")
		}
		bfWant(t, bfSignIn(t, n, ipA, admin.Email, "wrong password"), http.StatusUnauthorized, "fifth wrong password")
		known, knownRetry := bfRefused(t, bfSignIn(t, n, ipA, admin.Email, admin.Password), 900, "right password after 5 failures")
		bfRefused(t, bfSignIn(t, n, ipB, admin.Email, admin.Password), 900, "from another address")
		bfRefused(t, n.Do(t, http.MethodPost, "/api/v1/auth/password/login", "", map[string]any{"email": admin.Email, "password": admin.Password},
			"X-Forwarded-For", ipB, "User-Agent", bfAgent), 900, "the older route")

		// An unknown e-mail: the same answers at every step.
		for range 5 {
			bfWant(t, bfSignIn(t, n, ipB, "nobody@example.com", "wrong password"), http.StatusUnauthorized, "unknown e-mail")
		}
		unknown, unknownRetry := bfRefused(t, bfSignIn(t, n, ipB, "nobody@example.com", "wrong password"), 900, "unknown e-mail locked out")
		if known != unknown {
			t.Errorf("a locked-out account says %q, an unknown one %q", known, unknown)
		}
		if !strings.Contains(known, "15 minutes") || strings.Contains(known, admin.Email) {
			t.Errorf("message %q: want the limit named, no account", known)
		}
		if redisURL == "" && knownRetry != unknownRetry { // Redis keeps its own (real) time
			t.Errorf("Retry-After %s for a known account, %s for an unknown one", knownRetry, unknownRetry)
		}

		// Machines: five wrong client secrets lock the client id out.
		for range 5 {
			bfWant(t, bfMachineLogin(t, n, ipA, clientID, "wrong-secret"), http.StatusUnauthorized, "wrong client secret")
		}
		idMsg, _ := bfRefused(t, bfMachineLogin(t, n, ipB, clientID, secret), 900, "right client secret after 5 failures")
		for range 5 {
			bfWant(t, bfMachineLogin(t, n, ipA, "no-such-client-id", "wrong-secret"), http.StatusUnauthorized, "unknown client id")
		}
		if m, _ := bfRefused(t, bfMachineLogin(t, n, ipA, "no-such-client-id", "wrong-secret"), 900, "unknown client id locked out"); m != idMsg {
			t.Errorf("a locked-out client id says %q, an unknown one %q", idMsg, m)
		}

		// Every refusal is audited, with the address and user agent.
		if err := n.Server.Audit.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		all, _ := auditPage(t, n, admin.Token, "limit=1000")
		for _, c := range []struct {
			action string
			ips    []string
		}{{"user.login_rate_limited", []string{ipA, ipB, ipB}}, {"identity.login_rate_limited", []string{ipB}}} {
			evs := findEvents(all, c.action)
			if len(evs) != len(c.ips) {
				t.Fatalf("%d %s events, want %d", len(evs), c.action, len(c.ips))
			}
			for i, e := range evs {
				if e.Outcome != "denied" || e.Event.Metadata["limit"] != "account" || e.UserAgent != bfAgent || e.OrgID != admin.OrgID ||
					!containsIP(c.ips, e.IPAddress) || e.Event.Metadata["retryAfterSeconds"] == nil {
					t.Errorf("%s event %d: outcome %s ip %s ua %q org %s metadata %v", c.action, i, e.Outcome, e.IPAddress, e.UserAgent, e.OrgID, e.Event.Metadata)
				}
			}
		}
		if got := len(findEvents(all, "user.login_failed")); got < 9 {
			t.Errorf("%d user.login_failed events, want the 9 wrong passwords", got)
		}

		// When the lockout has passed, the right password signs in (the clock moves only the
		// in-process counters; Redis keeps real time, and its expiry is tested in ratelimit).
		if redisURL == "" {
			clock.Advance(15*time.Minute + time.Second)
			bfWant(t, bfSignIn(t, n, ipA, admin.Email, admin.Password), http.StatusOK, "after the lockout")
			bfWant(t, bfMachineLogin(t, n, ipA, clientID, secret), http.StatusOK, "machine login after the lockout")
		}
	})
}

func containsIP(ips []string, ip string) bool {
	for _, x := range ips {
		if x == ip {
			return true
		}
	}
	return false
}

// TestBruteForcePerIP: one address trying many accounts is stopped after the per-IP limit,
// even with a right password; other addresses are not.
func TestBruteForcePerIP(t *testing.T) {
	bfVariants(t, func(t *testing.T, dialect, redisURL string) {
		n, admin := bfNode(t, dialect, redisURL, nil, func(c *config.Config) { c.RateLimitMachineLoginPerIP = 3 })
		const attacker, other = "203.0.113.66", "2001:db8:77::1"
		for i := range 20 {
			bfWant(t, bfSignIn(t, n, attacker, "user"+strconv.Itoa(i)+"@example.com", "guess"), http.StatusUnauthorized, "a guess")
		}
		msg, _ := bfRefused(t, bfSignIn(t, n, attacker, admin.Email, admin.Password), 60, "the 21st attempt from one address")
		if !strings.Contains(msg, "at most 20 per 1 minute") {
			t.Errorf("message %q does not name the limit", msg)
		}
		bfWant(t, bfSignIn(t, n, other, admin.Email, admin.Password), http.StatusOK, "another address")

		_, clientID, secret, _ := n.NewIdentity(t, admin, "robot", "member") // from 127.0.0.1
		for range 3 {
			bfWant(t, bfMachineLogin(t, n, attacker, "guess-"+strconv.Itoa(len(secret)), "guess"), http.StatusUnauthorized, "a machine guess")
		}
		bfRefused(t, bfMachineLogin(t, n, attacker, clientID, secret), 60, "the 4th machine login from one address")
		bfWant(t, bfMachineLogin(t, n, other, clientID, secret), http.StatusOK, "a machine login from another address")

		if err := n.Server.Audit.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		all, _ := auditPage(t, n, admin.Token, "limit=1000")
		evs := findEvents(all, "user.login_rate_limited")
		if len(evs) != 1 || evs[0].Event.Metadata["limit"] != "ip" || evs[0].IPAddress != attacker {
			t.Errorf("user.login_rate_limited events: %+v", evs)
		}
		if evs := findEvents(all, "identity.login_rate_limited"); len(evs) != 1 || evs[0].Event.Metadata["limit"] != "ip" {
			t.Errorf("identity.login_rate_limited events: %+v", evs)
		}
	})
}

// TestBruteForceSharedAcrossNodes: two nodes of one deployment count in one Redis: failures
// on either add up, and a lockout made through one holds on the other.
func TestBruteForceSharedAcrossNodes(t *testing.T) {
	a, admin := bfNode(t, store.Postgres, testenv.RedisURL(t), nil, func(c *config.Config) { c.RateLimitLoginPerIP = 4 })
	b := a.StartPeer(t)
	const ipA, ipB, ipC = "203.0.113.1", "203.0.113.2", "203.0.113.3"
	for i := range 5 {
		n := []*servertest.Node{a, b}[i%2]
		bfWant(t, bfSignIn(t, n, []string{ipA, ipB}[i%2], admin.Email, "wrong password"), http.StatusUnauthorized, "wrong password")
	}
	bfRefused(t, bfSignIn(t, a, ipC, admin.Email, admin.Password), 900, "node a after failures on both")
	bfRefused(t, bfSignIn(t, b, ipC, admin.Email, admin.Password), 900, "node b after failures on both")
	// ipC has made 2 attempts; 2 more, one per node, reach the limit of 4.
	bfWant(t, bfSignIn(t, a, ipC, "x@example.com", "guess"), http.StatusUnauthorized, "third attempt")
	bfWant(t, bfSignIn(t, b, ipC, "y@example.com", "guess"), http.StatusUnauthorized, "fourth attempt")
	bfRefused(t, bfSignIn(t, a, ipC, "z@example.com", "guess"), 60, "fifth attempt from one address, across nodes")
}

// TestBruteForceRedisDown: with Redis gone the limits hold in process and no sign-in fails
// with a 5xx.
func TestBruteForceRedisDown(t *testing.T) {
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		rs := testenv.StartRedis(t)
		n, admin := bfNode(t, dialect, rs.URL(), nil, func(c *config.Config) { c.RateLimitLoginPerIP = 8 })
		const ipA, ipB = "203.0.113.5", "203.0.113.6"
		bfWant(t, bfSignIn(t, n, ipA, admin.Email, "wrong password"), http.StatusUnauthorized, "a failure with Redis up")
		rs.Stop()
		for range 4 {
			bfWant(t, bfSignIn(t, n, ipA, admin.Email, "wrong password"), http.StatusUnauthorized, "a failure with Redis down")
		}
		bfRefused(t, bfSignIn(t, n, ipB, admin.Email, admin.Password), 900, "locked out with Redis down")
		for range 2 {
			bfWant(t, bfSignIn(t, n, ipA, "other@example.com", "guess"), http.StatusUnauthorized, "a guess")
		}
		// ipA: 7 attempts so far; the 8th passes, the 9th is refused.
		bfWant(t, bfSignIn(t, n, ipA, "other@example.com", "guess"), http.StatusUnauthorized, "the 8th attempt")
		bfRefused(t, bfSignIn(t, n, ipA, "other@example.com", "guess"), 60, "per-IP limit with Redis down")
		if strings.Contains(n.Logs(), admin.Email) {
			t.Error("the node logged an e-mail address")
		}
	})
}

// TestBruteForceThousandGuesses: 1,000 wrong passwords from one address, 50 at a time, with
// production's argon2 settings: 5 are checked (each costs one password hash), every other one
// is refused before any hash, and none fails otherwise.
func TestBruteForceThousandGuesses(t *testing.T) {
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		n, admin := bfNode(t, dialect, "", nil, func(c *config.Config) {
			c.Argon2Memory, c.Argon2Iterations = 19456, 2 // production's defaults
		})
		// Its own connections, closed before the node stops (an idle connection the node never
		// read a request from would hold its shutdown).
		tr := &http.Transport{MaxIdleConnsPerHost: 50}
		t.Cleanup(tr.CloseIdleConnections)
		hc := &http.Client{Transport: tr}
		var mu sync.Mutex
		counts := map[int]int{}
		work := make(chan int)
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				for i := range work {
					body := `{"email":"` + admin.Email + `","password":"guess-` + strconv.Itoa(i) + `"}`
					req, _ := http.NewRequest(http.MethodPost, n.URL+"/api/v1/auth/login", strings.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("X-Forwarded-For", "203.0.113.99")
					status := 0
					if resp, err := hc.Do(req); err == nil {
						status = resp.StatusCode
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
					mu.Lock()
					counts[status]++
					mu.Unlock()
				}
			})
		}
		start, cpu0 := time.Now(), bfCPU()
		for i := range 1000 {
			work <- i
		}
		close(work)
		wg.Wait()
		t.Logf("1,000 guesses in %v wall, %v CPU of the test process (node and clients)", time.Since(start).Round(time.Millisecond), (bfCPU() - cpu0).Round(time.Millisecond))
		// Attempts are counted before the password is checked: exactly 5 are, however they
		// interleave.
		if counts[http.StatusUnauthorized] != 5 || counts[http.StatusTooManyRequests] != 995 {
			t.Errorf("answers by status: %v; want 5 401s (the guesses checked) and 995 429s", counts)
		}
		t.Logf("answers by status: %v", counts)
	})
}

// TestBruteForceUntrustedAddressCannotLockOut: attempts on an identity from an address it does
// not trust are refused without counting against it, so outsiders cannot lock it out.
func TestBruteForceUntrustedAddressCannotLockOut(t *testing.T) {
	n, admin := bfNode(t, store.SQLite, "", nil, nil)
	_, clientID, secret := axLoginIdentity(t, n, admin, "fenced", map[string]any{
		"clientSecretTrustedIps": []map[string]any{{"ipAddress": "203.0.113.0/24"}}})
	for range 10 {
		bfWant(t, bfMachineLogin(t, n, "198.51.100.1", clientID, "wrong-secret"), http.StatusForbidden, "from an untrusted address")
	}
	bfWant(t, bfMachineLogin(t, n, "203.0.113.7", clientID, secret), http.StatusOK, "from a trusted address")
	for range 5 {
		bfWant(t, bfMachineLogin(t, n, "203.0.113.7", clientID, "wrong-secret"), http.StatusUnauthorized, "wrong secret from a trusted address")
	}
	bfRefused(t, bfMachineLogin(t, n, "203.0.113.7", clientID, secret), 900, "locked out by guesses from a trusted address")
}

// bfCPU returns the CPU time (user and system) the test process has used.
func bfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
