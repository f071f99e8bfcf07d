package cli

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cofferhq/coffer/client"
	"github.com/cofferhq/coffer/internal/envfile"
	"github.com/cofferhq/coffer/internal/servertest"
	"github.com/cofferhq/coffer/internal/store"
)

// secretsFixture is a node with a project whose dev environment a test fills through the API.
type secretsFixture struct {
	n     *servertest.Node
	admin *servertest.Admin
	p     *servertest.Project
}

func newSecretsFixture(t *testing.T, dialect string) *secretsFixture {
	t.Helper()
	n := servertest.Start(t, dialect)
	admin := n.Bootstrap(t)
	return &secretsFixture{n: n, admin: admin, p: n.NewProject(t, admin, "web", "member")}
}

// put creates secrets (key, value pairs) in a folder of dev, one request each so that
// references can name a secret of an earlier pair.
func (f *secretsFixture) put(t *testing.T, path string, kv ...string) {
	t.Helper()
	for i := 0; i+1 < len(kv); i += 2 {
		f.n.MustDo(t, http.MethodPost, "/api/v4/secrets/batch", f.admin.Token, map[string]any{
			"projectId": f.p.ID, "environment": "dev", "secretPath": path,
			"secrets": []map[string]any{{"secretKey": kv[i], "secretValue": kv[i+1]}},
		})
	}
}

// set changes the value of a secret of dev's root folder.
func (f *secretsFixture) set(t *testing.T, key, value string) {
	t.Helper()
	f.n.MustDo(t, http.MethodPatch, "/api/v4/secrets/"+key, f.admin.Token, map[string]any{
		"projectId": f.p.ID, "environment": "dev", "secretPath": "/", "secretValue": value,
	})
}

func (f *secretsFixture) folder(t *testing.T, name string) {
	t.Helper()
	f.n.MustDo(t, http.MethodPost, "/api/v1/folders", f.admin.Token, map[string]any{
		"workspaceId": f.p.ID, "environment": "dev", "path": "/", "name": name,
	})
}

// importInto makes folder path of dev import folder from of dev.
func (f *secretsFixture) importInto(t *testing.T, path, from string) {
	t.Helper()
	f.n.MustDo(t, http.MethodPost, "/api/v1/secret-imports", f.admin.Token, map[string]any{
		"workspaceId": f.p.ID, "environment": "dev", "path": path, "import": map[string]any{"environment": "dev", "path": from},
	})
}

// identityUser is a CI job holding the project's member identity token.
func (f *secretsFixture) identityUser(t *testing.T) *user {
	u := newUser(t, f.n)
	u.Env["COFFER_TOKEN"] = f.p.Token
	u.Env["COFFER_PROJECT_ID"] = f.p.ID
	return u
}

// parseEnv0 reads the output of `env -0`.
func parseEnv0(out string) map[string]string {
	m := map[string]string{}
	for _, kv := range strings.Split(strings.TrimSuffix(out, "\x00"), "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// baseEnv is the environment the harness gives the binary.
func (u *user) baseEnv() map[string]string {
	m := map[string]string{"PATH": os.Getenv("PATH")}
	for k, v := range u.Env {
		m[k] = v
	}
	return m
}

func TestRunInjectsTheMergedSecrets(t *testing.T) {
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		f := newSecretsFixture(t, dialect)
		f.put(t, "/", "A", "alpha", "REF", "${A}-ref", "SHARED", "own", "OVERRIDE", "shared-value",
			"INHERITED", "from-coffer", "MULTI", "line 1\nline 'two' \"3\"", "PATH", "/nowhere")
		f.folder(t, "imp1")
		f.folder(t, "imp2")
		f.put(t, "/imp1", "IMP", "first", "ONLY1", "one", "SHARED", "imp1")
		f.put(t, "/imp2", "IMP", "second", "ONLY2", "two", "SHARED", "imp2")
		f.importInto(t, "/", "/imp1")
		f.importInto(t, "/", "/imp2")

		// The admin user logs in and keeps a personal override of OVERRIDE.
		u := newUser(t, f.n)
		u.must(f.admin.Password+"\n", "login", "--email", f.admin.Email, "--password-stdin")
		var tok struct{ AccessToken string }
		f.n.MustDo(t, http.MethodPost, "/api/v1/auth/password/login", "", map[string]any{"email": f.admin.Email, "password": f.admin.Password}).JSON(t, &tok)
		f.n.MustDo(t, http.MethodPost, "/api/v4/secrets/OVERRIDE", tok.AccessToken, map[string]any{
			"projectId": f.p.ID, "environment": "dev", "secretPath": "/", "secretValue": "personal-value", "type": "personal",
		})
		u.Env["INHERITED"] = "from-parent"
		u.Env["KEEP_ME"] = "kept"

		want := u.baseEnv()
		for k, v := range map[string]string{
			"A": "alpha", "REF": "alpha-ref", "SHARED": "own", "OVERRIDE": "personal-value", "INHERITED": "from-coffer",
			"MULTI": "line 1\nline 'two' \"3\"", "IMP": "second", "ONLY1": "one", "ONLY2": "two",
		} {
			want[k] = v
		}
		r := u.run("", "run", "--projectId", f.p.ID, "--", "env", "-0")
		if r.Code != 0 {
			t.Fatalf("run: exit %d: %s", r.Code, r.Stderr)
		}
		if got := parseEnv0(r.Stdout); !reflect.DeepEqual(got, want) {
			t.Errorf("environment of the command:\n got %q\nwant %q", got, want)
		}
		for _, line := range []string{
			"Injecting 9 Coffer secrets into your application process",
			"Warning: Coffer secret named [PATH] has been removed because it is a reserved secret name",
		} {
			if !strings.Contains(r.Stderr, line) {
				t.Errorf("stderr lacks %q:\n%s", line, r.Stderr)
			}
		}

		// A machine identity has no personal overrides; --silent hides the banner, not the output.
		ci := f.identityUser(t)
		r = ci.run("", "run", "--silent", "--command", `printf '%s|%s|%s' "$OVERRIDE" "$REF" "$IMP"`)
		if r.Code != 0 || r.Stdout != "shared-value|alpha-ref|second" {
			t.Errorf("--command as an identity: exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
		}
		if strings.Contains(r.Stderr, "Injecting") {
			t.Errorf("--silent still printed the banner: %q", r.Stderr)
		}
		// --expand=false leaves the reference; --include-imports=false drops the imports.
		r = ci.run("", "run", "--expand=false", "--include-imports=false", "--", "sh", "-c", `printf '%s|%s' "$REF" "${IMP-unset}"`)
		if r.Stdout != "${A}-ref|unset" {
			t.Errorf("--expand=false --include-imports=false: %q (stderr %q)", r.Stdout, r.Stderr)
		}
	})
}

func TestRunExitCodes(t *testing.T) {
	f := newSecretsFixture(t, store.SQLite)
	u := f.identityUser(t)
	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"success", []string{"--", "true"}, 0},
		{"exit 7", []string{"--", "sh", "-c", "exit 7"}, 7},
		{"--command", []string{"--command", "exit 3"}, 3},
		{"killed by SIGKILL", []string{"--", "sh", "-c", "kill -KILL $$"}, 128 + 9},
		{"killed by SIGTERM", []string{"--command", "kill -TERM $$"}, 128 + 15},
		{"not found", []string{"--", "no-such-command-here"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := u.run("", append([]string{"run"}, tc.args...)...); r.Code != tc.want {
				t.Errorf("exit %d, want %d; stderr %q", r.Code, tc.want, r.Stderr)
			}
		})
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run"}, "at least one argument is required after the run command, received 0"},
		{[]string{"run", "--command", "true", "extra"}, "you cannot set any arguments after --command flag"},
		{[]string{"run", "--command", ""}, "you need to provide a command after the flag --command"},
		{[]string{"run", "--watch-interval", "soon", "--", "true"}, "watch-interval"},
	} {
		if r := u.run("", tc.args...); r.Code == 0 || !strings.Contains(r.Stderr, tc.want) {
			t.Errorf("coffer %v: exit %d, stderr %q; want an error with %q", tc.args, r.Code, r.Stderr, tc.want)
		}
	}
}

func TestRunReportsAPIErrors(t *testing.T) {
	f := newSecretsFixture(t, store.SQLite)
	u := f.identityUser(t)
	r := u.run("", "run", "--projectId", "00000000-0000-0000-0000-000000000000", "--", "true")
	if r.Code == 0 {
		t.Fatal("run with an unknown project succeeded")
	}
	for _, want := range []string{"status-code=", "reqId=", "message="} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("stderr lacks %q: %s", want, r.Stderr)
		}
	}
	if strings.Contains(r.Stderr, "cached") {
		t.Errorf("a 4xx answer fell back to the cache: %s", r.Stderr)
	}
	// A wrong token is a 4xx too: no fallback, whatever is cached.
	u.must("", "run", "--", "true")
	u.Env["COFFER_TOKEN"] = "not-a-token"
	if r := u.run("", "run", "--", "true"); r.Code == 0 || strings.Contains(r.Stderr, "cached") {
		t.Errorf("bad token: exit %d, stderr %s", r.Code, r.Stderr)
	}
}

// started is a coffer process a test talks to while it runs.
type started struct {
	cmd     *exec.Cmd
	lines   chan string // its stdout, line by line
	errPath string      // its stderr
}

// start starts coffer with args and returns at once. Standard output and error are files (a
// pipe and a temporary file), so that waiting for coffer does not wait for grandchildren
// that still hold them.
func (u *user) start(t *testing.T, args ...string) *started {
	t.Helper()
	cmd := exec.Command(cofferBinary(t), args...)
	cmd.Dir = u.Dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range u.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &started{cmd: cmd, lines: make(chan string, 100), errPath: filepath.Join(t.TempDir(), "stderr")}
	errf, err := os.Create(s.errPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = pw, errf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	errf.Close()
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
		close(s.lines)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		pr.Close()
	})
	return s
}

// waitLine waits for a line of stdout and fails the test after timeout.
func (s *started) waitLine(t *testing.T, want string, timeout time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case l, ok := <-s.lines:
			if !ok {
				t.Fatalf("stdout ended before %q; stderr:\n%s", want, s.stderr())
			}
			if l == want {
				return
			}
		case <-deadline:
			t.Fatalf("no %q within %v; stderr:\n%s", want, timeout, s.stderr())
		}
	}
}

func (s *started) stderr() string {
	b, _ := os.ReadFile(s.errPath)
	return string(b)
}

// exit waits for coffer to end and returns its exit code.
func (s *started) exit(t *testing.T, timeout time.Duration) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(timeout):
		t.Fatalf("coffer did not exit within %v; stderr:\n%s", timeout, s.stderr())
		return 0
	}
}

func TestRunForwardsSignals(t *testing.T) {
	f := newSecretsFixture(t, store.SQLite)
	u := f.identityUser(t)
	for name, sig := range map[string]syscall.Signal{"TERM": syscall.SIGTERM, "INT": syscall.SIGINT, "HUP": syscall.SIGHUP, "USR1": syscall.SIGUSR1} {
		t.Run(name, func(t *testing.T) {
			s := u.start(t, "run", "--", "sh", "-c", `trap "echo got-`+name+`; exit 0" `+name+`; echo ready; while :; do sleep 0.1; done`)
			s.waitLine(t, "ready", 20*time.Second)
			if err := s.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			s.waitLine(t, "got-"+name, 10*time.Second)
			if code := s.exit(t, 10*time.Second); code != 0 {
				t.Errorf("exit %d, want the child's 0; stderr:\n%s", code, s.stderr())
			}
		})
	}
}

func TestRunWatchRestartsOnChange(t *testing.T) {
	f := newSecretsFixture(t, store.SQLite)
	f.put(t, "/", "V", "old", "OTHER", "x")
	u := f.identityUser(t)
	s := u.start(t, "run", "--watch", "--watch-interval", "200ms", "--", "sh", "-c", `echo "V=$V"; sleep 30`)
	s.waitLine(t, "V=old", 20*time.Second)
	time.Sleep(500 * time.Millisecond) // a few unchanged polls: no restart
	f.set(t, "V", "new")
	s.waitLine(t, "V=new", 10*time.Second)
	if n := strings.Count(s.stderr(), "Environment changes detected"); n != 1 {
		t.Errorf("%d restarts for one change; stderr:\n%s", n, s.stderr())
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	if code := s.exit(t, 15*time.Second); code != 128+int(syscall.SIGTERM) {
		t.Errorf("exit %d after SIGTERM to a child that does not trap it", code)
	}
	// Integer seconds, as Infisical's --watch-interval takes them, are accepted too.
	if r := u.run("", "run", "--watch", "--watch-interval", "7", "--", "true"); r.Code != 0 {
		t.Errorf("--watch-interval 7: exit %d: %s", r.Code, r.Stderr)
	}
}

func TestMergeListing(t *testing.T) {
	sec := func(k, v, typ string) client.Secret { return client.Secret{SecretKey: k, SecretValue: v, Type: typ} }
	imp := func(s ...client.Secret) client.Import { return client.Import{Secrets: s} }
	raw := &client.Secrets{
		Secrets: []client.Secret{
			sec("A", "own", "shared"), sec("P", "shared", "shared"), sec("P", "mine", "personal"),
			sec("D", "first", "shared"), sec("D", "second", "shared"), sec("Q", "mine", "personal"), sec("Q", "shared", "shared"),
		},
		Imports: []client.Import{
			imp(sec("A", "import1", "shared"), sec("B", "import1", "shared"), sec("C", "import1", "shared")),
			imp(sec("B", "import2", "shared"), sec("E", "import2", "shared"), sec("E", "nested", "shared")),
		},
	}
	want := []envfile.Entry{
		{Key: "A", Value: "own"}, {Key: "P", Value: "mine"}, {Key: "D", Value: "first"}, {Key: "Q", Value: "mine"},
		{Key: "B", Value: "import2"}, {Key: "E", Value: "import2"}, {Key: "C", Value: "import1"},
	}
	if got := mergeListing(raw); !reflect.DeepEqual(got, want) {
		t.Errorf("merge:\n got %v\nwant %v", got, want)
	}
}

func TestWatchIntervalFlag(t *testing.T) {
	for in, want := range map[string]time.Duration{"10": 10 * time.Second, "200ms": 200 * time.Millisecond, "1m": time.Minute} {
		var s seconds
		if err := s.Set(in); err != nil || time.Duration(s) != want {
			t.Errorf("%q: %v %v", in, time.Duration(s), err)
		}
	}
	for _, in := range []string{"0", "-1", "-2s", "soon", ""} {
		var s seconds
		if err := s.Set(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestSupervisorKillsAChildThatIgnoresSIGTERM(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	var notes strings.Builder
	var mu sync.Mutex
	sv := &supervisor{
		env:  Env{Stdin: strings.NewReader(""), Stdout: pw, Stderr: pw},
		argv: []string{"sh", "-c", `trap "" TERM; echo "start $GEN"; while :; do sleep 0.05; done`},
		say: func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(&notes, format+"\n", args...)
		},
		grace: 200 * time.Millisecond,
	}
	updates := make(chan childEnv)
	done := make(chan int, 1)
	go func() {
		code, err := sv.run(childEnv{environ: []string{"PATH=" + os.Getenv("PATH"), "GEN=1"}}, updates)
		if err != nil {
			t.Error(err)
		}
		done <- code
	}()
	lines := bufio.NewScanner(pr)
	expect := func(want string) {
		t.Helper()
		if !lines.Scan() || lines.Text() != want {
			t.Fatalf("child printed %q, want %q", lines.Text(), want)
		}
	}
	expect("start 1")
	updates <- childEnv{environ: []string{"PATH=" + os.Getenv("PATH"), "GEN=2"}}
	expect("start 2")
	mu.Lock()
	if !strings.Contains(notes.String(), "Sending SIGKILL") {
		t.Errorf("no SIGKILL after the grace period:\n%s", notes.String())
	}
	mu.Unlock()
	// A signal to coffer reaches the new child; USR1 is not trapped, so it ends it.
	syscall.Kill(os.Getpid(), syscall.SIGUSR1)
	select {
	case code := <-done:
		if code != 128+int(syscall.SIGUSR1) {
			t.Errorf("exit %d, want %d", code, 128+int(syscall.SIGUSR1))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the supervisor did not end")
	}
	pw.Close()
}

func TestRunProjectConfigDir(t *testing.T) {
	f := newSecretsFixture(t, store.SQLite)
	f.put(t, "/", "K", "from-linked-project")
	u := f.identityUser(t)
	delete(u.Env, "COFFER_PROJECT_ID")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ".infisical.json"), []byte(`{"workspaceId":"`+f.p.ID+`","defaultEnvironment":"dev"}`), 0o600)
	if r := u.run("", "run", "--", "true"); r.Code == 0 || !strings.Contains(r.Stderr, "no project") {
		t.Errorf("no project anywhere: exit %d, stderr %q", r.Code, r.Stderr)
	}
	if out := u.must("", "run", "--project-config-dir", dir, "--", "sh", "-c", `printf %s "$K"`); out != "from-linked-project" {
		t.Errorf("--project-config-dir: %q", out)
	}
}
