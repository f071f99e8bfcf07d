package cli

import (
	"database/sql"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/internal/servertest"
	"github.com/cofferhq/coffer/internal/store"
)

// TestAuditListAndVerify lists the audit log through the API, verifies the chain from the
// database, edits one row with SQL and checks that verify names exactly that event.
func TestAuditListAndVerify(t *testing.T) {
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		n := servertest.Start(t, dialect)
		admin := n.Bootstrap(t)
		p := n.NewProject(t, admin, "web", "member")
		n.MustDo(t, http.MethodPost, "/api/v3/secrets/raw/A", p.Token, map[string]any{"workspaceId": p.ID, "environment": "dev", "secretPath": "/", "secretValue": "x"})
		if err := n.Server.Audit.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		client := map[string]string{"COFFER_API_URL": n.URL, "COFFER_TOKEN": admin.Token, "HOME": t.TempDir()}

		code, out, stderr := run(t, t.Context(), "", client, "audit", "list", "--projectId", p.ID, "--event", "secret.create", "--output", "json")
		if code != 0 {
			t.Fatalf("audit list: %d %s", code, stderr)
		}
		var logs []struct {
			ID         string
			Event      struct{ Type string }
			SecretKeys []string
		}
		if err := json.Unmarshal([]byte(out), &logs); err != nil {
			t.Fatalf("audit list --output json: %v\n%s", err, out)
		}
		if len(logs) != 1 || logs[0].Event.Type != "secret.create" || strings.Join(logs[0].SecretKeys, ",") != "A" {
			t.Fatalf("audit list: %s", out)
		}
		code, out, _ = run(t, t.Context(), "", client, "audit", "list", "--limit", "2")
		if code != 0 || !strings.Contains(out, "ACTION") || strings.Count(out, "\n") < 5 {
			t.Fatalf("audit list as a table: %d\n%s", code, out)
		}
		if code, _, stderr := run(t, t.Context(), "", client, "audit", "list", "--since", "yesterday"); code == 0 || !strings.Contains(stderr, "--since") {
			t.Errorf("a bad --since: %d %s", code, stderr)
		}

		dbURL := n.DSN
		if dialect == store.SQLite {
			dbURL = "sqlite:" + n.DSN
		}
		server := map[string]string{"COFFER_DATABASE_URL": dbURL}
		code, out, stderr = run(t, t.Context(), "", server, "audit", "verify")
		if code != 0 || !strings.Contains(out, "audit chain OK") {
			t.Fatalf("verify of an intact chain: %d %s %s", code, out, stderr)
		}

		rows, err := n.Server.DB.AuditChain(t.Context(), 0, 1000)
		if err != nil || len(rows) < 5 {
			t.Fatalf("%d rows, %v", len(rows), err)
		}
		victim := rows[len(rows)/2]
		driver, dsn := "pgx", n.DSN
		if dialect == store.SQLite {
			driver, dsn = "sqlite", "file:"+n.DSN+"?_pragma=busy_timeout(10000)"
		}
		raw, err := sql.Open(driver, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		if _, err := raw.ExecContext(t.Context(), `UPDATE audit_events SET actor_name = 'someone else' WHERE id = '`+victim.ID+`'`); err != nil {
			t.Fatal(err)
		}
		code, out, _ = run(t, t.Context(), "", server, "audit", "verify", "--output", "json")
		var rep verifyReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("verify --output json: %v\n%s", err, out)
		}
		if code != 1 || rep.OK || rep.BrokenID != victim.ID || rep.Seq != victim.Seq || rep.Found != victim.Hash || rep.Expected == rep.Found {
			t.Fatalf("verify of a tampered chain: exit %d, %+v; want event %s (seq %d)", code, rep, victim.ID, victim.Seq)
		}
		code, out, _ = run(t, t.Context(), "", server, "audit", "verify")
		if code != 1 || !strings.Contains(out, victim.ID) || !strings.Contains(out, "sequence "+strconv.FormatInt(victim.Seq, 10)) {
			t.Fatalf("verify names the event: exit %d\n%s", code, out)
		}
	})
}
