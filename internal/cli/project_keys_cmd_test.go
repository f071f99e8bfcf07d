package cli

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/servertest"
	"github.com/cofferhq/coffer/internal/store"
)

// keysJSON is what "projects keys --output json" and "projects rotate-key --output json" print.
type keysJSON struct {
	ProjectID   string `json:"projectId"`
	CurrentTerm uint32 `json:"currentTerm"`
	Resealing   bool   `json:"resealing"`
	PendingRows int    `json:"pendingRows"`
	Keys        []struct {
		Term      uint32     `json:"term"`
		CreatedAt time.Time  `json:"createdAt"`
		RetiredAt *time.Time `json:"retiredAt"`
		Status    string     `json:"status"`
	} `json:"keys"`
}

func parseKeys(t *testing.T, out string) keysJSON {
	t.Helper()
	var st keysJSON
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("keys --output json does not parse: %v\n%s", err, out)
	}
	return st
}

// TestProjectsRotateKey rotates a project's data key through the CLI as a cron job would: the
// old key ends retired, the secrets (and their history) still read back, and only project
// admins may rotate.
func TestProjectsRotateKey(t *testing.T) {
	n := servertest.Start(t, store.SQLite)
	admin := n.Bootstrap(t)
	p := n.NewProject(t, admin, "rotate", "member")
	dev := newUser(t, n)
	dev.Env["COFFER_TOKEN"] = p.Token
	scope := []string{"--projectId", p.ID, "--env", "dev"}
	dev.must("", append([]string{"secrets", "set", "A=one", "B=two words", "--silent"}, scope...)...)
	dev.must("", append([]string{"secrets", "set", "A=uno", "--silent"}, scope...)...)

	ops := newUser(t, n)
	ops.Env["COFFER_TOKEN"] = admin.Token
	ops.Env["COFFER_PROJECT_ID"] = p.ID // the project without --projectId, as in a cron job's environment
	header := []string{"TERM", "STATUS", "CREATED", "RETIRED"}

	st := parseKeys(t, ops.must("", "projects", "keys", "--output", "json"))
	if st.ProjectID != p.ID || st.CurrentTerm != 1 || st.Resealing || len(st.Keys) != 1 ||
		st.Keys[0].Term != 1 || st.Keys[0].Status != "current" || st.Keys[0].CreatedAt.IsZero() || st.Keys[0].RetiredAt != nil {
		t.Fatalf("keys before rotation: %+v", st)
	}
	wantTable(t, ops.must("", "projects", "keys"), header, []string{"1", "current", "*", "-"})

	// A member of the project may not rotate its key.
	r := dev.run("", "projects", "rotate-key", "--projectId", p.ID)
	if r.Code == 0 || !strings.Contains(r.Stderr, "status-code=403") || r.Stdout != "" {
		t.Fatalf("rotate-key as a member: exit %d\nstdout: %s\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
	if st := parseKeys(t, ops.must("", "projects", "keys", "--output", "json")); st.CurrentTerm != 1 {
		t.Fatalf("a refused rotation changed the key: %+v", st)
	}

	r = ops.run("", "projects", "rotate-key", "--wait", "--output", "json")
	if r.Code != 0 {
		t.Fatalf("rotate-key --wait: exit %d\nstdout: %s\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
	st = parseKeys(t, r.Stdout)
	if st.CurrentTerm != 2 || st.Resealing || st.PendingRows != 0 || len(st.Keys) != 2 ||
		st.Keys[0].Term != 1 || st.Keys[0].Status != "retired" || st.Keys[0].RetiredAt == nil ||
		st.Keys[1].Term != 2 || st.Keys[1].Status != "current" {
		t.Fatalf("after rotate-key --wait: %+v", st)
	}
	for _, want := range []string{"now encrypts with key 2", "Re-encrypting project " + p.ID, "destroyed"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("rotate-key --wait progress lacks %q:\n%s", want, r.Stderr)
		}
	}
	wantTable(t, ops.must("", "projects", "keys"), header, []string{"1", "retired", "*", "*"})

	// The secrets read back, the version sealed before the rotation too.
	if got := dev.must("", append([]string{"secrets", "get", "A", "B", "--plain"}, scope...)...); got != "uno\ntwo words\n" {
		t.Errorf("secrets after rotation: %q", got)
	}
	if hist := dev.must("", append([]string{"secrets", "history", "A", "--output", "json"}, scope...)...); !strings.Contains(hist, `"secretValue": "one"`) {
		t.Errorf("history after rotation lacks version 1:\n%s", hist)
	}

	// --timeout bounds the wait: the rotation stands, the command fails saying how to follow it.
	r = ops.run("", "projects", "rotate-key", "--wait", "--timeout", "1ns")
	if r.Code == 0 || !strings.Contains(r.Stderr, "--timeout 1ns ran out") || !strings.Contains(r.Stderr, "coffer projects keys") || r.Stdout != "" {
		t.Fatalf("rotate-key --timeout 1ns: exit %d\nstdout: %s\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
	if st := parseKeys(t, ops.must("", "projects", "keys", "--output", "json")); st.CurrentTerm != 3 {
		t.Fatalf("after the timed-out wait: %+v", st)
	}
	if r := ops.run("", "projects", "rotate-key", "--timeout", "1m"); r.Code == 0 || !strings.Contains(r.Stderr, "--wait") {
		t.Errorf("--timeout without --wait: exit %d, stderr %q", r.Code, r.Stderr)
	}
	for _, args := range [][]string{{"projects", "keys"}, {"projects", "rotate-key"}} {
		out := ops.must("", append(args, "--help")...)
		if !strings.Contains(out, "Examples:") || !strings.Contains(out, "coffer "+strings.Join(args, " ")) {
			t.Errorf("coffer %s --help has no examples:\n%s", strings.Join(args, " "), out)
		}
	}
}
