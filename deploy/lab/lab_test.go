// Package lab holds the HA lab's scenarios: each brings up its own lab with up.sh (PostgreSQL
// primary + synchronous standby, Redis + replica + three Sentinels, mailpit, three Coffer nodes,
// HAProxy), runs a steady mixed read/write load through HAProxy, injects one fault, and reports
// what the clients saw. LAB_RESULTS=FILE writes the table of every scenario run to FILE.
package lab

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	binDir    string
	cofferBin = sync.OnceValues(func() (string, error) {
		out := filepath.Join(binDir, "coffer")
		cmd := exec.Command("go", "build", "-trimpath", "-o", out, "./cmd/coffer")
		cmd.Dir = "../.."
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("go build ./cmd/coffer: %v\n%s", err, b)
		}
		return out, nil
	})
	resultsMu sync.Mutex
	results   []*Report
)

func TestMain(m *testing.M) {
	var err error
	if binDir, err = os.MkdirTemp("", "coffer-lab-bin-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(binDir)
	if path := os.Getenv("LAB_RESULTS"); path != "" && len(results) > 0 {
		if !filepath.IsAbs(path) { // relative to the repository root, as in the documented command
			path = filepath.Join("..", "..", path)
		}
		if err := writeResults(path); err != nil {
			fmt.Fprintln(os.Stderr, "lab: writing results:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// --- the lab ----------------------------------------------------------------------------------

type lab struct {
	dir string
	env map[string]string // lab.env
	url string            // HAProxy
}

// requirePrograms skips (fails under CI=true) when a program the lab needs is missing.
func requirePrograms(t *testing.T) {
	t.Helper()
	var missing []string
	for _, p := range []string{"haproxy", "redis-server", "curl", "setsid"} {
		if _, err := exec.LookPath(p); err != nil {
			missing = append(missing, p)
		}
	}
	if pg, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl"); len(pg) == 0 {
		if _, err := exec.LookPath("pg_ctl"); err != nil {
			missing = append(missing, "postgresql")
		}
	}
	if _, err := exec.LookPath("mailpit"); err != nil {
		dir := os.Getenv("COFFER_TEST_BIN_DIR")
		if dir == "" {
			cache, _ := os.UserCacheDir()
			dir = filepath.Join(cache, "coffer-test", "bin")
		}
		if _, err := os.Stat(filepath.Join(dir, "mailpit")); err != nil {
			missing = append(missing, "mailpit")
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := fmt.Sprintf("HA lab: missing %s (scripts/test-deps.sh installs them)", strings.Join(missing, ", "))
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// up starts a lab of the test's own; it is stopped (down.sh) in t.Cleanup, which fails the test
// if a process survives.
func up(t *testing.T) *lab {
	t.Helper()
	if testing.Short() {
		t.Skip("HA lab scenarios take a minute each; not in -short")
	}
	requirePrograms(t)
	bin, err := cofferBin()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "coffer-lab-")
	if err != nil {
		t.Fatal(err)
	}
	l := &lab{dir: dir}
	t.Cleanup(func() { l.down(t) })
	start := time.Now()
	// A second try with new ports if the first fails (another program took a port up.sh chose).
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		cmd := exec.CommandContext(ctx, "./up.sh", dir)
		cmd.Env = append(os.Environ(), "LAB_COFFER_BIN="+bin, "LAB_NO_DEPS=1")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		cancel()
		if err == nil {
			break
		}
		if attempt == 2 {
			t.Fatalf("up.sh: %v\n%s", err, out.String())
		}
		t.Logf("up.sh failed (trying once more): %v\n%s", err, out.String())
		if out, err := exec.Command("./down.sh", dir).CombinedOutput(); err != nil {
			t.Fatalf("down.sh after a failed up.sh: %v\n%s", err, out)
		}
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("lab up in %v", time.Since(start).Round(time.Millisecond))
	env, err := exec.Command("bash", "-c", `set -a; . "$1/lab.env"; env -0`, "lab", dir).Output()
	if err != nil {
		t.Fatalf("reading lab.env: %v", err)
	}
	l.env = map[string]string{}
	for _, kv := range strings.Split(string(env), "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "LAB_") {
			l.env[k] = v
		}
	}
	l.url = l.env["LAB_URL"]
	if l.url == "" {
		t.Fatalf("lab.env has no LAB_URL")
	}
	return l
}

func (l *lab) down(t *testing.T) {
	if t.Failed() {
		for _, name := range []string{"node1", "node2", "node3", "haproxy", "pg-primary", "pg-standby"} {
			b, _ := os.ReadFile(filepath.Join(l.dir, "logs", name+".log"))
			if len(b) > 3000 {
				b = b[len(b)-3000:]
			}
			t.Logf("--- last lines of %s.log:\n%s", name, b)
		}
	}
	out, err := exec.Command("./down.sh", l.dir).CombinedOutput()
	if err != nil {
		t.Errorf("down.sh: %v\n%s", err, out)
	}
}

// start runs run/NAME.sh: the service starts again with the same settings and ports.
func (l *lab) start(t *testing.T, name string) {
	t.Helper()
	if out, err := exec.Command(filepath.Join(l.dir, "run", name+".sh")).CombinedOutput(); err != nil {
		t.Fatalf("run/%s.sh: %v\n%s", name, err, out)
	}
}

func (l *lab) pid(t *testing.T, name string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(l.dir, "pids", name))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && len(s) > i+2 && s[i+2] != 'Z'
}

// stop signals NAME's whole process group (a service with its children: postgres and its
// backends) and waits until its leader has exited.
func (l *lab) stop(t *testing.T, name string, sig syscall.Signal) {
	t.Helper()
	pid := l.pid(t, name)
	if err := syscall.Kill(-pid, sig); err != nil {
		t.Fatalf("kill -%d %s (%d): %v", sig, name, pid, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("%s (%d) still running 30 s after signal %d", name, pid, sig)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitFor polls cond every 50 ms until it holds, or fails the test after timeout.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > timeout {
			t.Fatalf("%s: not after %v", what, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start)
}

// nodeUp says whether HAProxy has node ("node1"…) UP, from its CSV statistics.
func (l *lab) nodeUp(node string) bool {
	resp, err := http.Get(l.env["LAB_HAPROXY_STATS"])
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		f := strings.Split(sc.Text(), ",")
		if len(f) > 17 && f[0] == "nodes" && f[1] == node {
			return f[17] == "UP"
		}
	}
	return false
}

// restartNode starts node i again and waits until HAProxy sends it traffic.
func (l *lab) restartNode(t *testing.T, i int) {
	t.Helper()
	name := "node" + strconv.Itoa(i)
	l.start(t, name)
	d := waitFor(t, name+" UP in HAProxy", 60*time.Second, func() bool { return l.nodeUp(name) })
	t.Logf("%s back in HAProxy %v after its start", name, d.Round(time.Millisecond))
}

// sentinelMaster asks a Sentinel which address it names as master.
func (l *lab) sentinelMaster() (string, error) {
	port, _, _ := strings.Cut(l.env["LAB_SENTINEL_PORTS"], ",")
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	fmt.Fprintf(c, "SENTINEL get-master-addr-by-name %s\r\n", l.env["LAB_SENTINEL_MASTER"])
	r := bufio.NewReader(c)
	var parts []string
	for len(parts) < 5 {
		line, err := r.ReadString('\n')
		if err != nil {
			return "", err
		}
		parts = append(parts, strings.TrimSpace(line))
	}
	// *2 $len host $len port
	return parts[2] + ":" + parts[4], nil
}

// --- the API --------------------------------------------------------------------------------

type client struct {
	base, token string
	http        *http.Client
}

func newClient(base string) *client {
	return &client{base: base, http: &http.Client{Timeout: 20 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 16, IdleConnTimeout: 30 * time.Second}}}
}

// call sends one request; a non-2xx answer is an *httpError.
func (c *client) call(method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return &httpError{resp.StatusCode, string(b)}
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

type httpError struct {
	status int
	body   string
}

func (e *httpError) Error() string { return fmt.Sprintf("HTTP %d: %.200s", e.status, e.body) }

// failureKind names a failed request for the report.
func failureKind(err error) string {
	var he *httpError
	var ne net.Error
	switch {
	case errors.As(err, &he):
		return "HTTP " + strconv.Itoa(he.status)
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection reset"
	}
	return "transport error"
}

type fixture struct {
	c              *client
	orgID, project string
}

// setup bootstraps the instance through HAProxy and makes a project whose "dev" environment
// holds the listing the readers read.
func setup(t *testing.T, l *lab) *fixture {
	t.Helper()
	c := newClient(l.url)
	var boot struct {
		Organization struct{ ID string } `json:"organization"`
		Identity     struct {
			Credentials struct{ Token string } `json:"credentials"`
		} `json:"identity"`
	}
	if err := c.call("POST", "/api/v1/admin/bootstrap", map[string]string{"email": "admin@lab.test",
		"password": "lab-password-" + strconv.FormatInt(time.Now().UnixNano(), 36), "organization": "Lab"}, &boot); err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	c.token = boot.Identity.Credentials.Token
	var proj map[string]struct{ ID string }
	if err := c.call("POST", "/api/v2/workspace", map[string]string{"projectName": "lab"}, &proj); err != nil {
		t.Fatalf("create project: %v", err)
	}
	f := &fixture{c: c, orgID: boot.Organization.ID}
	for _, p := range proj {
		if p.ID != "" {
			f.project = p.ID
		}
	}
	if f.project == "" {
		t.Fatalf("create project: no id in %v", proj)
	}
	var secrets []map[string]string
	for i := range 20 {
		secrets = append(secrets, map[string]string{"secretKey": fmt.Sprintf("LISTED_%02d", i), "secretValue": fmt.Sprintf("value-%02d", i)})
	}
	if err := c.call("PATCH", "/api/v4/secrets/batch", map[string]any{"projectId": f.project, "environment": "dev",
		"secretPath": "/", "mode": "upsert", "secrets": secrets}, nil); err != nil {
		t.Fatalf("seed dev: %v", err)
	}
	return f
}

// --- the load -------------------------------------------------------------------------------

// load is the lab's steady mixed load: readers list "dev" (20 secrets), writers each set a new
// key in "staging" with a unique value (PATCH /api/v4/secrets/batch, mode upsert) and remember
// every write that was acknowledged (200). Each worker pauses 10 ms between requests.
type load struct {
	f     *fixture
	c     *client
	start time.Time
	fault time.Duration // since start; set by mark

	mu     sync.Mutex
	reads  []event
	writes []event
	acked  map[string]string
	failed map[string]int    // "read HTTP 503" → count
	sample map[string]string // the first error of each kind, for the log
	extra  []event           // other client requests of the scenario (an invitation…)

	stopping chan struct{}
	wg       sync.WaitGroup
}

type event struct {
	at time.Duration // completion, since start
	ok bool
}

const readers, writers = 3, 2

func startLoad(f *fixture) *load {
	ld := &load{f: f, c: newClient(f.c.base), start: time.Now(), acked: map[string]string{},
		failed: map[string]int{}, sample: map[string]string{}, stopping: make(chan struct{})}
	ld.c.token = f.c.token
	listing := "/api/v4/secrets?" + url.Values{"projectId": {f.project}, "environment": {"dev"}, "secretPath": {"/"}}.Encode()
	for w := range readers + writers {
		ld.wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-ld.stopping:
					return
				case <-time.After(10 * time.Millisecond):
				}
				if w < readers {
					var out struct{ Secrets []struct{ SecretKey string } }
					err := ld.c.call("GET", listing, nil, &out)
					if err == nil && len(out.Secrets) != 20 {
						err = fmt.Errorf("listing has %d secrets, want 20", len(out.Secrets))
					}
					ld.record("read", &ld.reads, err)
					continue
				}
				key := fmt.Sprintf("LAB_W%d_%06d", w, n)
				value := fmt.Sprintf("v-%d-%d-%d", w, n, time.Now().UnixNano())
				err := ld.c.call("PATCH", "/api/v4/secrets/batch", map[string]any{"projectId": f.project,
					"environment": "staging", "secretPath": "/", "mode": "upsert",
					"secrets": []map[string]string{{"secretKey": key, "secretValue": value}}}, nil)
				if err == nil {
					ld.mu.Lock()
					ld.acked[key] = value
					ld.mu.Unlock()
				}
				ld.record("write", &ld.writes, err)
			}
		})
	}
	return ld
}

func (ld *load) since() time.Duration { return time.Since(ld.start) }

func (ld *load) record(kind string, to *[]event, err error) {
	ld.mu.Lock()
	defer ld.mu.Unlock()
	*to = append(*to, event{at: ld.since(), ok: err == nil})
	if err != nil {
		k := kind + " " + failureKind(err)
		if ld.failed[k]++; ld.failed[k] == 1 {
			ld.sample[k] = fmt.Sprintf("at %.2f s: %v", ld.since().Seconds(), err)
		}
	}
}

// call is a client request of the scenario itself, counted with the load's.
func (ld *load) call(kind, method, path string, body, out any) error {
	err := ld.c.call(method, path, body, out)
	ld.record(kind, &ld.extra, err)
	return err
}

// mark records the moment of the fault.
func (ld *load) mark() { ld.fault = ld.since() }

// lastOK returns how many reads and writes had succeeded so far.
func (ld *load) okCount() (reads, writes int) {
	ld.mu.Lock()
	defer ld.mu.Unlock()
	for _, e := range ld.reads {
		if e.ok {
			reads++
		}
	}
	for _, e := range ld.writes {
		if e.ok {
			writes++
		}
	}
	return reads, writes
}

// stop ends the load (in-flight requests complete and count) and reads every acknowledged
// write back through HAProxy, from whatever primary there is now.
func (ld *load) stop(t *testing.T, name string) *Report {
	t.Helper()
	close(ld.stopping)
	ld.wg.Wait()
	end := ld.since()
	r := &Report{Scenario: name, Duration: end, Failed: ld.failed, Acked: len(ld.acked)}
	for _, evs := range [][]event{ld.reads, ld.writes, ld.extra} {
		r.Sent += len(evs)
	}
	r.Reads, r.Writes = len(ld.reads), len(ld.writes)
	for k, v := range ld.sample {
		t.Logf("first %s: %s", k, v)
	}
	for _, n := range ld.failed {
		r.FailedTotal += n
	}
	r.ReadGap = longestGap(ld.reads, end)
	r.WriteGap = longestGap(ld.writes, end)
	r.Recover = recovery(ld.fault, ld.reads, ld.writes, ld.extra)

	// Read back. A listing may come from the read replica, a moment behind: a key missing at
	// first is looked for again for up to 10 s before it counts as lost.
	path := "/api/v4/secrets?" + url.Values{"projectId": {ld.f.project}, "environment": {"staging"}, "secretPath": {"/"}}.Encode()
	missing := map[string]string{}
	for k, v := range ld.acked {
		missing[k] = v
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(missing) > 0 && time.Now().Before(deadline) {
		var out struct {
			Secrets []struct{ SecretKey, SecretValue string }
		}
		if err := ld.f.c.call("GET", path, nil, &out); err != nil {
			t.Logf("read-back: %v", err)
		} else {
			for _, s := range out.Secrets {
				if v, ok := missing[s.SecretKey]; ok && v == s.SecretValue {
					delete(missing, s.SecretKey)
				}
			}
		}
		if len(missing) > 0 {
			time.Sleep(500 * time.Millisecond)
		}
	}
	r.Lost = len(missing)
	for k := range missing {
		t.Errorf("acknowledged write %s lost (or changed)", k)
		if len(missing) > 5 {
			break
		}
	}
	resultsMu.Lock()
	results = append(results, r)
	resultsMu.Unlock()
	t.Logf("%s", r.summary())
	return r
}

// longestGap is the longest time without a successful request in [0, end].
func longestGap(evs []event, end time.Duration) time.Duration {
	var oks []time.Duration
	for _, e := range evs {
		if e.ok {
			oks = append(oks, e.at)
		}
	}
	sort.Slice(oks, func(i, j int) bool { return oks[i] < oks[j] })
	prev, gap := time.Duration(0), time.Duration(0)
	for _, at := range append(oks, end) {
		gap = max(gap, at-prev)
		prev = at
	}
	return gap
}

// recovery is the time from the fault to the first success of every kind after the last
// failure: 0 when nothing failed.
func recovery(fault time.Duration, kinds ...[]event) time.Duration {
	var lastFail time.Duration = -1
	for _, evs := range kinds {
		for _, e := range evs {
			if !e.ok && e.at > lastFail {
				lastFail = e.at
			}
		}
	}
	if lastFail < 0 {
		return 0
	}
	back := lastFail
	for _, evs := range kinds[:2] { // reads and writes
		first := time.Duration(-1)
		for _, e := range evs {
			if e.ok && e.at > lastFail && (first < 0 || e.at < first) {
				first = e.at
			}
		}
		back = max(back, first)
	}
	return max(back-fault, 0)
}

// --- the report -----------------------------------------------------------------------------

// Report is one scenario's figures.
type Report struct {
	Scenario            string
	Sent, Reads, Writes int
	FailedTotal         int
	Failed              map[string]int
	Acked, Lost         int
	ReadGap, WriteGap   time.Duration
	Recover, Duration   time.Duration
	Note                string
}

func (r *Report) failedText() string {
	if r.FailedTotal == 0 {
		return "0"
	}
	var kinds []string
	for k, n := range r.Failed {
		kinds = append(kinds, fmt.Sprintf("%s: %d", k, n))
	}
	sort.Strings(kinds)
	return fmt.Sprintf("%d (%s)", r.FailedTotal, strings.Join(kinds, ", "))
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func (r *Report) summary() string {
	return fmt.Sprintf("%s: sent %d (reads %d, writes %d), failed %s, acknowledged writes %d, lost %d, longest gap: reads %s, writes %s; recovered in %s; %s",
		r.Scenario, r.Sent, r.Reads, r.Writes, r.failedText(), r.Acked, r.Lost, secs(r.ReadGap), secs(r.WriteGap), secs(r.Recover), r.Note)
}

func (r *Report) row() string {
	return fmt.Sprintf("| %s | %s | %d | %d | %s | %d | %d | %s | %s | %s | %s |", r.Scenario, secs(r.Duration), r.Sent,
		r.Reads, r.failedText(), r.Acked, r.Lost, secs(r.ReadGap), secs(r.WriteGap), secs(r.Recover), r.Note)
}

func writeResults(path string) error {
	sort.Slice(results, func(i, j int) bool { return results[i].Scenario < results[j].Scenario })
	var b strings.Builder
	commit, _ := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	fmt.Fprintf(&b, `# HA lab results

Written by the HA lab's Go tests (deploy/lab/lab_test.go); reproduce from the repository root with

    LAB_RESULTS=deploy/lab/RESULTS.md go test -count=1 -v -timeout 20m ./deploy/lab/

- Date: %s; commit %s; %d CPUs; %s
- Each scenario brings up its own lab with deploy/lab/up.sh (PostgreSQL primary + synchronous
  standby, Redis primary + replica + 3 Sentinels, mailpit, three Coffer nodes behind HAProxy) and
  stops it with down.sh (which checks that no process is left).
- Load, through HAProxy: %d readers listing 20 secrets (GET /api/v4/secrets) and %d writers each
  setting a new key to a unique value (PATCH /api/v4/secrets/batch, mode upsert), closed loop with
  a 10 ms pause between requests. "Sent" counts every client request of the scenario (reads,
  writes, and its own requests such as an invitation); "failed" is any answer but 2xx, or a
  transport error, by kind. Every acknowledged (200) write is read back at the end through
  HAProxy from the primary of that moment; "lost" counts those missing or changed.
- Longest gap: the longest time without a successful read (write). Recovery: from the fault to
  the first successful read and write after the last failed request (0: nothing failed).
- Targets (issue 9): scenarios 1, 2, 4, 5, 6 no failed request; scenario 3 writes back within
  15 s, reads never stopped for more than 15 s, no acknowledged write lost.

| Scenario | Duration | Sent | Reads | Failed | Acknowledged writes | Lost | Longest read gap | Longest write gap | Recovery | Notes |
|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---|
`, time.Now().UTC().Format("2006-01-02 15:04 UTC"), strings.TrimSpace(string(commit)), runtimeCPUs(), goVersion(), readers, writers)
	for _, r := range results {
		b.WriteString(r.row() + "\n")
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func runtimeCPUs() int {
	out, _ := exec.Command("nproc").Output()
	n, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	return n
}

func goVersion() string {
	out, _ := exec.Command("go", "version").Output()
	return strings.TrimPrefix(strings.TrimSpace(string(out)), "go version ")
}
