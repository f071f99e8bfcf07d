package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/keyring"
	"github.com/cofferhq/coffer/internal/servertest"
	"github.com/cofferhq/coffer/internal/store"
	"github.com/cofferhq/coffer/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }

// run runs the coffer command with an environment of exactly vars.
func run(t *testing.T, ctx context.Context, stdin string, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := Env{
		Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb,
		LookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
		Environ: func() []string {
			var e []string
			for k, v := range vars {
				e = append(e, k+"="+v)
			}
			return e
		},
	}
	code = Main(ctx, env, args)
	return code, out.String(), errb.String()
}

func TestServerRefusesToStartWithoutKeys(t *testing.T) {
	code, _, stderr := run(t, context.Background(), "", map[string]string{"COFFER_DATA_DIR": t.TempDir()}, "server")
	if code == 0 {
		t.Fatal("server started without a root key and auth secret")
	}
	for _, want := range []string{"COFFER_ROOT_KEY", "COFFER_AUTH_SECRET"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("error does not name %s:\n%s", want, stderr)
		}
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestServerDevStartsServesAndStops(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	addr := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var stderr string
	go func() {
		code, _, e := run(t, ctx, "", map[string]string{}, "server", "--dev", "--listen", addr, "--data-dir", dir)
		stderr = e
		done <- code
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/api/status")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status: %d", resp.StatusCode)
			}
			break
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("dev server did not come up: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit code %d:\n%s", code, stderr)
	}
	for _, f := range []string{"root.key", "auth.secret", "coffer.db"} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatalf("%s not created: %v", f, err)
		}
		if f != "coffer.db" && st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, st.Mode().Perm())
		}
	}
	if !strings.Contains(stderr, "coffer bootstrap") {
		t.Errorf("dev banner does not say how to continue:\n%s", stderr)
	}
	key, _ := os.ReadFile(filepath.Join(dir, "root.key"))
	if strings.Contains(stderr, strings.TrimSpace(string(key))) {
		t.Error("the generated root key was printed")
	}
}

func TestConfigRedactsSecrets(t *testing.T) {
	k, _ := keyring.GenerateKey()
	root := keyring.EncodeRootKey(k)
	vars := map[string]string{
		"COFFER_ROOT_KEY":     root,
		"COFFER_AUTH_SECRET":  "auth-secret-planted-0123456789abcdef",
		"COFFER_DATABASE_URL": "postgres://coffer:db-password-planted@db:5432/coffer",
	}
	code, out, stderr := run(t, context.Background(), "", vars, "config")
	if code != 0 {
		t.Fatalf("config: %d %s", code, stderr)
	}
	for _, planted := range []string{root, "auth-secret-planted", "db-password-planted"} {
		if strings.Contains(out+stderr, planted) {
			t.Errorf("config printed a secret (%q)", planted[:8])
		}
	}
	if !strings.Contains(out, "COFFER_DATABASE_URL=postgres://coffer:") || !strings.Contains(out, "@db:5432/coffer") {
		t.Errorf("database URL not shown with only its password redacted:\n%s", out)
	}
}

func TestKeysGenerateMakesUsableKeys(t *testing.T) {
	code, out, _ := run(t, context.Background(), "", nil, "keys", "generate")
	if code != 0 {
		t.Fatal("keys generate failed")
	}
	var root string
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, "COFFER_ROOT_KEY="); ok {
			root = v
		}
	}
	if _, err := keyring.ParseRootKey(root); err != nil {
		t.Fatalf("generated root key does not parse: %v", err)
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := run(t, context.Background(), "", nil, "version")
	if code != 0 || !strings.HasPrefix(out, "coffer ") {
		t.Fatalf("version: %d %q", code, out)
	}
}

func TestBootstrapThroughTheCLI(t *testing.T) {
	n := servertest.Start(t, store.SQLite)
	args := []string{"bootstrap", "--domain", n.URL, "--email", "ops@example.com", "--organization", "Ops", "--output", "json"}
	code, out, stderr := run(t, context.Background(), "a long enough passphrase\n", nil, append(args, "--password-stdin")...)
	if code != 0 {
		t.Fatalf("bootstrap: %d %s", code, stderr)
	}
	var res struct {
		Identity struct {
			Credentials struct{ Token string } `json:"credentials"`
		} `json:"identity"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Identity.Credentials.Token == "" {
		t.Fatalf("bootstrap output: %v %q", err, out)
	}
	r := n.Do(t, http.MethodGet, "/api/v1/workspace", res.Identity.Credentials.Token, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("token from bootstrap does not work: %d %s", r.Status, r.Body)
	}
	// A second bootstrap is refused, with Infisical's error format on stderr.
	code, _, stderr = run(t, context.Background(), "", map[string]string{"COFFER_BOOTSTRAP_PASSWORD": "another passphrase"}, args...)
	if code == 0 || !strings.Contains(stderr, "status-code=400") {
		t.Fatalf("second bootstrap: code %d, stderr %q", code, stderr)
	}
	if strings.Contains(stderr, "another passphrase") {
		t.Fatal("password echoed in the error")
	}
}
