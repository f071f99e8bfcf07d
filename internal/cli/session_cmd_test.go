package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/internal/servertest"
	"github.com/cofferhq/coffer/internal/store"
)

// TestLoginInitWhoamiLogout follows a developer: log in, link a directory, work without
// flags, log out.
func TestLoginInitWhoamiLogout(t *testing.T) {
	n := servertest.Start(t, store.SQLite)
	admin := n.Bootstrap(t)
	p := n.NewProject(t, admin, "dev-flow", "member")
	u := newUser(t, n)

	if r := u.run("", "whoami"); r.Code == 0 || !strings.Contains(r.Stderr, "coffer login") {
		t.Fatalf("whoami before login: %+v", r)
	}
	u.must("", "login", "--method", "universal-auth", "--client-id", p.ClientID, "--client-secret", p.ClientSecret)
	creds := filepath.Join(u.Env["COFFER_CONFIG_DIR"], "credentials.json")
	st, err := os.Stat(creds)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v, mode %v", err, st.Mode().Perm())
	}
	if out := u.must("", "whoami"); !strings.Contains(out, "identity") || !strings.Contains(out, "universal-auth") {
		t.Errorf("whoami:\n%s", out)
	}

	u.must("", "init", "--projectId", p.ID, "--env", "staging")
	pf, err := os.ReadFile(filepath.Join(u.Dir, ".coffer.json"))
	if err != nil || !strings.Contains(string(pf), p.ID) || !strings.Contains(string(pf), `"staging"`) {
		t.Fatalf(".coffer.json: %v %s", err, pf)
	}
	// A sub-directory finds .coffer.json upwards; no --projectId or --env needed.
	sub := filepath.Join(u.Dir, "a", "b")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	u.Dir = sub
	u.must("", "secrets", "set", "LINKED=yes", "--silent")
	if got := u.must("", "secrets", "get", "LINKED", "--plain", "--env", "staging"); got != "yes\n" {
		t.Errorf("LINKED in staging = %q", got)
	}
	if r := u.run("", "secrets", "get", "LINKED", "--plain", "--env", "dev"); r.Code == 0 {
		t.Errorf("LINKED found in dev: the linked default environment was not used")
	}

	u.must("", "logout")
	if b, _ := os.ReadFile(creds); strings.Contains(string(b), "token") && strings.Contains(string(b), p.ClientID) {
		t.Errorf("logout left the token behind: %s", b)
	}
	if r := u.run("", "whoami"); r.Code == 0 {
		t.Errorf("whoami after logout succeeded")
	}
}

// TestSecretsImport round-trips exported files back in through `secrets import`, and shows
// that a file with one bad entry writes nothing.
func TestSecretsImport(t *testing.T) {
	n := servertest.Start(t, store.SQLite)
	admin := n.Bootstrap(t)
	p := n.NewProject(t, admin, "import", "member")
	u := newUser(t, n)
	u.Env["COFFER_TOKEN"] = p.Token
	src := []string{"--projectId", p.ID, "--env", "dev"}
	u.must("", append([]string{"secrets", "set", "MULTI=line1\nline2", "QUOTES=it's \"q\"", "HASH=a # b", "EQ=x=y", "UNI=日本 ☃", "EMPTY="}, src...)...)
	want := u.must("", append([]string{"export", "--format", "json"}, src...)...)

	for _, format := range []string{"dotenv", "dotenv-export", "json", "yaml", "csv"} {
		t.Run(format, func(t *testing.T) {
			file := filepath.Join(u.Dir, "secrets."+format)
			u.must("", append([]string{"export", "--format", format, "--output-file", file}, src...)...)
			// Import into staging, then export staging as JSON: the same values.
			dst := []string{"--projectId", p.ID, "--env", "staging"}
			u.must("", append([]string{"secrets", "import", file, "--format", format, "--silent"}, dst...)...)
			got := u.must("", append([]string{"export", "--format", "json"}, dst...)...)
			if strings.ReplaceAll(got, `"workspace"`, "") != strings.ReplaceAll(want, `"workspace"`, "") {
				t.Errorf("%s round trip:\nwant %s\n got %s", format, want, got)
			}
		})
	}

	bad := filepath.Join(u.Dir, "bad.env")
	if err := os.WriteFile(bad, []byte("GOOD=1\nBAD KEY=2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	prod := []string{"--projectId", p.ID, "--env", "prod"}
	if r := u.run("", append([]string{"secrets", "import", bad}, prod...)...); r.Code == 0 || !strings.Contains(r.Stderr, "line 2") {
		t.Errorf("import of a bad file: %+v", r)
	}
	if out := u.must("", append([]string{"export", "--format", "json"}, prod...)...); out != "[]" {
		t.Errorf("a refused import wrote something: %s", out)
	}
}

// TestEveryCommandHasHelpWithExamples and shell completions.
func TestEveryCommandHasHelpWithExamples(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if c.Runnable() && c.Short == "" {
			t.Errorf("%s has no short help", c.CommandPath())
		}
		// Every command a user types has an example; cobra's generated help and completion
		// commands speak for themselves.
		if c.Runnable() && !c.HasSubCommands() && c.Example == "" && !strings.Contains(c.CommandPath(), "completion") && !strings.HasPrefix(c.CommandPath(), "coffer help") {
			t.Errorf("%s has no example", c.CommandPath())
		}
	}
	walk(newRoot(OSEnv()))

	n := servertest.Start(t, store.SQLite)
	u := newUser(t, n)
	for _, sh := range []string{"bash", "zsh", "fish"} {
		if out := u.must("", "completion", sh); !strings.Contains(out, "coffer") {
			t.Errorf("completion %s printed no script", sh)
		}
	}
}
