package cli

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/internal/servertest"
	"github.com/cofferhq/coffer/internal/store"
)

// TestAdminCommandsScript sets up a project and a machine identity the way a script would,
// with no dashboard, and checks that the identity can then write and read a secret.
func TestAdminCommandsScript(t *testing.T) {
	n := servertest.Start(t, store.SQLite)
	admin := n.Bootstrap(t)
	u := newUser(t, n)
	u.Env["COFFER_TOKEN"] = admin.Token

	projectID := strings.TrimSpace(u.must("", "projects", "create", "web", "--plain"))
	if projectID == "" || strings.ContainsAny(projectID, " \n") {
		t.Fatalf("projects create --plain printed %q, want an id alone", projectID)
	}
	var projects []struct {
		ID, Name, Slug string
		Environments   []struct{ Slug string }
	}
	if err := json.Unmarshal([]byte(u.must("", "projects", "list", "--output", "json")), &projects); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range projects {
		found = found || p.ID == projectID && p.Name == "web" && len(p.Environments) > 0
	}
	if !found {
		t.Fatalf("projects list --output json has no project %s with environments: %+v", projectID, projects)
	}

	fields := strings.Fields(u.must("", "identities", "create", "ci", "--plain"))
	if len(fields) != 2 {
		t.Fatalf("identities create --plain printed %q, want the id and the client id", fields)
	}
	identityID, clientID := fields[0], fields[1]
	r := u.run("", "identities", "client-secret", "create", identityID, "--plain")
	if r.Code != 0 {
		t.Fatalf("client-secret create: exit %d: %s", r.Code, r.Stderr)
	}
	secret := strings.TrimSpace(r.Stdout)
	if secret == "" || strings.Contains(secret, "\n") {
		t.Fatalf("client-secret create --plain printed %q, want the secret alone", r.Stdout)
	}
	if !strings.Contains(r.Stderr, "only time") || strings.Contains(r.Stderr, secret) {
		t.Errorf("stderr should remind to store the secret, without showing it: %q", r.Stderr)
	}

	ci := newUser(t, n)
	token := strings.TrimSpace(ci.must("", "login", "--method", "universal-auth", "--client-id", clientID, "--client-secret", secret, "--plain", "--silent"))
	write := func() *servertest.Response {
		return n.Do(t, http.MethodPost, "/api/v4/secrets/DATABASE_URL", token,
			map[string]any{"projectId": projectID, "environment": "dev", "secretPath": "/", "secretValue": "postgres://db"})
	}
	if r := write(); r.Status == http.StatusOK {
		t.Fatal("the identity wrote a secret before it was a member of the project")
	}

	u.must("", "members", "add", "--projectId", projectID, "--identity", identityID, "--role", "member")
	if r := write(); r.Status != http.StatusOK {
		t.Fatalf("write as member: %d %s", r.Status, r.Body)
	}
	var got struct {
		Secret struct{ SecretValue string } `json:"secret"`
	}
	n.MustDo(t, http.MethodGet, "/api/v4/secrets/DATABASE_URL?projectId="+projectID+"&environment=dev", token, nil).JSON(t, &got)
	if got.Secret.SecretValue != "postgres://db" {
		t.Errorf("read back %q", got.Secret.SecretValue)
	}

	// The identity now sees the project through the CLI too.
	ci.Env["COFFER_TOKEN"] = token
	if out := ci.must("", "projects", "list"); !strings.Contains(out, projectID) {
		t.Errorf("the member identity does not see the project:\n%s", out)
	}
	if strings.Contains(n.Logs(), secret) {
		t.Error("the node logged the client secret")
	}
}

// TestAdminCommandsOutput checks the table and JSON forms, and that client-secret create
// attaches universal auth to an identity without it.
func TestAdminCommandsOutput(t *testing.T) {
	n := servertest.Start(t, store.SQLite)
	admin := n.Bootstrap(t)
	u := newUser(t, n)
	u.Env["COFFER_TOKEN"] = admin.Token

	projectHeader := []string{"ID", "NAME", "SLUG", "ENVIRONMENTS"}
	wantTable(t, u.must("", "projects", "create", "Billing API", "--slug", "billing"), projectHeader, []string{"*", "Billing API", "billing", "dev,staging,prod"})
	wantTable(t, u.must("", "projects", "list"), projectHeader, []string{"*", "Billing API", "billing", "dev,staging,prod"})
	wantTable(t, u.must("", "identities", "create", "deployer", "--org-role", "member"),
		[]string{"ID", "NAME", "ORG ROLE", "CLIENT ID"}, []string{"*", "deployer", "member", "*"})

	var ident struct{ ID, Name, OrgID, Role, ClientID string }
	if err := json.Unmarshal([]byte(u.must("", "identities", "create", "bare", "--universal-auth=false", "--output", "json")), &ident); err != nil {
		t.Fatal(err)
	}
	if ident.ID == "" || ident.OrgID != admin.OrgID || ident.Role != "no-access" || ident.ClientID != "" {
		t.Fatalf("identities create --universal-auth=false --output json: %+v", ident)
	}
	r := u.run("", "identities", "client-secret", "create", ident.ID, "--description", "deploys", "--ttl", "3600", "--num-uses", "5", "--output", "json")
	if r.Code != 0 {
		t.Fatalf("client-secret create: exit %d: %s", r.Code, r.Stderr)
	}
	if !strings.Contains(r.Stderr, "Attached universal auth") {
		t.Errorf("client-secret create did not say it attached universal auth: %q", r.Stderr)
	}
	var cs map[string]string
	if err := json.Unmarshal([]byte(r.Stdout), &cs); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"clientId", "clientSecret", "id", "prefix"} {
		if cs[k] == "" {
			t.Errorf("client-secret create --output json has no %s: %s", k, r.Stdout)
		}
	}
	if len(cs) != 4 {
		t.Errorf("client-secret create --output json: %s", r.Stdout)
	}
	// The secret works; a second one reuses the attached client id.
	ci := newUser(t, n)
	ci.must("", "login", "--method", "universal-auth", "--client-id", cs["clientId"], "--client-secret", cs["clientSecret"], "--plain", "--silent")
	wantTable(t, u.must("", "identities", "client-secret", "create", ident.ID, "--silent"),
		[]string{"CLIENT ID", "CLIENT SECRET", "SECRET ID", "PREFIX"}, []string{cs["clientId"], "*", "*", "*"})

	for _, args := range [][]string{
		{"projects"}, {"projects", "list"}, {"projects", "create"},
		{"identities"}, {"identities", "create"}, {"identities", "client-secret", "create"},
		{"members"}, {"members", "add"},
	} {
		out := u.must("", append(args, "--help")...)
		if !strings.Contains(out, "Examples:") || !strings.Contains(out, "coffer "+strings.Join(args, " ")) {
			t.Errorf("coffer %s --help has no examples:\n%s", strings.Join(args, " "), out)
		}
	}
	if out := u.must("", "members", "add", "--help"); !strings.Contains(out, "--user") || !strings.Contains(out, "custom roles") {
		t.Errorf("members add --help does not explain --user and custom roles:\n%s", out)
	}
}

// wantTable checks that out is a table with the header and a first row matching want,
// where "*" matches any non-empty cell. It reads both plain (space-aligned) and boxed tables.
func wantTable(t *testing.T, out string, header, want []string) {
	t.Helper()
	var rows [][]string
	for _, line := range strings.Split(out, "\n") {
		var cells []string
		if strings.Contains(line, "│") {
			cells = strings.Split(strings.Trim(strings.TrimSpace(line), "│"), "│")
		} else {
			cells = regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(line), -1)
		}
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if len(cells) > 1 || len(cells) == 1 && regexp.MustCompile(`[\pL\pN]`).MatchString(cells[0]) {
			rows = append(rows, cells)
		}
	}
	ok := len(rows) >= 2 && slices.Equal(rows[0], header) && len(rows[1]) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = rows[1][i] != "" && (want[i] == "*" || rows[1][i] == want[i])
	}
	if !ok {
		t.Errorf("want a table %q with the row %q, got:\n%s", header, want, out)
	}
}

// TestAdminCommandsErrors checks that mistakes and refusals exit non-zero with a message that
// says what went wrong.
func TestAdminCommandsErrors(t *testing.T) {
	n := servertest.Start(t, store.SQLite)
	admin := n.Bootstrap(t)
	p := n.NewProject(t, admin, "api", "viewer")
	u := newUser(t, n)
	u.Env["COFFER_TOKEN"] = admin.Token
	viewer := newUser(t, n)
	viewer.Env["COFFER_TOKEN"] = p.Token

	for _, tc := range []struct {
		name string
		u    *user
		args []string
		want []string
	}{
		{"bad project role", u, []string{"members", "add", "--projectId", p.ID, "--identity", p.IdentityID, "--role", "owner"},
			[]string{"status-code=422", "role: must be one of admin, member, viewer, no-access or the slug of a custom role"}},
		{"bad org role", u, []string{"identities", "create", "x", "--org-role", "viewer"}, []string{`--org-role`, `"viewer"`}},
		{"not a project admin", viewer, []string{"members", "add", "--projectId", p.ID, "--identity", p.IdentityID, "--role", "admin"},
			[]string{"status-code=403", "reqId="}},
		{"not an org admin", viewer, []string{"identities", "create", "sneaky"}, []string{"status-code=403", "reqId="}},
		{"no such identity", u, []string{"identities", "client-secret", "create", "00000000-0000-0000-0000-000000000000"},
			[]string{"status-code=404", "reqId="}},
		{"no project name", u, []string{"projects", "create"}, []string{"missing NAME", "usage: coffer projects create NAME"}},
		{"no identity name", u, []string{"identities", "create"}, []string{"missing NAME", "usage: coffer identities create NAME"}},
		{"no identity id", u, []string{"identities", "client-secret", "create"}, []string{"missing IDENTITY_ID"}},
		{"too many args", u, []string{"projects", "create", "a", "b"}, []string{"too many arguments"}},
		{"no --identity", u, []string{"members", "add", "--projectId", p.ID, "--role", "member"}, []string{"pass --user EMAIL or --identity ID"}},
		{"no project", u, []string{"members", "add", "--identity", p.IdentityID, "--role", "member"}, []string{"no project"}},
		{"plain and json", u, []string{"projects", "create", "y", "--plain", "--output", "json"}, []string{"plain", "output"}},
		{"unknown subcommand", u, []string{"projects", "lst"}, []string{`unknown command "lst"`}},
		{"not logged in", newUser(t, n), []string{"projects", "list"}, []string{"not logged in"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.u.run("", tc.args...)
			if r.Code == 0 {
				t.Fatalf("exit 0\nstdout: %s", r.Stdout)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.Stderr, w) {
					t.Errorf("stderr does not contain %q:\n%s", w, r.Stderr)
				}
			}
			if r.Stdout != "" {
				t.Errorf("stdout: %q", r.Stdout)
			}
		})
	}
	// The refused commands changed nothing: the viewer is still a viewer.
	r := n.Do(t, http.MethodPost, "/api/v4/secrets/X", p.Token, map[string]any{"projectId": p.ID, "environment": "dev", "secretValue": "v"})
	if r.Status == http.StatusOK {
		t.Error("the viewer could write after a refused members add")
	}
}
