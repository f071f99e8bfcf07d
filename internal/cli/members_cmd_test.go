package cli

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/internal/servertest"
	"github.com/cofferhq/coffer/internal/store"
)

// orgUser invites a user into the admin's organization (role member), has them accept, and
// returns their e-mail address and an access token of theirs.
func orgUser(t *testing.T, n *servertest.Node, admin *servertest.Admin, email string) string {
	t.Helper()
	res := n.MustDo(t, http.MethodPost, "/api/v1/organizations/"+admin.OrgID+"/invitations", admin.Token,
		map[string]any{"email": email, "role": "member"}).Map(t)
	link, _ := res["inviteLink"].(string)
	u, err := url.Parse(link)
	if err != nil || u.Query().Get("token") == "" {
		t.Fatalf("invitation without a link: %v", res)
	}
	const password = "a long enough password 1"
	n.MustDo(t, http.MethodPost, "/api/v1/invitations/accept", "", map[string]any{"token": u.Query().Get("token"), "name": "Dana Dev", "password": password})
	var login struct {
		AccessToken string `json:"accessToken"`
	}
	n.MustDo(t, http.MethodPost, "/api/v1/auth/login", "", map[string]any{"email": email, "password": password}).JSON(t, &login)
	if login.AccessToken == "" {
		t.Fatalf("login of %s: no token", email)
	}
	return login.AccessToken
}

type memberJSON struct {
	Type, ID, Email, Name, Role, MembershipID string
}

// members returns the project's members by e-mail (users) or id (identities) → role, from
// "members list --output json".
func members(t *testing.T, u *user, projectID string) map[string]string {
	t.Helper()
	var ms []memberJSON
	if err := json.Unmarshal([]byte(u.must("", "members", "list", "--projectId", projectID, "--output", "json")), &ms); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range ms {
		if m.MembershipID == "" || m.ID == "" || m.Type == "user" && (m.Email == "" || m.Name == "") {
			t.Errorf("members list --output json: incomplete member %+v", m)
		}
		key := m.ID
		if m.Type == "user" {
			key = m.Email
		}
		out[m.Type+" "+key] = m.Role
	}
	return out
}

// TestMembersUsers gives a user of the organization project roles through the CLI, built-in
// and custom, and checks that access follows, that the list shows users and identities, and
// that removal takes access away.
func TestMembersUsers(t *testing.T) {
	n := servertest.Start(t, store.SQLite)
	admin := n.Bootstrap(t)
	p := n.NewProject(t, admin, "team", "viewer")
	n.MustDo(t, http.MethodPost, "/api/v4/secrets/DB_URL", admin.Token, map[string]any{"projectId": p.ID, "environment": "dev", "secretValue": "postgres://db"})
	const email = "dana@example.com"
	tok := orgUser(t, n, admin, email)
	read := func() int {
		return n.Do(t, http.MethodGet, "/api/v4/secrets/DB_URL?projectId="+p.ID+"&environment=dev", tok, nil).Status
	}
	write := func() int {
		return n.Do(t, http.MethodPatch, "/api/v4/secrets/DB_URL", tok, map[string]any{"projectId": p.ID, "environment": "dev", "secretValue": "x"}).Status
	}
	if s := read(); s == http.StatusOK {
		t.Fatal("the user reads the project's secrets before being a member")
	}
	ops := newUser(t, n)
	ops.Env["COFFER_TOKEN"] = admin.Token
	scope := []string{"--projectId", p.ID}

	r := ops.run("", append([]string{"members", "add", "--user", email, "--role", "viewer"}, scope...)...)
	if r.Code != 0 || !strings.Contains(r.Stderr, "User "+email+" now has the role viewer") {
		t.Fatalf("members add --user: exit %d\nstdout: %s\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
	if s := read(); s != http.StatusOK {
		t.Errorf("viewer reads: status %d", s)
	}
	if s := write(); s == http.StatusOK {
		t.Error("viewer writes")
	}
	want := map[string]string{"user " + email: "viewer", "identity " + p.IdentityID: "viewer"}
	if got := members(t, ops, p.ID); !maps.Equal(got, want) {
		t.Fatalf("members list: %v, want %v", got, want)
	}
	wantTable(t, ops.must("", append([]string{"members", "list"}, scope...)...), []string{"TYPE", "MEMBER", "NAME", "ROLE"},
		[]string{"user", email, "Dana Dev", "viewer"})

	// Adding a member again changes the role, as for identities.
	ops.must("", append([]string{"members", "add", "--user", email, "--role", "member", "--silent"}, scope...)...)
	if s := write(); s != http.StatusOK {
		t.Errorf("member writes: status %d", s)
	}
	// A custom role of the project, by slug; an unknown role is refused by the server, naming it.
	n.MustDo(t, http.MethodPost, "/api/v1/projects/"+p.ID+"/roles", admin.Token, map[string]any{"slug": "dev-reader", "name": "Dev reader",
		"permissions": []map[string]any{{"subject": "secrets", "action": []string{"read"}, "conditions": map[string]any{"environment": "dev"}}}})
	ops.must("", append([]string{"members", "add", "--user", email, "--role", "dev-reader"}, scope...)...)
	want["user "+email] = "dev-reader"
	if got := members(t, ops, p.ID); !maps.Equal(got, want) {
		t.Fatalf("members list after the custom role: %v, want %v", got, want)
	}
	if r := ops.run("", append([]string{"members", "add", "--user", email, "--role", "owner"}, scope...)...); r.Code == 0 ||
		!strings.Contains(r.Stderr, "status-code=422") || !strings.Contains(r.Stderr, "slug of a custom role") {
		t.Errorf("unknown role: exit %d, stderr %q", r.Code, r.Stderr)
	}
	if got := members(t, ops, p.ID); !maps.Equal(got, want) {
		t.Fatalf("a refused add changed the members: %v, want %v", got, want)
	}

	r = ops.run("", append([]string{"members", "remove", "--user", email}, scope...)...)
	if r.Code != 0 || !strings.Contains(r.Stderr, "no longer a member") {
		t.Fatalf("members remove --user: exit %d\nstderr: %s", r.Code, r.Stderr)
	}
	if s := read(); s == http.StatusOK {
		t.Error("the removed user still reads")
	}
	ops.must("", append([]string{"members", "remove", "--identity", p.IdentityID, "--silent"}, scope...)...)
	if got := members(t, ops, p.ID); len(got) != 0 {
		t.Fatalf("members after removing both: %v", got)
	}
	if r := ops.run("", append([]string{"members", "remove", "--user", email}, scope...)...); r.Code == 0 || !strings.Contains(r.Stderr, "status-code=404") {
		t.Errorf("removing a non-member: exit %d, stderr %q", r.Code, r.Stderr)
	}
}

// TestMembersFlags checks that a command names exactly one member: --user or --identity.
func TestMembersFlags(t *testing.T) {
	n := servertest.Start(t, store.SQLite)
	admin := n.Bootstrap(t)
	p := n.NewProject(t, admin, "flags", "viewer")
	ops := newUser(t, n)
	ops.Env["COFFER_TOKEN"] = admin.Token
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"add both", []string{"members", "add", "--user", "a@example.com", "--identity", p.IdentityID, "--role", "admin"}, []string{"--user", "--identity", "together"}},
		{"remove both", []string{"members", "remove", "--user", "a@example.com", "--identity", p.IdentityID}, []string{"--user", "--identity", "together"}},
		{"add neither", []string{"members", "add", "--role", "admin"}, []string{"--user EMAIL", "--identity ID"}},
		{"remove neither", []string{"members", "remove"}, []string{"--user EMAIL", "--identity ID"}},
		{"empty user", []string{"members", "add", "--user", " ", "--role", "admin"}, []string{"--user", "empty"}},
		{"no role", []string{"members", "add", "--user", "a@example.com"}, []string{`"role"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ops.run("", append(tc.args, "--projectId", p.ID)...)
			if r.Code == 0 || r.Stdout != "" {
				t.Fatalf("exit %d\nstdout: %s", r.Code, r.Stdout)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.Stderr, w) {
					t.Errorf("stderr does not contain %q:\n%s", w, r.Stderr)
				}
			}
		})
	}
	// Nothing changed: the identity is still a viewer.
	if got := members(t, ops, p.ID); len(got) != 1 || got["identity "+p.IdentityID] != "viewer" {
		t.Errorf("members after refused commands: %v", got)
	}
	for _, args := range [][]string{{"members", "list"}, {"members", "remove"}} {
		out := ops.must("", append(args, "--help")...)
		if !strings.Contains(out, "Examples:") || !strings.Contains(out, "coffer "+strings.Join(args, " ")) {
			t.Errorf("coffer %s --help has no examples:\n%s", strings.Join(args, " "), out)
		}
	}
}
