package cli

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// lockedBuffer collects a process's output for concurrent readers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestServerDrainsOnSIGTERM runs the real binary under a steady read load and sends SIGTERM:
// /readyz turns 503, every request of the drain succeeds, a request in flight when the drain
// ends completes, and the process exits 0.
func TestServerDrainsOnSIGTERM(t *testing.T) {
	addr := freeAddr(t)
	base := "http://" + addr
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, cofferBinary(t), "server", "--dev")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "COFFER_DATA_DIR=" + t.TempDir(), "COFFER_LISTEN=" + addr,
		"COFFER_SHUTDOWN_DRAIN=4s", "COFFER_SHUTDOWN_TIMEOUT=20s", "COFFER_LOG_FORMAT=json"}
	logs := &lockedBuffer{}
	cmd.Stderr, cmd.Stdout = logs, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	probe := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	readyz := func() int {
		resp, err := probe.Get(base + "/readyz")
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for deadline := time.Now().Add(30 * time.Second); readyz() != 200; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the server never became ready:\n%s", logs)
		}
	}

	// A steady load from keep-alive clients, as an ALB sends it.
	var stop atomic.Bool
	var served, failed, closedByServer atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for range 4 {
		wg.Go(func() {
			c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
			for !stop.Load() {
				resp, err := c.Get(base + "/api/status")
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, resp.Status)
					continue
				}
				served.Add(1)
				if resp.Close {
					closedByServer.Add(1)
				}
			}
		})
	}
	time.Sleep(300 * time.Millisecond)

	// A login whose body is still arriving when the drain ends.
	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	body := `{"clientId":"nobody","clientSecret":"wrong"}`
	fmt.Fprintf(slow, "POST /api/v1/auth/universal-auth/login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		addr, len(body), body[:10])

	before := served.Load()
	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var notReadyAfter time.Duration
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(time.Millisecond) {
		if s := readyz(); s == http.StatusServiceUnavailable {
			notReadyAfter = time.Since(sent)
			break
		} else if s != 200 || time.Now().After(deadline) {
			t.Fatalf("/readyz after SIGTERM = %d, want 503", s)
		}
	}
	// The load runs through most of the 4 s drain, then stops as the load balancer would,
	// having deregistered the node.
	time.Sleep(2500 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	duringDrain := served.Load() - before
	if n := failed.Load(); n > 0 {
		t.Errorf("%d requests failed under load (first: %v)", n, firstErr.Load())
	}
	if duringDrain == 0 || closedByServer.Load() == 0 {
		t.Errorf("during the drain: %d requests served, %d with Connection: close; want both > 0", duringDrain, closedByServer.Load())
	}

	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(logs.String(), "http server shutting down"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the drain never ended:\n%s", logs)
		}
	}
	select {
	case err := <-exited:
		t.Fatalf("the process exited (%v) with a request in flight", err)
	default:
	}
	io.WriteString(slow, body[10:])
	status, err := bufio.NewReader(slow).ReadString('\n')
	if err != nil || !strings.HasPrefix(status, "HTTP/1.1 401") {
		t.Errorf("in-flight login after the drain = %q, %v; want a complete 401 answer", status, err)
	}

	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("exit: %v, want status 0\n%s", err, logs)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the process did not exit")
	}
	t.Logf("SIGTERM→/readyz 503: %s; served %d requests during the drain (%d told Connection: close), %d failed; exit after %s",
		notReadyAfter.Round(time.Millisecond), duringDrain, closedByServer.Load(), failed.Load(), time.Since(sent).Round(time.Millisecond))
	for _, line := range strings.Split(logs.String(), "\n") {
		for _, m := range []string{`"draining`, `"http server shutting down"`, `"http server stopped"`} {
			if strings.Contains(line, m) {
				t.Log(line)
			}
		}
	}
}

// TestServerSecondSignalEndsDrain: Ctrl-C twice stops a server at once, whatever the drain.
func TestServerSecondSignalEndsDrain(t *testing.T) {
	addr := freeAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, cofferBinary(t), "server", "--dev")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "COFFER_DATA_DIR=" + t.TempDir(), "COFFER_LISTEN=" + addr,
		"COFFER_SHUTDOWN_DRAIN=10m", "COFFER_LOG_FORMAT=json"}
	logs := &lockedBuffer{}
	cmd.Stderr, cmd.Stdout = logs, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	waitLog := func(what string) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !strings.Contains(logs.String(), what); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("no %q in the log:\n%s", what, logs)
			}
		}
	}
	waitLog("http server listening")
	cmd.Process.Signal(os.Interrupt)
	waitLog("draining")
	cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("exit: %v, want status 0\n%s", err, logs)
		}
	case <-ctx.Done():
		t.Fatal("a second signal did not end the 10-minute drain")
	}
	if !strings.Contains(logs.String(), "drain cut short") {
		t.Errorf("log lacks the cut:\n%s", logs)
	}
}
