package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/internal/servertest"
	"github.com/cofferhq/coffer/internal/store"
)

// joinOrg invites email as an organization member from admin's members page, accepts the
// invitation in a new browser and returns that browser, signed in.
func joinOrg(t *testing.T, n *servertest.Node, admin *browser, email, name string) *browser {
	t.Helper()
	admin.get("/members")
	p := admin.post("/members/invitations", url.Values{"email": {email}, "role": {"member"}}, true)
	m := regexp.MustCompile(`/invitations/accept\?token=([^<&"]+)`).FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("invite %s: %d, no link", email, p.Status)
	}
	b := newBrowser(t, n.URL)
	b.get("/invitations/accept?token=" + m[1])
	wantRedirect(t, b.post("/invitations/accept", url.Values{"token": {m[1]}, "name": {name}, "password": {adminPassword}}, true),
		http.StatusSeeOther, "/")
	b.get("/")
	return b
}

// userRow returns the row of the project members page that lists email, "" when none does.
func userRow(body, email string) string {
	return regexp.MustCompile(`(?s)<tr>\s*<td>[^\n]*?</td><td>` + regexp.QuoteMeta(email) + `</td>.*?</tr>`).FindString(body)
}

// selectedRole returns the role selected in a row's role form.
func selectedRole(row string) string {
	m := regexp.MustCompile(`<option selected>([^<]+)</option>`).FindStringSubmatch(row)
	if m == nil {
		return ""
	}
	return m[1]
}

// TestProjectMembers walks a project's members page: an organization admin adds a member of
// the organization as viewer, changes the role, and removes them; a project viewer's add, role
// change and removal are refused (403) and change nothing, as is a post without its CSRF token;
// refusals the user can fix show next to the form; the project's identities are listed.
func TestProjectMembers(t *testing.T) {
	n := servertest.Start(t, store.SQLite)
	admin := setUp(t, n)
	wantRedirect(t, admin.post("/projects", url.Values{"name": {"Shop"}, "slug": {"shop"}}, true), http.StatusSeeOther, "/projects/shop")
	dev := joinOrg(t, n, admin, "dev@example.com", "Dev")
	ops := joinOrg(t, n, admin, "ops@example.com", "Ops")

	// The grid links to the page; it offers the organization's members not in the project.
	if p := admin.get("/projects/shop"); !strings.Contains(p.Body, `href="/projects/shop/members"`) {
		t.Fatal("the grid does not link to the project's members")
	}
	p := admin.get("/projects/shop/members")
	if p.Status != http.StatusOK || !strings.Contains(p.Body, `<option value="dev@example.com">Dev (dev@example.com)</option>`) {
		t.Fatalf("members page: %d\n%s", p.Status, p.Body)
	}
	// The project's creator is either listed or offered, never both.
	if listed, offered := userRow(p.Body, "admin@example.com") != "", strings.Contains(p.Body, `<option value="admin@example.com"`); listed == offered {
		t.Errorf("the creator listed %v, offered %v", listed, offered)
	}

	// Add as viewer: listed with that role, no longer offered, and the project is dev's.
	wantRedirect(t, admin.post("/projects/shop/members", url.Values{"email": {"dev@example.com"}, "role": {"viewer"}}, true),
		http.StatusSeeOther, "/projects/shop/members")
	p = admin.get("/projects/shop/members")
	row := userRow(p.Body, "dev@example.com")
	if got := selectedRole(row); got != "viewer" {
		t.Fatalf("dev's role %q, want viewer: %s", got, row)
	}
	if strings.Contains(p.Body, `<option value="dev@example.com"`) {
		t.Error("a project member is still offered to be added")
	}
	if p := dev.get("/projects/shop"); p.Status != http.StatusOK {
		t.Fatalf("dev's grid as viewer: %d", p.Status)
	}
	membership := regexp.MustCompile(`action="/projects/shop/members/([^"/]+)/role"`).FindStringSubmatch(row)
	if membership == nil {
		t.Fatalf("no role form in %s", row)
	}
	roleURL, removeURL := "/projects/shop/members/"+membership[1]+"/role", "/projects/shop/members/"+membership[1]+"/remove"

	// A viewer may read the page but not change it: every post is refused with the error page.
	if p := dev.get("/projects/shop/members"); p.Status != http.StatusOK || !strings.Contains(p.Body, "<td>dev@example.com</td>") {
		t.Fatalf("viewer's members page: %d", p.Status)
	}
	for _, c := range []struct {
		path string
		form url.Values
	}{
		{"/projects/shop/members", url.Values{"email": {"ops@example.com"}, "role": {"admin"}}},
		{roleURL, url.Values{"role": {"admin"}}},
		{removeURL, nil},
	} {
		dev.get("/projects/shop/members")
		p := dev.post(c.path, c.form, true)
		if p.Status != http.StatusForbidden || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(p.Body, `role="alert"`) {
			t.Errorf("viewer POST %s: %d %s, want a 403 page", c.path, p.Status, p.Header.Get("Content-Type"))
		}
	}
	// Without the CSRF token, the admin is refused too.
	for _, c := range []struct {
		path string
		form url.Values
	}{
		{"/projects/shop/members", url.Values{"email": {"ops@example.com"}, "role": {"admin"}}},
		{roleURL, url.Values{"role": {"admin"}}},
		{removeURL, nil},
	} {
		if p := admin.post(c.path, c.form, false); p.Status != http.StatusForbidden {
			t.Errorf("POST %s without CSRF token: %d, want 403", c.path, p.Status)
		}
	}
	p = admin.get("/projects/shop/members")
	if got := selectedRole(userRow(p.Body, "dev@example.com")); got != "viewer" {
		t.Fatalf("after refused posts dev's role is %q, want viewer", got)
	}
	if userRow(p.Body, "ops@example.com") != "" {
		t.Fatal("a refused post added ops to the project")
	}

	// Mistakes show next to the form, with the form's choices kept.
	p = admin.post("/projects/shop/members", url.Values{"email": {"ops@example.com"}, "role": {"no-such-role"}}, true)
	if p.Status != http.StatusUnprocessableEntity || !regexp.MustCompile(`role="alert">role: must be one of`).MatchString(p.Body) ||
		!strings.Contains(p.Body, `<option value="ops@example.com" selected>`) {
		t.Fatalf("unknown role: %d\n%s", p.Status, p.Body)
	}
	p = admin.post("/projects/shop/members", url.Values{"email": {"nobody@example.com"}, "role": {"viewer"}}, true)
	if p.Status != http.StatusNotFound || !strings.Contains(p.Body, "nobody@example.com") {
		t.Fatalf("not a member of the organization: %d", p.Status)
	}

	// Change to member (Infisical's developer): secrets become writable for dev.
	admin.get("/projects/shop/members")
	wantRedirect(t, admin.post(roleURL, url.Values{"role": {"member"}}, true), http.StatusSeeOther, "/projects/shop/members")
	if got := selectedRole(userRow(admin.get("/projects/shop/members").Body, "dev@example.com")); got != "member" {
		t.Fatalf("dev's role %q, want member", got)
	}
	dev.get("/projects/shop")
	wantRedirect(t, dev.post("/projects/shop/secrets/add", url.Values{"path": {"/"}, "key": {"BY_DEV"}, "value_dev": {"x"}}, true),
		http.StatusSeeOther, "/projects/shop")

	// A custom role of the project is offered and can be given.
	admin.get("/projects/shop/settings")
	wantRedirect(t, admin.post("/projects/shop/roles", url.Values{"role_slug": {"dev-reader"}, "role_name": {"Dev reader"},
		"permissions": {`[{"subject":"secrets","action":["read"],"conditions":{"environment":{"$eq":"dev"}}}]`}}, true),
		http.StatusSeeOther, "/projects/shop/settings")
	admin.get("/projects/shop/members")
	wantRedirect(t, admin.post(roleURL, url.Values{"role": {"dev-reader"}}, true), http.StatusSeeOther, "/projects/shop/members")
	if got := selectedRole(userRow(admin.get("/projects/shop/members").Body, "dev@example.com")); got != "dev-reader" {
		t.Fatalf("dev's role %q, want dev-reader", got)
	}

	// Remove: the row goes, dev is offered again and no longer reaches the project.
	wantRedirect(t, admin.post(removeURL, nil, true), http.StatusSeeOther, "/projects/shop/members")
	p = admin.get("/projects/shop/members")
	if userRow(p.Body, "dev@example.com") != "" || !strings.Contains(p.Body, `<option value="dev@example.com">`) {
		t.Fatalf("dev was not removed:\n%s", p.Body)
	}
	if p := dev.get("/projects/shop/members"); p.Status != http.StatusForbidden && p.Status != http.StatusNotFound {
		t.Errorf("removed member's members page: %d", p.Status)
	}
	// Removing again names the problem.
	if p := admin.post(removeURL, nil, true); p.Status != http.StatusNotFound || !strings.Contains(p.Body, `role="alert"`) {
		t.Errorf("second removal: %d", p.Status)
	}

	// The project's machine identities are listed with their roles, linking to their pages.
	p = admin.get("/identities")
	projectID := regexp.MustCompile(`<option value="([^"]+)">Shop</option>`).FindStringSubmatch(p.Body)[1]
	p = admin.post("/identities", url.Values{"name": {"ci"}, "project": {projectID}, "role": {"viewer"}}, true)
	id := regexp.MustCompile(`<a href="/identities/([^"]+)">ci</a>`).FindStringSubmatch(p.Body)[1]
	p = admin.get("/projects/shop/members")
	if !strings.Contains(p.Body, `<tr><td><a href="/identities/`+id+`">ci</a></td><td>viewer</td></tr>`) {
		t.Fatalf("the identity is not listed:\n%s", p.Body)
	}

	// A project admin whose organization role is no-access may not list the organization's
	// members: the page asks for an e-mail address instead of offering them.
	wantRedirect(t, admin.post("/projects/shop/members", url.Values{"email": {"ops@example.com"}, "role": {"admin"}}, true),
		http.StatusSeeOther, "/projects/shop/members")
	opsID := regexp.MustCompile(`(?s)<td>ops@example.com</td>.*?action="/members/([^"/]+)/role"`).FindStringSubmatch(admin.get("/members").Body)
	if opsID == nil {
		t.Fatal("no role form for ops on the members page")
	}
	wantRedirect(t, admin.post("/members/"+opsID[1]+"/role", url.Values{"role": {"no-access"}}, true), http.StatusSeeOther, "/members")
	p = ops.get("/projects/shop/members")
	if p.Status != http.StatusOK || !strings.Contains(p.Body, `<input id="pmemail" name="email" type="email" required value="">`) ||
		strings.Contains(p.Body, `<option value="dev@example.com">`) {
		t.Fatalf("the page of a project admin without an organization role: %d\n%s", p.Status, p.Body)
	}
}
