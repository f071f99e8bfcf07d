package server_test

// The dashboard's role matrix: every route of internal/web (web.Routes), run by users signed in
// through the dashboard's own sign-in form (a session cookie and the page's CSRF token), with
// the answer each must get. The expectations come from the API matrix's rules (axRoleRules for
// project pages, the organization roles of axOrgRoutes for organization pages), so the
// dashboard must refuse exactly what the API refuses. A refusal must be an HTML page with the
// CSP and must change nothing: every change is written to the audit log in its own
// transaction, so the count of the actor's audit events (or, signed out, the head of the audit
// chain) before and after each refused form post is an exact proxy. Every form post an actor
// may make is also sent without its CSRF token first, which must be refused and change
// nothing. TestE2EWebRouteMatrixCoversEveryRoute fails when a dashboard route is registered
// but not classified here. Package-level names start with "wx".

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/identity"
	"github.com/cofferhq/coffer/internal/servertest"
	"github.com/cofferhq/coffer/internal/store"
	"github.com/cofferhq/coffer/internal/web"
)

// wxPassword is the password of every user the matrix invites.
const wxPassword = "a long enough password 1"

// The classes of dashboard routes.
const (
	wxProject = "project"      // a project's page or form: the project role rules
	wxOrg     = "organization" // the organization's pages and forms: organization roles
	wxSelf    = "self"         // the user's own account: every signed-in user
)

// wxPage is a dashboard answer.
type wxPage struct {
	Status int
	Header http.Header
	Body   string
}

var (
	wxCSRFRE  = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
	wxAlertRE = regexp.MustCompile(`(?s)role="alert">(.*?)</p>`)
	wxTOTPRE  = regexp.MustCompile(`<code class="key" data-value>([A-Z2-7]+)</code>`)
)

// String describes the answer for a failure message: status, redirect and the page's alert.
func (p *wxPage) String() string {
	s := fmt.Sprintf("status %d", p.Status)
	if loc := p.Header.Get("Location"); loc != "" {
		s += " to " + loc
	}
	if m := wxAlertRE.FindStringSubmatch(p.Body); m != nil {
		s += fmt.Sprintf(" (%q)", strings.TrimSpace(m[1]))
	}
	return s
}

// wxBrowser is a cookie-keeping client that does not follow redirects and keeps the CSRF token
// of the last page that had one.
type wxBrowser struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

func wxNewBrowser(t *testing.T, n *servertest.Node) *wxBrowser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &wxBrowser{t: t, base: n.URL, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *wxBrowser) do(req *http.Request) *wxPage {
	b.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	p := &wxPage{Status: res.StatusCode, Header: res.Header, Body: string(body)}
	if m := wxCSRFRE.FindStringSubmatch(p.Body); m != nil {
		b.csrf = m[1]
	}
	return p
}

// get gets a page; as an htmx partial request when htmx.
func (b *wxBrowser) get(path string, htmx ...bool) *wxPage {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.base+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	if len(htmx) > 0 && htmx[0] {
		req.Header.Set("HX-Request", "true")
	}
	return b.do(req)
}

// post posts a form, with the last page's CSRF token when withCSRF.
func (b *wxBrowser) post(path string, form url.Values, withCSRF bool) *wxPage {
	b.t.Helper()
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	if withCSRF {
		f.Set("csrf_token", b.csrf)
	}
	req, err := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(f.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// wxSignIn signs a user in through the sign-in form and returns the browser, holding the
// session cookie and the session's CSRF token.
func wxSignIn(t *testing.T, n *servertest.Node, email, password string) *wxBrowser {
	t.Helper()
	b := wxNewBrowser(t, n)
	if p := b.get("/login"); p.Status != http.StatusOK || b.csrf == "" {
		t.Fatalf("sign-in page: %s, CSRF token %t", p, b.csrf != "")
	}
	p := b.post("/login", url.Values{"email": {email}, "password": {password}, "next": {"/settings/sessions"}}, true)
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/settings/sessions" {
		t.Fatalf("sign in %s: %s", email, p)
	}
	pre := b.csrf
	if p := b.get("/settings/sessions"); p.Status != http.StatusOK || b.csrf == pre {
		t.Fatalf("account page after sign-in: %s (no session CSRF token)", p)
	}
	return b
}

// wxInvite makes a user of the admin's organization with an organization role, through an
// invitation, and returns its id and e-mail address.
func wxInvite(t *testing.T, n *servertest.Node, admin *servertest.Admin, orgRole string) (string, string) {
	t.Helper()
	email := "wx-" + axRandHex(6) + "@example.com"
	res := n.MustDo(t, http.MethodPost, "/api/v1/organizations/"+admin.OrgID+"/invitations", admin.Token,
		map[string]any{"email": email, "role": orgRole}).Map(t)
	link, _ := res["inviteLink"].(string)
	u, err := url.Parse(link)
	if err != nil || u.Query().Get("token") == "" {
		t.Fatalf("invitation without a link: %v", res)
	}
	n.MustDo(t, http.MethodPost, "/api/v1/invitations/accept", "", map[string]any{"token": u.Query().Get("token"), "name": "Web " + orgRole, "password": wxPassword})
	var out struct {
		Members []struct {
			UserID string `json:"userId"`
			Role   string `json:"role"`
			User   struct {
				Email string `json:"email"`
			} `json:"user"`
		} `json:"members"`
	}
	n.MustDo(t, http.MethodGet, "/api/v1/organizations/"+admin.OrgID+"/members", admin.Token, nil).JSON(t, &out)
	for _, m := range out.Members {
		if m.User.Email == email {
			return m.UserID, email
		}
	}
	t.Fatalf("user %s is not a member after accepting", email)
	return "", ""
}

// wxAuditor counts the changes an actor made: its audit events, but for the sign-ins and
// denials, which change nothing (and are written asynchronously).
type wxAuditor struct {
	n     *servertest.Node
	token string // of an administrator of the actor's organization
	actor string // the actor's user id
}

var wxNotChanges = map[string]bool{coffer.ActionUserLogin: true, coffer.ActionUserLoginFailed: true,
	coffer.ActionUserLoginLimited: true, coffer.ActionPermissionDenied: true}

func (a *wxAuditor) changes(t *testing.T) int {
	t.Helper()
	var out struct {
		AuditLogs []struct {
			Event struct {
				Type string `json:"type"`
			} `json:"event"`
		} `json:"auditLogs"`
		NextCursor string `json:"nextCursor"`
	}
	a.n.MustDo(t, http.MethodGet, "/api/v1/audit-logs?limit=1000&actor="+url.QueryEscape(a.actor), a.token, nil).JSON(t, &out)
	if out.NextCursor != "" {
		t.Fatalf("more than 1000 audit events of %s", a.actor)
	}
	c := 0
	for _, l := range out.AuditLogs {
		if !wxNotChanges[l.Event.Type] {
			c++
		}
	}
	return c
}

// wxChainHead is the head of the audit chain, once every buffered event is written.
func wxChainHead(t *testing.T, n *servertest.Node) store.ChainPoint {
	t.Helper()
	ctx := context.Background()
	if err := n.Server.Audit.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var head store.ChainPoint
	err := n.Server.DB.InTx(ctx, func(tx *store.Tx) error {
		var err error
		head, err = tx.LockAuditHead(ctx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return head
}

// wxFixture is what one actor runs the routes against, made by the organization admin
// through the API: a project filled with what the forms change and delete, and objects of the
// organization.
type wxFixture struct {
	P, Slug                    string
	EnvUpd, EnvDel             string
	ImportDel, RoleDel, TagDel string
	Ident                      string // an identity with universal auth
	ClientSecret               string // a client secret of Ident, revoked by a form
	IdentDel, IdentDelName     string // an identity deleted by a form
	Invitation                 string // revoked by a form
	MemberUser                 string // a user member whose role is set, then removed
	UserAdd                    string // the e-mail of an organization member to add to P
	UserMembership             string // the membership of P of another member, changed, then removed
	Nonce                      string // makes the names of what the forms create unique
}

// wxUsers are two members of the organization that every fixture's project uses: one to add to
// it, one a viewer of it whose membership the forms change and remove.
type wxUsers struct{ Add, Target string }

func wxNewFixture(t *testing.T, n *servertest.Node, admin *servertest.Admin, a *wxActor, email string, users wxUsers) *wxFixture {
	t.Helper()
	f := &wxFixture{Nonce: axRandHex(4), UserAdd: users.Add}
	do := func(method, path string, body any) map[string]any {
		t.Helper()
		return n.MustDo(t, method, path, admin.Token, body).Map(t)
	}
	id := func(m map[string]any, key string) string { return m[key].(map[string]any)["id"].(string) }
	p := axCreateProject(t, n, admin.Token, "web matrix "+a.name)
	f.P, f.Slug = p.ID, p.Slug
	if a.role != "" {
		do(http.MethodPost, "/api/v2/workspace/"+f.P+"/memberships", map[string]any{"usernames": []string{email}, "roleSlugs": []string{a.role}})
	}
	var ms struct {
		Memberships []struct {
			ID string `json:"id"`
		} `json:"memberships"`
	}
	n.MustDo(t, http.MethodPost, "/api/v2/workspace/"+f.P+"/memberships", admin.Token,
		map[string]any{"usernames": []string{users.Target}, "roleSlugs": []string{coffer.RoleViewer}}).JSON(t, &ms)
	if len(ms.Memberships) != 1 || ms.Memberships[0].ID == "" {
		t.Fatalf("adding %s to the fixture's project: %+v", users.Target, ms)
	}
	f.UserMembership = ms.Memberships[0].ID
	var secrets []map[string]any
	for _, k := range []string{"GET_KEY", "UPD", "DEL", "ROLL"} {
		secrets = append(secrets, map[string]any{"secretKey": k, "secretValue": "v1-" + k})
	}
	do(http.MethodPost, "/api/v4/secrets/batch", map[string]any{"projectId": f.P, "environment": "dev", "secretPath": "/", "secrets": secrets})
	do(http.MethodPatch, "/api/v4/secrets/ROLL", map[string]any{"projectId": f.P, "environment": "dev", "secretValue": "v2-ROLL"})
	f.ImportDel = id(do(http.MethodPost, "/api/v1/secret-imports", map[string]any{"workspaceId": f.P, "environment": "dev", "path": "/",
		"import": map[string]any{"environment": "prod", "path": "/"}}), "secretImport")
	envs := "/api/v1/workspace/" + f.P + "/environments"
	f.EnvUpd = id(do(http.MethodPost, envs, map[string]any{"name": "Env Upd", "slug": "env-upd"}), "environment")
	f.EnvDel = id(do(http.MethodPost, envs, map[string]any{"name": "Env Del", "slug": "env-del"}), "environment")
	f.RoleDel = id(do(http.MethodPost, "/api/v1/projects/"+f.P+"/roles", map[string]any{"slug": "rdel", "name": "Role Del",
		"permissions": []map[string]any{{"subject": "tags", "action": "read"}}}), "role")
	f.TagDel = id(do(http.MethodPost, "/api/v1/projects/"+f.P+"/tags", map[string]any{"slug": "tdel", "color": "#333"}), "tag")

	f.Ident = axCreateIdentity(t, n, admin, "wx-"+f.Nonce, coffer.RoleNoAccess)
	axAttach(t, n, admin, f.Ident, map[string]any{})
	_, cs := axClientSecret(t, n, admin, f.Ident, map[string]any{"description": "to revoke"})
	f.ClientSecret = cs.ID
	f.IdentDelName = "wx-del-" + f.Nonce
	f.IdentDel = axCreateIdentity(t, n, admin, f.IdentDelName, coffer.RoleNoAccess)
	f.Invitation = id(do(http.MethodPost, "/api/v1/organizations/"+admin.OrgID+"/invitations",
		map[string]any{"email": "wx-revoke-" + f.Nonce + "@example.com", "role": coffer.RoleMember}), "invitation")
	f.MemberUser, _ = wxInvite(t, n, admin, coffer.RoleMember)
	return f
}

// wxState is one actor's run: its fixture and what the account forms need from one another.
type wxState struct {
	t               *testing.T
	n               *servertest.Node
	f               *wxFixture
	email, password string // "" signed out
	last            *wxPage
	totp            string // the secret of the second factor being turned on
}

// newSession signs the user in through the API: a second session for the forms that end one.
func (s *wxState) newSession() string {
	t := s.t
	t.Helper()
	res := s.n.MustDo(t, http.MethodPost, "/api/v1/auth/login", "", map[string]any{"email": s.email, "password": s.password}).Map(t)
	tok, _ := res["accessToken"].(string)
	var out struct {
		Sessions []struct {
			ID      string `json:"id"`
			Current bool   `json:"current"`
		} `json:"sessions"`
	}
	s.n.MustDo(t, http.MethodGet, "/api/v1/auth/sessions", tok, nil).JSON(t, &out)
	for _, x := range out.Sessions {
		if x.Current {
			return x.ID
		}
	}
	t.Fatalf("no current session in %+v", out.Sessions)
	return ""
}

func (s *wxState) totpCode(step int) string {
	s.t.Helper()
	c, err := identity.TOTPCode(s.totp, time.Now().Add(time.Duration(step)*30*time.Second))
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

// wxRoute is one request of the dashboard matrix.
type wxRoute struct {
	name    string
	pattern string // the pattern of web.Routes it runs
	class   string // wxProject, wxOrg or wxSelf
	path    func(s *wxState) string
	form    func(s *wxState) url.Values // nil for a page (GET)
	rule    axRoute                     // project routes: act, sub, env, at; foreign
	org     axOrgRoute                  // organization routes: allow, scoped
	// signsOut: the form ends the session, and its answer is a redirect to the sign-in page.
	signsOut bool
	htmx     bool // a partial, requested by htmx
}

func (rt wxRoute) method() string {
	m, _, _ := strings.Cut(rt.pattern, " ")
	return m
}

// wxRoutes is every route of the dashboard but the signed-out ones, in an order that lets an
// actor allowed all of them succeed on one fixture (the account's own forms last, signing out
// the very last).
func wxRoutes() []wxRoute {
	const (
		R = authz.Read
		C = authz.Create
		E = authz.Edit
		D = authz.Delete
	)
	admins := []string{coffer.RoleOwner, coffer.RoleAdmin}
	members := []string{coffer.RoleOwner, coffer.RoleAdmin, coffer.RoleMember}
	fixed := func(p string) func(*wxState) string { return func(*wxState) string { return p } }
	proj := func(suffix string) func(*wxState) string {
		return func(s *wxState) string { return "/projects/" + s.f.Slug + suffix }
	}
	ident := func(suffix string) func(*wxState) string {
		return func(s *wxState) string { return "/identities/" + s.f.Ident + suffix }
	}
	vals := func(kv ...string) func(*wxState) url.Values {
		return func(*wxState) url.Values {
			v := url.Values{}
			for i := 0; i+1 < len(kv); i += 2 {
				v.Set(kv[i], kv[i+1])
			}
			return v
		}
	}
	// A project route under /projects/{slug}: another organization's user gets 404.
	project := func(name, pattern string, path func(*wxState) string, form func(*wxState) url.Values, act authz.Action, sub authz.Subject) wxRoute {
		rt := wxRoute{name: name, pattern: pattern, class: wxProject, path: path, form: form,
			rule: axRoute{act: act, sub: sub, foreign: http.StatusNotFound}}
		switch sub {
		case authz.Secrets, authz.Folders, authz.Imports:
			rt.rule.env, rt.rule.at = "dev", "/"
		}
		return rt
	}
	org := func(name, pattern string, path func(*wxState) string, form func(*wxState) url.Values, allow []string, scoped bool) wxRoute {
		return wxRoute{name: name, pattern: pattern, class: wxOrg, path: path, form: form, org: axOrgRoute{allow: allow, scoped: scoped}}
	}
	self := func(name, pattern string, form func(*wxState) url.Values) wxRoute {
		_, path, _ := strings.Cut(pattern, " ")
		return wxRoute{name: name, pattern: pattern, class: wxSelf, path: fixed(path), form: form}
	}
	sec := "env=dev&path=%2F&key="
	keys := project("key section", "GET /projects/{slug}/keys", proj("/keys"), nil, R, authz.Settings)
	keys.htmx = true
	routes := []wxRoute{
		// The organization.
		// Everyone's home: the organization's overview, or for a user who holds only project
		// roles (no-access in the organization) a redirect to their projects.
		org("overview", "GET /{$}", fixed("/"), nil, nil, false),
		org("projects", "GET /projects", fixed("/projects"), nil, nil, false),
		org("project create", "POST /projects", fixed("/projects"), func(s *wxState) url.Values {
			return url.Values{"name": {"Web new " + s.f.Nonce}, "slug": {"web-new-" + s.f.Nonce}}
		}, members, false),
		org("members", "GET /members", fixed("/members"), nil, members, false),
		org("invite", "POST /members/invitations", fixed("/members/invitations"), func(s *wxState) url.Values {
			return url.Values{"email": {"wx-new-" + s.f.Nonce + "@example.com"}, "role": {coffer.RoleMember}}
		}, admins, false),
		// Off: turning it on would sign the other actors out.
		org("MFA requirement", "POST /members/mfa", fixed("/members/mfa"), vals(), admins, false),
		org("invitation revoke", "POST /members/invitations/{id}/revoke", func(s *wxState) string { return "/members/invitations/" + s.f.Invitation + "/revoke" }, vals(), admins, true),
		org("member role", "POST /members/{userId}/role", func(s *wxState) string { return "/members/" + s.f.MemberUser + "/role" }, vals("role", coffer.RoleNoAccess), admins, true),
		org("member remove", "POST /members/{userId}/remove", func(s *wxState) string { return "/members/" + s.f.MemberUser + "/remove" }, vals(), admins, true),
		org("identities", "GET /identities", fixed("/identities"), nil, admins, false),
		org("identity create", "POST /identities", fixed("/identities"), func(s *wxState) url.Values {
			return url.Values{"name": {"wx-new-" + s.f.Nonce}}
		}, admins, false),
		org("identity", "GET /identities/{id}", ident(""), nil, admins, true),
		org("universal auth", "POST /identities/{id}/universal-auth", ident("/universal-auth"),
			vals("ttl", "600", "max_ttl", "3600", "uses", "0", "client_ips", "", "token_ips", "", "vpces", ""), admins, true),
		org("client secret create", "POST /identities/{id}/client-secrets", ident("/client-secrets"), vals("description", "web"), admins, true),
		org("client secret revoke", "POST /identities/{id}/client-secrets/revoke", ident("/client-secrets/revoke"), func(s *wxState) url.Values {
			return url.Values{"secret": {s.f.ClientSecret}}
		}, admins, true),
		org("identity delete", "POST /identities/{id}/delete", func(s *wxState) string { return "/identities/" + s.f.IdentDel + "/delete" }, func(s *wxState) url.Values {
			return url.Values{"confirm": {s.f.IdentDelName}}
		}, admins, true),
		org("audit log", "GET /audit", fixed("/audit"), nil, admins, false),

		// A project's pages.
		project("grid", "GET /projects/{slug}", proj(""), nil, R, authz.Settings),
		project("reveal", "GET /projects/{slug}/reveal", proj("/reveal?"+sec+"GET_KEY"), nil, R, authz.Secrets),
		project("edit page", "GET /projects/{slug}/edit", proj("/edit?"+sec+"GET_KEY"), nil, R, authz.Secrets),
		project("history", "GET /projects/{slug}/history", proj("/history?"+sec+"ROLL&reveal=1"), nil, R, authz.Secrets),
		project("settings", "GET /projects/{slug}/settings", proj("/settings"), nil, R, authz.Settings),
		project("secret save", "POST /projects/{slug}/secrets", proj("/secrets"), vals("env", "dev", "path", "/", "key", "UPD", "value", "changed"), E, authz.Secrets),
		project("secret add", "POST /projects/{slug}/secrets/add", proj("/secrets/add"), vals("path", "/", "key", "ADDED", "value_dev", "new"), C, authz.Secrets),
		project("secret delete", "POST /projects/{slug}/secrets/delete", proj("/secrets/delete"), vals("env", "dev", "path", "/", "key", "DEL"), D, authz.Secrets),
		project("paste", "POST /projects/{slug}/secrets/paste", proj("/secrets/paste"), vals("env", "dev", "path", "/", "dotenv", "PASTED=1\n"), C, authz.Secrets),
		project("rollback", "POST /projects/{slug}/rollback", proj("/rollback"), vals("env", "dev", "path", "/", "key", "ROLL", "version", "1"), E, authz.Secrets),
		project("folder create", "POST /projects/{slug}/folders", proj("/folders"), vals("env", "dev", "path", "/", "name", "wxfolder"), C, authz.Folders),
		project("import create", "POST /projects/{slug}/imports", proj("/imports"), vals("env", "dev", "path", "/", "from_env", "staging", "from_path", "/"), C, authz.Imports),
		project("import delete", "POST /projects/{slug}/imports/delete", proj("/imports/delete"), func(s *wxState) url.Values {
			return url.Values{"env": {"dev"}, "path": {"/"}, "id": {s.f.ImportDel}}
		}, D, authz.Imports),
		project("environment create", "POST /projects/{slug}/environments", proj("/environments"), vals("name", "Web Env", "slug", "web-env"), C, authz.Settings),
		project("environment update", "POST /projects/{slug}/environments/{envId}", func(s *wxState) string {
			return "/projects/" + s.f.Slug + "/environments/" + s.f.EnvUpd
		}, vals("name", "Env Upd 2", "slug", "env-upd"), E, authz.Settings),
		project("environment delete", "POST /projects/{slug}/environments/{envId}/delete", func(s *wxState) string {
			return "/projects/" + s.f.Slug + "/environments/" + s.f.EnvDel + "/delete"
		}, vals("slug", "env-del", "confirm", "env-del"), D, authz.Settings),
		project("role create", "POST /projects/{slug}/roles", proj("/roles"),
			vals("role_slug", "wxrole", "role_name", "Web role", "permissions", `[{"subject":"secrets","action":["read"]}]`), C, authz.Roles),
		project("role delete", "POST /projects/{slug}/roles/{roleId}/delete", func(s *wxState) string {
			return "/projects/" + s.f.Slug + "/roles/" + s.f.RoleDel + "/delete"
		}, vals(), D, authz.Roles),
		project("tag create", "POST /projects/{slug}/tags", proj("/tags"), vals("name", "Web tag", "slug", "wx-tag"), C, authz.Tags),
		project("tag delete", "POST /projects/{slug}/tags/{tagId}/delete", func(s *wxState) string {
			return "/projects/" + s.f.Slug + "/tags/" + s.f.TagDel + "/delete"
		}, vals(), D, authz.Tags),
		keys,
		project("key rotate", "POST /projects/{slug}/keys/rotate", proj("/keys/rotate"), vals(), E, authz.Settings),
		project("project members", "GET /projects/{slug}/members", proj("/members"), nil, R, authz.Members),
		project("project member add", "POST /projects/{slug}/members", proj("/members"), func(s *wxState) url.Values {
			return url.Values{"email": {s.f.UserAdd}, "role": {coffer.RoleMember}}
		}, C, authz.Members),
		project("project member role", "POST /projects/{slug}/members/{membershipId}/role", func(s *wxState) string {
			return "/projects/" + s.f.Slug + "/members/" + s.f.UserMembership + "/role"
		}, vals("role", coffer.RoleMember), E, authz.Members),
		project("project member remove", "POST /projects/{slug}/members/{membershipId}/remove", func(s *wxState) string {
			return "/projects/" + s.f.Slug + "/members/" + s.f.UserMembership + "/remove"
		}, vals(), D, authz.Members),
	}
	// Project routes outside /projects/{slug}: an identity's role in the project, and the
	// project's audit log (another organization's admin reads its own log filtered to a
	// project it does not have: nothing, like the API's).
	role := project("identity project role", "POST /identities/{id}/projects", ident("/projects"), func(s *wxState) url.Values {
		return url.Values{"project": {s.f.P}, "role": {coffer.RoleViewer}}
	}, E, authz.Members)
	role.rule.foreign = 0
	audit := project("project audit log", "GET /audit", func(s *wxState) string { return "/audit?project=" + s.f.P }, nil, R, authz.AuditLogs)
	audit.rule.foreign = http.StatusOK
	routes = append(routes, role, audit)

	// The account's own forms.
	signOut := self("sign out", "POST /logout", vals())
	signOut.signsOut = true
	return append(routes,
		self("account", "GET /settings/sessions", nil),
		self("session revoke", "POST /settings/sessions/revoke", func(s *wxState) url.Values {
			if s.email == "" {
				return url.Values{"id": {"x"}}
			}
			return url.Values{"id": {s.newSession()}}
		}),
		self("other sessions revoke", "POST /settings/sessions/revoke-others", func(s *wxState) url.Values {
			if s.email != "" {
				s.newSession()
			}
			return url.Values{}
		}),
		self("second factor start", "POST /settings/totp", vals()),
		self("second factor confirm", "POST /settings/totp/confirm", func(s *wxState) url.Values {
			var m []string
			if s.last != nil {
				m = wxTOTPRE.FindStringSubmatch(s.last.Body)
			}
			if m == nil {
				return url.Values{"code": {"123456"}}
			}
			s.totp = m[1]
			return url.Values{"code": {s.totpCode(0)}}
		}),
		self("second factor disable", "POST /settings/totp/disable", func(s *wxState) url.Values {
			if s.totp == "" {
				return url.Values{"password": {"x"}, "code": {"123456"}}
			}
			return url.Values{"password": {s.password}, "code": {s.totpCode(1)}}
		}),
		self("password change", "POST /settings/password", func(s *wxState) url.Values {
			next := "another long password " + axRandHex(4)
			v := url.Values{"current": {s.password}, "password": {next}, "password2": {next}}
			s.password = next
			return v
		}),
		signOut,
	)
}

// wxPublicRoutes work signed out (sign-in, set-up, sign-up, e-mailed links, static files):
// what a signed-out browser gets for a page, and for a form posted without its token.
var wxPublicRoutes = map[string]struct {
	path   string
	status int
}{
	"GET /static/":                {"/static/app.css", http.StatusOK},
	"GET /login":                  {"/login", http.StatusOK},
	"POST /login":                 {"/login", http.StatusForbidden},
	"POST /login/totp":            {"/login/totp", http.StatusForbidden},
	"GET /signup":                 {"/signup", http.StatusOK}, // the matrix's node has open sign-up
	"POST /signup":                {"/signup", http.StatusForbidden},
	"GET /setup":                  {"/setup", http.StatusSeeOther},
	"POST /setup":                 {"/setup", http.StatusForbidden},
	"GET /reset-password":         {"/reset-password", http.StatusOK},
	"POST /reset-password":        {"/reset-password", http.StatusForbidden},
	"GET /invitations/accept":     {"/invitations/accept?token=x", http.StatusOK},
	"POST /invitations/accept":    {"/invitations/accept", http.StatusForbidden},
	"POST /settings/totp/confirm": {"/settings/totp/confirm", http.StatusForbidden}, // also a self route
}

// wxPatterns records the patterns web.Routes registers.
type wxPatterns []string

func (p *wxPatterns) Handle(pattern string, _ http.Handler) { *p = append(*p, pattern) }

// TestE2EWebRouteMatrixCoversEveryRoute fails when a route of the dashboard is missing from
// the matrix (or the matrix names a route the dashboard does not register).
func TestE2EWebRouteMatrixCoversEveryRoute(t *testing.T) {
	t.Parallel()
	var registered wxPatterns
	if err := (&web.Web{}).Routes(&registered); err != nil {
		t.Fatal(err)
	}
	classified := map[string]bool{}
	for _, rt := range wxRoutes() {
		classified[rt.pattern] = true
		if rt.method() == http.MethodGet && rt.form != nil || rt.method() != http.MethodGet && rt.form == nil {
			t.Errorf("route %s: a page without a form or a form post without one", rt.pattern)
		}
	}
	for p := range wxPublicRoutes {
		classified[p] = true
	}
	for _, p := range registered {
		if !classified[p] {
			t.Errorf("route %s is registered in internal/web but missing from the dashboard's role matrix (e2e_web_matrix_test.go): classify it", p)
		}
	}
	for p := range classified {
		if !slices.Contains(registered, p) {
			t.Errorf("the dashboard's role matrix names route %s, which internal/web does not register", p)
		}
	}
	if !slices.Contains(registered, "GET /projects/{slug}") || !slices.Contains(registered, "GET /login") {
		t.Errorf("web.Routes registered %d routes, without the grid or the sign-in page: the recorder misses routes", len(registered))
	}
}

// wxActor is one actor of the dashboard matrix: a user, or nobody (signed out).
type wxActor struct {
	name      string
	orgRole   string // the role in the organization; "" for another organization's user
	otherOrg  bool   // the owner of another organization
	role      string // the project role given on the actor's project; "" for none
	effective string // the project role the expectations use (axRoleRules); "" for none
}

// expect returns whether the actor may run rt and, if not, the statuses of a refusal.
func (a *wxActor) expect(rt wxRoute) (bool, []int) {
	ax := &axActor{orgRole: a.orgRole, otherOrg: a.otherOrg, effective: a.effective, token: "session"}
	foreign := []int{http.StatusForbidden, http.StatusNotFound}
	switch rt.class {
	case wxSelf:
		return true, nil
	case wxOrg:
		if axOrgAllows(ax, rt.org) {
			return true, nil
		}
		if a.otherOrg {
			return false, foreign
		}
	case wxProject:
		if a.otherOrg {
			switch rt.rule.foreign {
			case 0:
				return false, foreign
			case http.StatusOK:
				return true, nil
			}
			return false, []int{rt.rule.foreign}
		}
		if ax.allows(rt.rule) {
			return true, nil
		}
	}
	return false, []int{http.StatusForbidden}
}

// wxWantAllowed checks that p is not a refusal: a 2xx, or a redirect elsewhere than sign-in.
func wxWantAllowed(t *testing.T, p *wxPage, what string) {
	t.Helper()
	switch {
	case p.Status >= 200 && p.Status < 300:
	case p.Status == http.StatusSeeOther && !strings.HasPrefix(p.Header.Get("Location"), "/login"):
	default:
		t.Errorf("%s: %s, want it allowed (2xx or a redirect elsewhere than /login)", what, p)
	}
}

// wxWantRefused checks that p is a refusal with one of statuses, as an HTML page with the
// dashboard's CSP.
func wxWantRefused(t *testing.T, p *wxPage, statuses []int, what string) {
	t.Helper()
	if !slices.Contains(statuses, p.Status) {
		t.Errorf("%s: %s, want it refused with %v", what, p, statuses)
		return
	}
	if ct := p.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("%s: refusal with content type %q, want HTML", what, ct)
	}
	if csp := p.Header.Get("Content-Security-Policy"); csp != web.CSP {
		t.Errorf("%s: refusal with CSP %q", what, csp)
	}
}

// TestE2EWebRoleMatrix runs every dashboard route as every actor, on SQLite and PostgreSQL.
func TestE2EWebRoleMatrix(t *testing.T) {
	t.Parallel()
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		t.Parallel()
		n := servertest.StartWith(t, dialect, func(c *config.Config) {
			c.Signup = config.SignupOpen
			c.Argon2Memory, c.Argon2Iterations = 8192, 1 // the matrix signs many users in; the cost is not what it tests
		})
		admin := n.Bootstrap(t)
		routes := wxRoutes()
		var users wxUsers
		_, users.Add = wxInvite(t, n, admin, coffer.RoleMember)
		_, users.Target = wxInvite(t, n, admin, coffer.RoleMember)

		// Signed out first, alone on the node (the parallel actors start when this function
		// returns): nothing at all may change, so the head of the audit chain stays put.
		t.Run("signed out", func(t *testing.T) { wxRunSignedOut(t, n, admin, users, routes) })
		actors := []*wxActor{
			{name: "org owner", orgRole: coffer.RoleOwner, effective: coffer.RoleAdmin},
			{name: "org admin", orgRole: coffer.RoleAdmin, effective: coffer.RoleAdmin},
			{name: "org member", orgRole: coffer.RoleMember},
			{name: "project admin", orgRole: coffer.RoleNoAccess, role: coffer.RoleAdmin, effective: coffer.RoleAdmin},
			{name: "project developer", orgRole: coffer.RoleNoAccess, role: coffer.RoleMember, effective: coffer.RoleMember},
			{name: "project viewer", orgRole: coffer.RoleNoAccess, role: coffer.RoleViewer, effective: coffer.RoleViewer},
			{name: "project no-access", orgRole: coffer.RoleNoAccess, role: coffer.RoleNoAccess, effective: coffer.RoleNoAccess},
			{name: "other org owner", otherOrg: true},
		}
		for _, a := range actors {
			t.Run(a.name, func(t *testing.T) {
				t.Parallel()
				wxRun(t, n, admin, users, routes, a)
			})
		}
	})
}

// wxRunSignedOut runs every route without a session: pages lead to the sign-in page, forms are
// refused and change nothing; the signed-out routes answer as wxPublicRoutes says.
func wxRunSignedOut(t *testing.T, n *servertest.Node, admin *servertest.Admin, users wxUsers, routes []wxRoute) {
	s := &wxState{t: t, n: n, f: wxNewFixture(t, n, admin, &wxActor{name: "signed out"}, "", users)}
	b := wxNewBrowser(t, n)
	for _, rt := range routes {
		path := rt.path(s)
		what := fmt.Sprintf("%s: %s %s", rt.name, rt.method(), path)
		if rt.form == nil {
			p := b.get(path, rt.htmx)
			if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), "/login") || p.Header.Get("Content-Security-Policy") != web.CSP {
				t.Errorf("%s: %s, want a redirect to /login with the CSP", what, p)
			}
			continue
		}
		before := wxChainHead(t, n)
		s.last = b.post(path, rt.form(s), false)
		wxWantRefused(t, s.last, []int{http.StatusForbidden}, what)
		if after := wxChainHead(t, n); after != before {
			t.Errorf("%s: refused, but the audit chain moved from %d to %d", what, before.Seq, after.Seq)
		}
	}
	for p, want := range wxPublicRoutes {
		method, _, _ := strings.Cut(p, " ")
		var got *wxPage
		if method == http.MethodGet {
			got = wxNewBrowser(t, n).get(want.path)
		} else {
			got = wxNewBrowser(t, n).post(want.path, url.Values{}, false)
		}
		if got.Status != want.status {
			t.Errorf("signed out %s (%s): %s, want %d", p, want.path, got, want.status)
		}
	}
}

// wxRun makes the actor's user, signs it in through the dashboard and runs every route.
func wxRun(t *testing.T, n *servertest.Node, admin *servertest.Admin, users wxUsers, routes []wxRoute, a *wxActor) {
	s := &wxState{t: t, n: n, password: wxPassword}
	aud := &wxAuditor{n: n, token: admin.Token}
	switch {
	case a.orgRole == coffer.RoleOwner:
		s.email, s.password, aud.actor = admin.Email, admin.Password, admin.UserID
	case a.otherOrg:
		s.email = "wx-other-" + axRandHex(6) + "@example.com"
		res := n.MustDo(t, http.MethodPost, "/api/v1/auth/signup", "", map[string]any{"email": s.email, "name": "Other",
			"password": s.password, "organizationName": "Other Org"}).Map(t)
		tok, _ := res["accessToken"].(string)
		var me struct {
			Me struct{ ID, OrgID string } `json:"me"`
		}
		n.MustDo(t, http.MethodGet, "/api/v1/auth/me", tok, nil).JSON(t, &me)
		// Its organization's audit log, read by an identity of it that the account's forms
		// (which sign the user's sessions out) leave alone.
		_, _, _, aud.token = n.NewIdentity(t, &servertest.Admin{Token: tok, OrgID: me.Me.OrgID}, "wx-auditor", coffer.RoleAdmin)
		aud.actor = me.Me.ID
	default:
		aud.actor, s.email = wxInvite(t, n, admin, a.orgRole)
	}
	s.f = wxNewFixture(t, n, admin, a, s.email, users)
	b := wxSignIn(t, n, s.email, s.password)
	for _, rt := range routes {
		allowed, refusals := a.expect(rt)
		path := rt.path(s)
		what := fmt.Sprintf("%s: %s %s", rt.name, rt.method(), path)
		if rt.form == nil {
			s.last = b.get(path, rt.htmx)
			if allowed {
				wxWantAllowed(t, s.last, what)
			} else {
				wxWantRefused(t, s.last, refusals, what)
			}
			continue
		}
		form := rt.form(s)
		before := aud.changes(t)
		if allowed {
			wxWantRefused(t, b.post(path, form, false), []int{http.StatusForbidden}, what+" without the CSRF token")
			if after := aud.changes(t); after != before {
				t.Errorf("%s without the CSRF token: refused, but %d changes were recorded", what, after-before)
			}
		}
		s.last = b.post(path, form, true)
		after := aud.changes(t)
		switch {
		case !allowed:
			wxWantRefused(t, s.last, refusals, what)
			if after != before {
				t.Errorf("%s: refused, but %d changes were recorded", what, after-before)
			}
			continue
		case rt.signsOut:
			if s.last.Status != http.StatusSeeOther || s.last.Header.Get("Location") != "/login" {
				t.Errorf("%s: %s, want a redirect to /login", what, s.last)
			}
			if p := b.get("/settings/sessions"); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), "/login") {
				t.Errorf("%s: the session still works: %s", what, p)
			}
		default:
			wxWantAllowed(t, s.last, what)
		}
		if after == before {
			t.Errorf("%s: allowed, but no change was recorded", what)
		}
	}
}
