package lab

import (
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// warm is how long the load runs before the fault, and settle how long after recovery.
const warm, settle = 3 * time.Second, 3 * time.Second

// wantNoFailure fails the test when a client request failed or an acknowledged write was lost.
func wantNoFailure(t *testing.T, r *Report) {
	t.Helper()
	if r.FailedTotal != 0 {
		t.Errorf("%d client requests failed: %s (target: none)", r.FailedTotal, r.failedText())
	}
	if r.Lost != 0 {
		t.Errorf("%d acknowledged writes lost", r.Lost)
	}
	if r.Reads == 0 || r.Writes == 0 || r.Acked == 0 {
		t.Errorf("no load: %d reads, %d writes, %d acknowledged", r.Reads, r.Writes, r.Acked)
	}
}

// Scenario 1: kill -9 one Coffer node. HAProxy retries the requests that node had in flight,
// and those it sends before two failed health checks take the node out, on the others.
func TestScenario1KillNode(t *testing.T) {
	l := up(t)
	ld := startLoad(setup(t, l))
	time.Sleep(warm)
	ld.mark()
	l.stop(t, "node2", syscall.SIGKILL)
	waitFor(t, "node2 DOWN in HAProxy", 10*time.Second, func() bool { return !l.nodeUp("node2") })
	time.Sleep(5 * time.Second)
	l.restartNode(t, 2)
	time.Sleep(settle)
	r := ld.stop(t, "1. kill -9 one Coffer node")
	r.Note = "node2 killed, restarted 5 s after HAProxy took it out"
	wantNoFailure(t, r)
}

// Scenario 2: rolling restart, SIGTERM to each node in turn: it drains (COFFER_SHUTDOWN_DRAIN
// 3 s, /readyz 503 so HAProxy takes it out while it still serves), exits, starts again, and the
// next one goes once HAProxy has it back.
func TestScenario2RollingRestart(t *testing.T) {
	l := up(t)
	ld := startLoad(setup(t, l))
	time.Sleep(warm)
	ld.mark()
	for i := 1; i <= 3; i++ {
		start := time.Now()
		l.stop(t, "node"+strconv.Itoa(i), syscall.SIGTERM)
		t.Logf("node%d exited %v after SIGTERM", i, time.Since(start).Round(time.Millisecond))
		l.restartNode(t, i)
	}
	time.Sleep(settle)
	r := ld.stop(t, "2. rolling SIGTERM restart of the three nodes")
	r.Note = "drain 3 s; each node back in HAProxy before the next"
	wantNoFailure(t, r)
}

// Scenario 3: kill -9 the PostgreSQL primary (the postmaster and its backends), promote the
// synchronous standby with pg_ctl promote. The nodes find the new primary through the multi-host
// URL (target_session_attrs=read-write). Requests fail while there is no primary; the target is
// writes back within 15 s, no read gap over 15 s, and no acknowledged write lost.
func TestScenario3PostgresFailover(t *testing.T) {
	l := up(t)
	ld := startLoad(setup(t, l))
	time.Sleep(warm)
	_, writesBefore := ld.okCount()
	ld.mark()
	l.stop(t, "pg-primary", syscall.SIGKILL)
	time.Sleep(time.Second) // the time an operator or a failover manager takes to decide
	start := time.Now()
	l.start(t, "pg-promote")
	t.Logf("standby promoted in %v", time.Since(start).Round(time.Millisecond))
	_, writesAfterKill := ld.okCount()
	waitFor(t, "a write after the promotion", 30*time.Second, func() bool {
		_, w := ld.okCount()
		return w > writesAfterKill
	})
	time.Sleep(5 * time.Second)
	r := ld.stop(t, "3. kill -9 the PostgreSQL primary, promote the standby")
	r.Note = fmt.Sprintf("promotion 1 s after the kill; %d writes acknowledged before the kill", writesBefore)
	if r.WriteGap > 15*time.Second {
		t.Errorf("writes stopped for %v (target: back within 15 s)", r.WriteGap)
	}
	if r.ReadGap > 15*time.Second {
		t.Errorf("reads stopped for %v (target: at most 15 s)", r.ReadGap)
	}
	if r.Lost != 0 {
		t.Errorf("%d acknowledged writes lost", r.Lost)
	}
}

// Scenario 4: kill -9 the Redis primary; the Sentinels promote the replica and the nodes follow
// them. Redis is a cache: no request may fail meanwhile.
func TestScenario4RedisFailover(t *testing.T) {
	l := up(t)
	ld := startLoad(setup(t, l))
	time.Sleep(warm)
	old, err := l.sentinelMaster()
	if err != nil {
		t.Fatalf("sentinel: %v", err)
	}
	ld.mark()
	l.stop(t, "redis-primary", syscall.SIGKILL)
	replica := "127.0.0.1:" + l.env["LAB_REDIS_REPLICA_PORT"]
	d := waitFor(t, "the Sentinels name the replica master", 30*time.Second, func() bool {
		m, err := l.sentinelMaster()
		return err == nil && m == replica
	})
	t.Logf("Sentinel failover from %s to %s in %v", old, replica, d.Round(time.Millisecond))
	time.Sleep(5 * time.Second)
	r := ld.stop(t, "4. kill -9 the Redis primary (Sentinel failover)")
	r.Note = fmt.Sprintf("Sentinels named the replica master %.1f s after the kill", d.Seconds())
	wantNoFailure(t, r)
}

// Scenario 5: stop Redis entirely (primary, replica and the three Sentinels) for 10 s, then
// start it all again. The nodes serve without their shared cache meanwhile.
func TestScenario5RedisDown(t *testing.T) {
	l := up(t)
	ld := startLoad(setup(t, l))
	time.Sleep(warm)
	ld.mark()
	all := []string{"sentinel1", "sentinel2", "sentinel3", "redis-replica", "redis-primary"}
	for _, name := range all {
		l.stop(t, name, syscall.SIGTERM)
	}
	time.Sleep(10 * time.Second)
	for i := len(all) - 1; i >= 0; i-- {
		l.start(t, all[i])
	}
	time.Sleep(5 * time.Second)
	r := ld.stop(t, "5. stop Redis entirely (10 s)")
	r.Note = "primary, replica and Sentinels stopped, then started again"
	wantNoFailure(t, r)
}

// Scenario 6: the SMTP server is down (LAB_SMTP_OUTAGE, default 60 s, as the issue says); an
// invitation sent meanwhile is accepted at once and arrives after the server is back (the
// outbox retries it with backoff).
func TestScenario6SMTPDown(t *testing.T) {
	outage := time.Minute
	if v := os.Getenv("LAB_SMTP_OUTAGE"); v != "" {
		var err error
		if outage, err = time.ParseDuration(v); err != nil {
			t.Fatalf("LAB_SMTP_OUTAGE: %v", err)
		}
	}
	l := up(t)
	f := setup(t, l)
	ld := startLoad(f)
	time.Sleep(warm)
	ld.mark()
	l.stop(t, "mailpit", syscall.SIGTERM)
	down := time.Now()
	email := fmt.Sprintf("invitee-%d@lab.test", time.Now().UnixNano())
	if err := ld.call("invite", "POST", "/api/v1/organizations/"+f.orgID+"/invitations",
		map[string]string{"email": email, "role": "member"}, nil); err != nil {
		t.Errorf("invitation during the SMTP outage: %v", err)
	}
	time.Sleep(time.Until(down.Add(outage)))
	l.start(t, "mailpit")
	back := time.Now()
	mailpit := l.env["LAB_MAILPIT_URL"]
	arrived := false
	deadline := back.Add(2*outage + 30*time.Second) // the outbox's backoff doubles: at most ~one outage more
	for time.Now().Before(deadline) && !arrived {
		var out struct {
			MessagesCount int `json:"messages_count"`
		}
		c := newClient(mailpit)
		if err := c.call("GET", "/api/v1/search?query="+url.QueryEscape("to:"+email), nil, &out); err == nil && out.MessagesCount > 0 {
			arrived = true
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	after := time.Since(back)
	r := ld.stop(t, fmt.Sprintf("6. SMTP server down for %v", outage))
	if arrived {
		r.Note = fmt.Sprintf("invitation sent during the outage arrived %.1f s after mailpit came back", after.Seconds())
	} else {
		r.Note = "invitation sent during the outage NOT delivered"
		t.Errorf("the invitation to %s did not arrive within %v of mailpit's return", email, after.Round(time.Second))
	}
	wantNoFailure(t, r)
	if strings.Contains(r.Note, "NOT") {
		t.Log(r.Note)
	}
}
