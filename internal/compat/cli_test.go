package compat_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/servertest"
)

// cliRunner runs the Infisical CLI against a fixture, in a home directory of its own.
type cliRunner struct {
	bin, home, domain string
	token             string // INFISICAL_TOKEN, once logged in
}

// run runs the CLI with args (plus --domain and --silent, before any "--") and returns what
// it printed and its exit code.
func (c *cliRunner) run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	i := slices.Index(args, "--")
	if i < 0 {
		i = len(args)
	}
	args = slices.Concat(args[:i], []string{"--domain=" + c.domain, "--silent"}, args[i:])
	cmd := exec.Command(c.bin, args...)
	cmd.Env = []string{"HOME=" + c.home, "PATH=/usr/local/bin:/usr/bin:/bin", "INFISICAL_DISABLE_UPDATE_CHECK=true"}
	if c.token != "" {
		cmd.Env = append(cmd.Env, "INFISICAL_TOKEN="+c.token)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatalf("infisical %s: still running after 2 minutes", strings.Join(args, " "))
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// must runs the CLI, which has to exit 0, and returns its standard output.
func (c *cliRunner) must(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := c.run(t, args...)
	if code != 0 {
		t.Fatalf("infisical %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// TestInfisicalCLI drives the Infisical CLI (v0.43.x) the way a CI job does. It was written
// from the CLI's source and documentation and has not yet run against a real binary, since
// none can be had where it was written (see infisicalCLI): expect to adjust it on its first
// run with one. It covers universal-auth login, then export (dotenv and JSON), run, secrets
// set/get/delete and secrets folders get/create/delete with INFISICAL_TOKEN. The CLI lists through GET /api/v4/secrets with
// expandSecretReferences and includeImports, and merges imports itself: the folder's own keys
// win, then the imports from the last to the first, so a later import wins over an earlier
// one. export sorts by key and prints dotenv lines KEY='value' with the value as it is (no
// escaping, newlines kept, since skipMultilineEncoding is false).
func TestInfisicalCLI(t *testing.T) {
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		bin, err := infisicalCLI()
		requireClient(t, err, envTrue(cliRequireEnv))
		f := start(t, dialect)
		c := &cliRunner{bin: bin, home: t.TempDir(), domain: f.URL + "/api"}
		if out, _, _ := c.run(t, "--version"); out != "" {
			t.Logf("CLI: %s", strings.TrimSpace(out))
		}
		proj := []string{"--projectId", f.proj.ID, "--env", "dev"}

		from := f.rec.mark()
		out, errOut, code := c.run(t, "login", "--method=universal-auth", "--client-id", f.proj.ClientID, "--client-secret", "wrong", "--plain")
		if code == 0 || !strings.Contains(out+errOut, "401") {
			t.Errorf("login with a wrong secret: exit %d, want 1 and a 401 in\n%s%s", code, out, errOut)
		}
		out, errOut, code = c.run(t, "login", "--method=universal-auth", "--client-id", f.proj.ClientID, "--client-secret", f.proj.ClientSecret, "--plain")
		if c.token = strings.TrimSpace(out); code != 0 || c.token == "" || strings.ContainsAny(c.token, " \n") {
			t.Fatalf("login: exit %d, printed %q (want only the token)\n%s\nthe client's requests and Coffer's answers:\n%s", code, out, errOut, f.rec.since(from))
		}

		merged := map[string]string{
			"API_KEY": "abc123", "DB_HOST": "db.internal", "DB_URL": "postgres://db.internal:5432/app",
			"MULTILINE": multiline, "TRICKY": tricky, "OVERRIDDEN": "from dev", "CROSS": "from prod",
			"CHAIN":     "postgres://db.internal:5432/app?sslmode=disable",
			"PROD_ONLY": "from prod", "IMPORT_CLASH": "staging, the second import", "STAGING_ONLY": "from staging",
		}

		f.run(t, "export", func(t *testing.T) {
			out := c.must(t, append([]string{"export", "--format", "dotenv"}, proj...)...)
			if want := dotenv(merged); strings.TrimRight(out, "\n") != strings.TrimRight(want, "\n") {
				t.Errorf("export --format dotenv printed\n%s\nwant\n%s", out, want)
			}
			out = c.must(t, append([]string{"export", "--format", "json"}, proj...)...)
			var vars []struct{ Key, Value, Type string }
			if err := json.Unmarshal([]byte(out), &vars); err != nil {
				t.Fatalf("export --format json printed %q: %v", out, err)
			}
			got := map[string]string{}
			var order []string
			for _, v := range vars {
				got[v.Key] = v.Value
				order = append(order, v.Key)
				if v.Type != "shared" {
					t.Errorf("%s has type %q", v.Key, v.Type)
				}
			}
			if d := diffMaps(got, merged); d != "" {
				t.Errorf("export --format json:%s", d)
			}
			if !sort.StringsAreSorted(order) {
				t.Errorf("export --format json: not sorted: %v", order)
			}
			out = c.must(t, "export", "--format", "dotenv", "--projectId", f.proj.ID, "--env", "dev", "--path", "/app")
			if want := dotenv(map[string]string{"APP_PORT": "8080", "APP_DB": "db.internal:8080"}); strings.TrimRight(out, "\n") != strings.TrimRight(want, "\n") {
				t.Errorf("export --path /app printed\n%s\nwant\n%s", out, want)
			}
		})

		f.run(t, "run", func(t *testing.T) {
			out := c.must(t, append(append([]string{"run"}, proj...), "--", "sh", "-c", `printf '%s|%s|%s|%s' "$DB_URL" "$IMPORT_CLASH" "$TRICKY" "$MULTILINE"`)...)
			if want := strings.Join([]string{merged["DB_URL"], merged["IMPORT_CLASH"], tricky, multiline}, "|"); out != want {
				t.Errorf("run printed %q, want %q", out, want)
			}
		})

		f.run(t, "secrets set, get, delete", func(t *testing.T) {
			c.must(t, append([]string{"secrets", "set", "NEW_KEY=hello", "API_KEY=rotated"}, proj...)...)
			held := f.held(t, "dev", "/")
			if held["NEW_KEY"] != "hello" || held["API_KEY"] != "rotated" {
				t.Errorf("after set the API holds NEW_KEY=%q API_KEY=%q", held["NEW_KEY"], held["API_KEY"])
			}
			for key, want := range map[string]string{"NEW_KEY": "hello", "DB_URL": merged["DB_URL"], "MULTILINE": multiline} {
				if out := c.must(t, append([]string{"secrets", "get", key, "--plain"}, proj...)...); strings.TrimSuffix(out, "\n") != want {
					t.Errorf("secrets get %s --plain printed %q, want %q", key, out, want)
				}
			}
			c.must(t, append([]string{"secrets", "delete", "NEW_KEY"}, proj...)...)
			if _, ok := f.held(t, "dev", "/")["NEW_KEY"]; ok {
				t.Errorf("NEW_KEY still held after secrets delete")
			}
		})

		f.run(t, "secrets folders", func(t *testing.T) {
			if out := c.must(t, append([]string{"secrets", "folders", "get", "--path", "/"}, proj...)...); !strings.Contains(out, "app") {
				t.Errorf("folders get printed %q, want the folder app", out)
			}
			c.must(t, append([]string{"secrets", "folders", "create", "--name", "newf", "--path", "/"}, proj...)...)
			if got := f.folderNames(t, "dev", "/"); !slices.Equal(got, []string{"app", "newf"}) {
				t.Errorf("after folders create the API holds %v", got)
			}
			c.must(t, append([]string{"secrets", "folders", "delete", "--name", "newf", "--path", "/"}, proj...)...)
			if got := f.folderNames(t, "dev", "/"); !slices.Equal(got, []string{"app"}) {
				t.Errorf("after folders delete the API holds %v", got)
			}
		})
	})
}

// dotenv is what `infisical export --format dotenv` prints for vars.
func dotenv(vars map[string]string) string {
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s='%s'\n", k, vars[k])
	}
	return b.String()
}
