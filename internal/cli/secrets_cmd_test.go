package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/internal/servertest"
	"github.com/cofferhq/coffer/internal/store"
)

// TestSecretsCommands drives `coffer secrets` and `coffer folders` as a CI script written for
// the Infisical CLI would, through the real binary against a real server.
func TestSecretsCommands(t *testing.T) {
	n := servertest.Start(t, store.SQLite)
	admin := n.Bootstrap(t)
	p := n.NewProject(t, admin, "cli", "member")
	u := newUser(t, n)
	u.Env["INFISICAL_TOKEN"] = p.Token // Infisical's variable, honoured when COFFER_TOKEN is absent
	scope := []string{"--projectId", p.ID, "--env", "dev"}

	out := u.must("", append([]string{"secrets", "set", "A=1", "B=two words", "C=x=y#z"}, scope...)...)
	for _, want := range []string{"SECRET NAME", "SECRET CREATED", "two words"} {
		if !strings.Contains(out, want) {
			t.Errorf("secrets set output lacks %q:\n%s", want, out)
		}
	}
	out = u.must("", append([]string{"secrets", "set", "A=1", "B=2"}, scope...)...)
	if !strings.Contains(out, "SECRET VALUE UNCHANGED") || !strings.Contains(out, "SECRET VALUE MODIFIED") {
		t.Errorf("second set does not report unchanged/modified:\n%s", out)
	}

	// Values from a file (exact bytes) and from standard input.
	cert := "-----BEGIN CERT-----\nline 'one'\n\"two\"\n-----END CERT-----\n"
	if err := os.WriteFile(filepath.Join(u.Dir, "cert.pem"), []byte(cert), 0o600); err != nil {
		t.Fatal(err)
	}
	u.must("", append([]string{"secrets", "set", "CERT=@cert.pem", "--silent"}, scope...)...)
	u.must("from stdin\n", append([]string{"secrets", "set", "PIPED=-", "--silent"}, scope...)...)
	if got := u.must("", append([]string{"secrets", "get", "CERT", "--plain"}, scope...)...); got != cert+"\n" {
		t.Errorf("CERT came back as %q", got)
	}
	if got := u.must("", append([]string{"secrets", "get", "C", "A", "PIPED", "--plain"}, scope...)...); got != "x=y#z\n1\nfrom stdin\n\n" {
		t.Errorf("get --plain of three: %q", got)
	}
	if r := u.run("", append([]string{"secrets", "get", "NOPE", "--plain"}, scope...)...); r.Code == 0 || !strings.Contains(r.Stderr, "NOPE") {
		t.Errorf("get of a missing secret: %+v", r)
	}
	if out := u.must("", append([]string{"secrets"}, scope...)...); !strings.Contains(out, "SECRET NAME") || !strings.Contains(out, "PIPED") {
		t.Errorf("secrets table:\n%s", out)
	}

	// History and rollback.
	hist := u.must("", append([]string{"secrets", "history", "B", "--output", "json"}, scope...)...)
	if !strings.Contains(hist, `"version": 2`) || !strings.Contains(hist, `"secretValue": "two words"`) {
		t.Errorf("history:\n%s", hist)
	}
	u.must("", append([]string{"secrets", "rollback", "B", "--version", "1", "--silent"}, scope...)...)
	if got := u.must("", append([]string{"secrets", "get", "B", "--plain"}, scope...)...); got != "two words\n" {
		t.Errorf("after rollback B = %q", got)
	}

	// Delete: all or nothing.
	if r := u.run("", append([]string{"secrets", "delete", "A", "NOPE"}, scope...)...); r.Code == 0 || !strings.Contains(r.Stderr, "status-code=404") {
		t.Errorf("delete with a missing name: %+v", r)
	}
	if got := u.must("", append([]string{"secrets", "get", "A", "--plain"}, scope...)...); got != "1\n" {
		t.Errorf("a refused delete removed A: %q", got)
	}
	u.must("", append([]string{"secrets", "delete", "A", "C"}, scope...)...)
	if r := u.run("", append([]string{"secrets", "get", "A", "--plain"}, scope...)...); r.Code == 0 {
		t.Errorf("A still there after delete")
	}

	// Folders, in coffer's and in Infisical's spelling.
	u.must("", append([]string{"folders", "create", "--name", "payments"}, scope...)...)
	u.must("", append([]string{"secrets", "folders", "create", "--name", "ledger", "--path", "/payments"}, scope...)...)
	if out := u.must("", append([]string{"secrets", "folders", "get"}, scope...)...); !strings.Contains(out, "payments") {
		t.Errorf("folders get:\n%s", out)
	}
	if out := u.must("", append([]string{"folders", "list", "--path", "/payments", "--output", "json"}, scope...)...); !strings.Contains(out, `"ledger"`) {
		t.Errorf("folders list of /payments:\n%s", out)
	}
	u.must("", append([]string{"folders", "delete", "--name", "payments"}, scope...)...)
	if out := u.must("", append([]string{"folders", "list", "--output", "json"}, scope...)...); strings.Contains(out, "payments") {
		t.Errorf("payments still listed after delete:\n%s", out)
	}

	// API errors: server message and request id on stderr, non-zero exit.
	r := u.run("", "secrets", "--projectId", "not-a-project", "--env", "dev")
	if r.Code == 0 || !strings.Contains(r.Stderr, "status-code=404") || !strings.Contains(r.Stderr, "reqId=req-") {
		t.Errorf("unknown project: %+v", r)
	}
}
