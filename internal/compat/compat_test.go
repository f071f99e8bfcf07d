// Package compat_test drives Infisical's own clients, which Coffer did not write, against a
// real Coffer node on SQLite and on PostgreSQL, and checks that they see what they would see
// against Infisical for the same data:
//
//   - gosdk_test.go: the Go SDK (github.com/infisical/go-sdk, pinned in testdata/gosdk/go.mod)
//   - nodesdk_test.go: the Node SDK (@infisical/sdk, pinned in testdata/nodesdk/package-lock.json)
//   - cli_test.go: the Infisical CLI (only when a binary can be had; see clients_test.go)
//
// The SDKs run as separate processes (testdata/*/driver programs that make one SDK call per
// request line), so that their dependencies stay out of Coffer's go.mod. Every client talks to
// the node through a recording proxy; when a test fails, the requests the client sent and
// Coffer's answers are logged, which is what an incompatibility report needs.
//
// The expected values are Infisical's behaviour, as described in
// shared-research/infisical-shapes.md and read from the clients' own sources, not Coffer's.
package compat_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/servertest"
	"github.com/cofferhq/coffer/internal/testenv"
)

func TestMain(m *testing.M) {
	code := testenv.Run(m)
	removeTemp()
	os.Exit(code)
}

// fixture is a running node with a project, a member identity that logs in with universal
// auth, and the data of seed.
type fixture struct {
	node  *servertest.Node
	admin *servertest.Admin
	proj  *servertest.Project
	// URL is where clients connect: the recording proxy in front of the node.
	URL string
	rec *recorder
}

// The seeded data. dev:/ imports prod:/shared first and staging:/ second, so that the
// order in which a client merges imports shows.
var (
	multiline = "-----BEGIN KEY-----\nline two\n  indented three\n-----END KEY-----"
	tricky    = `it's "quoted" $HOME \back ${not a ref`
	seed      = []struct{ env, path, key, value string }{
		{"dev", "/", "API_KEY", "abc123"},
		{"dev", "/", "DB_HOST", "db.internal"},
		{"dev", "/", "DB_URL", "postgres://${DB_HOST}:5432/app"},
		{"dev", "/", "MULTILINE", multiline},
		{"dev", "/", "TRICKY", tricky},
		{"dev", "/", "OVERRIDDEN", "from dev"},
		{"dev", "/app", "APP_PORT", "8080"},
		{"dev", "/app", "APP_DB", "${dev.DB_HOST}:${APP_PORT}"},
		{"prod", "/shared", "PROD_ONLY", "from prod"},
		{"prod", "/shared", "OVERRIDDEN", "from prod"},
		{"prod", "/shared", "IMPORT_CLASH", "prod, the first import"},
		{"staging", "/", "STAGING_ONLY", "from staging"},
		{"staging", "/", "OVERRIDDEN", "from staging"},
		{"staging", "/", "IMPORT_CLASH", "staging, the second import"},
		{"dev", "/", "CROSS", "${prod.shared.PROD_ONLY}"},
		{"dev", "/", "CHAIN", "${DB_URL}?sslmode=disable"},
	}
	seedImports = []struct{ env, path, fromEnv, fromPath string }{
		{"dev", "/", "prod", "/shared"},
		{"dev", "/", "staging", "/"},
	}
)

// start starts a node on dialect and seeds it.
func start(t *testing.T, dialect string) *fixture {
	t.Helper()
	n := servertest.Start(t, dialect)
	admin := n.Bootstrap(t)
	f := &fixture{node: n, admin: admin, proj: n.NewProject(t, admin, "compat", "member")}
	f.rec = newRecorder(t, n.URL)
	f.URL = f.rec.URL
	for _, fo := range []struct{ env, path, name string }{{"dev", "/", "app"}, {"prod", "/", "shared"}} {
		f.api(t, http.MethodPost, "/api/v1/folders", map[string]any{
			"workspaceId": f.proj.ID, "environment": fo.env, "path": fo.path, "name": fo.name})
	}
	for _, s := range seed {
		f.api(t, http.MethodPost, "/api/v3/secrets/raw/"+s.key, map[string]any{
			"workspaceId": f.proj.ID, "environment": s.env, "secretPath": s.path, "secretValue": s.value})
	}
	for _, im := range seedImports {
		f.api(t, http.MethodPost, "/api/v1/secret-imports", map[string]any{
			"workspaceId": f.proj.ID, "environment": im.env, "path": im.path,
			"import": map[string]any{"environment": im.fromEnv, "path": im.fromPath}})
	}
	return f
}

// api makes a call as the admin, straight to the node, and decodes the answer.
func (f *fixture) api(t *testing.T, method, path string, body any) map[string]any {
	t.Helper()
	return f.node.MustDo(t, method, path, f.admin.Token, body).Map(t)
}

// held returns the raw (unexpanded) values the API holds in env:path, by key.
func (f *fixture) held(t *testing.T, env, path string) map[string]string {
	t.Helper()
	q := url.Values{"projectId": {f.proj.ID}, "environment": {env}, "secretPath": {path},
		"expandSecretReferences": {"false"}, "includeImports": {"false"}}
	var res struct {
		Secrets []struct{ SecretKey, SecretValue string }
	}
	f.node.MustDo(t, http.MethodGet, "/api/v4/secrets?"+q.Encode(), f.admin.Token, nil).JSON(t, &res)
	m := map[string]string{}
	for _, s := range res.Secrets {
		m[s.SecretKey] = s.SecretValue
	}
	return m
}

// folderNames returns the names of the folders the API holds in env:path, sorted.
func (f *fixture) folderNames(t *testing.T, env, path string) []string {
	t.Helper()
	q := url.Values{"workspaceId": {f.proj.ID}, "environment": {env}, "path": {path}}
	var res struct{ Folders []struct{ Name string } }
	f.node.MustDo(t, http.MethodGet, "/api/v1/folders?"+q.Encode(), f.admin.Token, nil).JSON(t, &res)
	var names []string
	for _, fo := range res.Folders {
		names = append(names, fo.Name)
	}
	sort.Strings(names)
	return names
}

// recorder is a reverse proxy that remembers every exchange between a client and the node.
type recorder struct {
	URL string
	mu  sync.Mutex
	log []string
}

func newRecorder(t *testing.T, target string) *recorder {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.Transport = r
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: proxy, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	r.URL = "http://" + ln.Addr().String()
	t.Cleanup(func() { srv.Close() })
	return r
}

// run runs fn as subtest name; if it fails, the exchanges made during it are logged.
func (f *fixture) run(t *testing.T, name string, fn func(t *testing.T)) {
	t.Run(name, func(t *testing.T) {
		from := f.rec.mark()
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("the client's requests and Coffer's answers:\n%s", f.rec.since(from))
			}
		})
		fn(t)
	})
}

// login logs the driver in with the fixture's identity and returns the SDK's answer.
func (f *fixture) login(t *testing.T, d *driver) json.RawMessage {
	t.Helper()
	from := f.rec.mark()
	res, cerr := d.call(t, "universalAuthLogin", map[string]any{"clientId": f.proj.ClientID, "clientSecret": f.proj.ClientSecret})
	if cerr != nil {
		t.Fatalf("%s universal-auth login: %s (status %d)\nthe client's requests and Coffer's answers:\n%s", d.name, cerr.Message, cerr.Status, f.rec.since(from))
	}
	return res
}

// mark returns the number of exchanges so far, for since.
func (r *recorder) mark() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.log)
}

// since returns the exchanges after mark, one request and answer each.
func (r *recorder) since(mark int) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.log[mark:], "\n")
}

// userAgents counts the requests the clients sent, by User-Agent.
func (r *recorder) userAgents() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := map[string]int{}
	for _, e := range r.log {
		_, ua, _ := strings.Cut(e, "[User-Agent: ")
		ua, _, _ = strings.Cut(ua, "]")
		m[ua]++
	}
	return m
}

// RoundTrip forwards req to the node and records both sides.
func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		reqBody, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	entry := fmt.Sprintf("> %s %s [User-Agent: %s] %s", req.Method, req.URL.RequestURI(), req.UserAgent(), clip(reqBody))
	if err != nil {
		entry += "\n< error: " + err.Error()
	} else {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		entry += fmt.Sprintf("\n< %d %s", resp.StatusCode, clip(body))
	}
	r.mu.Lock()
	r.log = append(r.log, entry)
	r.mu.Unlock()
	return resp, err
}

func clip(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "…"
	}
	return string(b)
}

// driver is a running SDK driver (testdata/*/): one JSON request per line in, one JSON
// answer per line out, one SDK call per request.
type driver struct {
	name   string
	stdin  io.WriteCloser
	out    *bufio.Reader
	stderr *bytes.Buffer
}

// callError is what a driver reports when the SDK call failed.
type callError struct {
	Message string
	Status  int // the HTTP status the SDK saw, 0 if none
}

func startDriver(t *testing.T, name string, cmd *exec.Cmd) *driver {
	t.Helper()
	d := &driver{name: name, stderr: &bytes.Buffer{}}
	cmd.Stderr = d.stderr
	var err error
	if d.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	d.out = bufio.NewReaderSize(stdout, 1<<20)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		d.stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() && d.stderr.Len() > 0 {
			t.Logf("%s stderr:\n%s", name, d.stderr)
		}
	})
	return d
}

// call sends one request and returns the SDK's result, or its error.
func (d *driver) call(t *testing.T, op string, args map[string]any) (json.RawMessage, *callError) {
	t.Helper()
	line, err := json.Marshal(map[string]any{"op": op, "args": args})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.stdin.Write(append(line, '\n')); err != nil {
		t.Fatalf("%s %s: write: %v\n%s", d.name, op, err, d.stderr)
	}
	type answer struct {
		Result json.RawMessage `json:"result"`
		Error  string          `json:"error"`
		Status int             `json:"status"`
	}
	got := make(chan answer, 1)
	fail := make(chan error, 1)
	go func() {
		b, err := d.out.ReadBytes('\n')
		if err != nil {
			fail <- err
			return
		}
		var a answer
		if err := json.Unmarshal(b, &a); err != nil {
			fail <- fmt.Errorf("bad answer %q: %w", b, err)
			return
		}
		got <- a
	}()
	select {
	case a := <-got:
		if a.Error != "" {
			return nil, &callError{Message: a.Error, Status: a.Status}
		}
		return a.Result, nil
	case err := <-fail:
		t.Fatalf("%s %s: %v\n%s", d.name, op, err, d.stderr)
	case <-time.After(2 * time.Minute):
		t.Fatalf("%s %s: no answer after 2 minutes\n%s", d.name, op, d.stderr)
	}
	return nil, nil
}

// must makes a call that has to succeed and decodes its result into v (if not nil).
func (d *driver) must(t *testing.T, op string, args map[string]any, v any) {
	t.Helper()
	res, cerr := d.call(t, op, args)
	if cerr != nil {
		t.Fatalf("%s %s(%v): %s (status %d)", d.name, op, args, cerr.Message, cerr.Status)
	}
	if v != nil {
		if err := json.Unmarshal(res, v); err != nil {
			t.Fatalf("%s %s: decode %s: %v", d.name, op, res, err)
		}
	}
}

// mustFail makes a call that has to fail with the given HTTP status.
func (d *driver) mustFail(t *testing.T, op string, args map[string]any, status int) *callError {
	t.Helper()
	res, cerr := d.call(t, op, args)
	if cerr == nil {
		t.Errorf("%s %s(%v) succeeded with %s; want an error with status %d", d.name, op, args, res, status)
		return &callError{}
	}
	if cerr.Status != status {
		t.Errorf("%s %s(%v): status %d (%s); want %d", d.name, op, args, cerr.Status, cerr.Message, status)
	}
	return cerr
}

// with returns a copy of m with the pairs kv added.
func with(m map[string]any, kv ...any) map[string]any {
	out := make(map[string]any, len(m)+len(kv)/2)
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// diffMaps describes how got differs from want, or returns "".
func diffMaps(got, want map[string]string) string {
	var b strings.Builder
	keys := map[string]bool{}
	for k := range got {
		keys[k] = true
	}
	for k := range want {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		g, gok := got[k]
		w, wok := want[k]
		switch {
		case !gok:
			fmt.Fprintf(&b, "\n  missing %s (want %q)", k, w)
		case !wok:
			fmt.Fprintf(&b, "\n  unexpected %s=%q", k, g)
		case g != w:
			fmt.Fprintf(&b, "\n  %s=%q, want %q", k, g, w)
		}
	}
	return b.String()
}
