package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// SentinelMaster is the master name the sentinels of StartRedisSentinel watch.
const SentinelMaster = "coffer"

// RedisSentinel is a Redis primary, a replica of it, and three sentinels watching them (quorum
// 2, a primary is judged down after 1 s): the shape of ElastiCache's primary + standby, on
// loopback.
type RedisSentinel struct {
	Primary, Replica *Redis
	Sentinels        []*Redis
}

// StartRedisSentinel starts a RedisSentinel, stopped in t.Cleanup. It needs redis-server
// (which runs sentinels too); without it the test skips, or fails when CI=true.
func StartRedisSentinel(t testing.TB) *RedisSentinel {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		fail(t, "", &missingError{"no redis-server on PATH (Debian: apt-get install redis-server)"})
	}
	start := func(conf func(string, int) error, extra ...string) *Redis {
		t.Helper()
		r, err := newRedisConf(bin, conf, extra...)
		if err != nil {
			t.Fatalf("testenv: %v", err)
		}
		t.Cleanup(r.close)
		return r
	}
	s := &RedisSentinel{}
	s.Primary = start(nil)
	s.Replica = start(nil, "--replicaof", "127.0.0.1", strconv.Itoa(s.Primary.port))
	for range 3 {
		s.Sentinels = append(s.Sentinels, start(func(dir string, port int) error {
			conf := fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d 2\nsentinel down-after-milliseconds %[1]s 1000\n"+
				"sentinel failover-timeout %[1]s 10000\nsentinel parallel-syncs %[1]s 1\n", SentinelMaster, s.Primary.port)
			return os.WriteFile(filepath.Join(dir, "sentinel.conf"), []byte(conf), 0o644)
		}, "--sentinel"))
	}
	// Wait until every sentinel knows the replica and the other sentinels, so that a failover
	// can happen.
	deadline := time.Now().Add(20 * time.Second)
	for _, sen := range s.Sentinels {
		for {
			info, err := redisInfo(sen.Addr(), "sentinel")
			if err == nil && strings.Contains(info, "slaves=1,sentinels=3") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("testenv: sentinels did not discover each other and the replica in 20s (last: %v %q)", err, info)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return s
}

// Addrs returns the sentinels' host:port.
func (s *RedisSentinel) Addrs() []string {
	var out []string
	for _, sen := range s.Sentinels {
		out = append(out, sen.Addr())
	}
	return out
}

// MasterAddr returns the host:port the sentinels name as master now.
func (s *RedisSentinel) MasterAddr() (string, error) {
	c, err := dialRESP(s.Sentinels[0].Addr())
	if err != nil {
		return "", err
	}
	defer c.Close()
	reply, err := c.do("SENTINEL", "get-master-addr-by-name", SentinelMaster)
	if err != nil {
		return "", err
	}
	parts, ok := reply.([]any)
	if !ok || len(parts) != 2 {
		return "", fmt.Errorf("unexpected reply %v", reply)
	}
	host, _ := parts[0].(string)
	port, _ := parts[1].(string)
	return host + ":" + port, nil
}

// WaitMaster waits until the sentinels name addr as master, or fails the test after timeout.
func (s *RedisSentinel) WaitMaster(t testing.TB, addr string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got, err := s.MasterAddr()
		if err == nil && got == addr {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("testenv: sentinels name %q (err %v) as master after %s, want %s", got, err, timeout, addr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func redisInfo(addr, section string) (string, error) {
	c, err := dialRESP(addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	reply, err := c.do("INFO", section)
	if err != nil {
		return "", err
	}
	s, _ := reply.(string)
	return s, nil
}
