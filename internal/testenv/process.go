package testenv

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// proc is one server process this binary started, with the watchdog that
// kills it and removes its directory if this binary dies without stopping it.
type proc struct {
	cmd  *exec.Cmd
	dog  *exec.Cmd
	done chan struct{} // closed once cmd has exited and been reaped
	err  error         // cmd.Wait's result, set before done is closed
	sig  syscall.Signal
}

// registry holds what Run must stop: shutdown functions of live servers, and
// the pid of every process ever started (the package's own tests check them).
var registry struct {
	sync.Mutex
	next  int
	stops map[int]func()
	pids  []int
}

// lifeline is a pipe whose write end stays open (package variables are never
// finalized) until this process exits, however it exits; each watchdog
// blocks reading the other end and wakes on EOF.
var lifeline struct {
	once sync.Once
	r, w *os.File
	err  error
}

// watchdogScript: wait for EOF on stdin (this binary is gone), send the stop
// signal, wait up to 10s, SIGKILL, remove the directory.
const watchdogScript = `read _ ; kill -$1 $2 2>/dev/null
i=0; while kill -0 $2 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
kill -9 $2 2>/dev/null; rm -rf "$3"`

// onStop registers fn to run in Run after the tests; the returned function
// unregisters it.
func onStop(fn func()) (unregister func()) {
	registry.Lock()
	defer registry.Unlock()
	if registry.stops == nil {
		registry.stops = map[int]func(){}
	}
	id := registry.next
	registry.next++
	registry.stops[id] = fn
	return func() {
		registry.Lock()
		defer registry.Unlock()
		delete(registry.stops, id)
	}
}

// stopAll runs every registered shutdown function, in parallel.
func stopAll() {
	registry.Lock()
	stops := registry.stops
	registry.stops = nil
	registry.Unlock()
	var wg sync.WaitGroup
	for _, fn := range stops {
		wg.Go(fn)
	}
	wg.Wait()
}

// startProc starts cmd and a watchdog that, should this binary die first,
// stops it with sig and removes dir.
func startProc(cmd *exec.Cmd, sig syscall.Signal, dir string) (*proc, error) {
	lifeline.once.Do(func() { lifeline.r, lifeline.w, lifeline.err = os.Pipe() })
	if lifeline.err != nil {
		return nil, fmt.Errorf("watchdog pipe: %w", lifeline.err)
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, done: make(chan struct{}), sig: sig}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	registry.Lock()
	registry.pids = append(registry.pids, cmd.Process.Pid)
	registry.Unlock()

	dog := exec.Command("/bin/sh", "-c", watchdogScript, "testenv-watchdog",
		strconv.Itoa(int(sig)), strconv.Itoa(cmd.Process.Pid), dir)
	dog.Stdin = lifeline.r
	dog.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // outlives our process group
	if err := dog.Start(); err != nil {
		p.stop()
		return nil, fmt.Errorf("start watchdog: %w", err)
	}
	p.dog = dog
	registry.Lock()
	registry.pids = append(registry.pids, dog.Process.Pid)
	registry.Unlock()
	return p, nil
}

// exited reports whether the process has exited.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop ends the watchdog (so it can never signal a reused pid), then the
// server: its stop signal, and SIGKILL after 10s. It waits for both.
func (p *proc) stop() {
	if p.dog != nil {
		_ = p.dog.Process.Kill()
		_ = p.dog.Wait()
		p.dog = nil
	}
	_ = p.cmd.Process.Signal(p.sig)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// unprivileged returns the credentials of the user "nobody" when this
// process is root (PostgreSQL refuses to run as root), or nil otherwise.
func unprivileged() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		return nil, &missingError{fmt.Sprintf("running as root and no user \"nobody\" to run PostgreSQL as: %v", err)}
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("user nobody: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

// tail returns the last lines of a log file, for error messages.
func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}
