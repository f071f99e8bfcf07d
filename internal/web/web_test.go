package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/identity"
	"github.com/cofferhq/coffer/internal/servertest"
	"github.com/cofferhq/coffer/internal/store"
	"github.com/cofferhq/coffer/internal/web"
)

// browser is a cookie-keeping HTTP client that does not follow redirects.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string // the last page's CSRF token
}

func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	Status int
	Header http.Header
	Body   string
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func (b *browser) do(req *http.Request) *page {
	b.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	p := &page{Status: res.StatusCode, Header: res.Header, Body: string(body)}
	if m := csrfRE.FindStringSubmatch(p.Body); m != nil {
		b.csrf = m[1]
	}
	return p
}

func (b *browser) get(path string) *page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.base+path, nil)
	return b.do(req)
}

func (b *browser) htmx(path string) *page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.base+path, nil)
	req.Header.Set("HX-Request", "true")
	return b.do(req)
}

// post posts a form; withCSRF adds the last page's token.
func (b *browser) post(path string, form url.Values, withCSRF bool) *page {
	b.t.Helper()
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	if withCSRF {
		f.Set("csrf_token", b.csrf)
	}
	req, _ := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func wantRedirect(t *testing.T, p *page, status int, location string) {
	t.Helper()
	if p.Status != status || p.Header.Get("Location") != location {
		t.Fatalf("got %d Location %q, want %d %q: %.300s", p.Status, p.Header.Get("Location"), status, location, p.Body)
	}
}

// setUp makes the first account through the setup page and returns the signed-in browser.
func setUp(t *testing.T, n *servertest.Node) *browser {
	t.Helper()
	b := newBrowser(t, n.URL)
	wantRedirect(t, b.get("/login"), http.StatusSeeOther, "/setup")
	if p := b.get("/setup"); p.Status != http.StatusOK {
		t.Fatalf("setup page: %d", p.Status)
	}
	p := b.post("/setup", url.Values{"organization": {"Acme"}, "email": {"admin@example.com"},
		"password": {adminPassword}, "password2": {adminPassword}}, true)
	wantRedirect(t, p, http.StatusSeeOther, "/projects")
	b.get("/projects") // the session's CSRF token
	return b
}

const adminPassword = "correct horse battery staple"

// patterns records the route patterns a Mux is given.
type patterns []string

func (p *patterns) Handle(pattern string, _ http.Handler) { *p = append(*p, pattern) }

func TestSignedOutRedirects(t *testing.T) {
	n := servertest.Start(t, store.SQLite)
	b := newBrowser(t, n.URL)
	wantRedirect(t, b.get("/"), http.StatusSeeOther, "/login")
	wantRedirect(t, b.get("/projects"), http.StatusSeeOther, "/login?next=%2Fprojects")
	// Before the first account, sign-in leads to setup; after it, setup leads to sign-in.
	b = setUp(t, n)
	anon := newBrowser(t, n.URL)
	wantRedirect(t, anon.get("/setup"), http.StatusSeeOther, "/login")
	if p := anon.get("/login"); p.Status != http.StatusOK || !strings.Contains(p.Body, `name="password"`) {
		t.Fatalf("login page: %d", p.Status)
	}
	// A wrong password shows the form again; the right one signs in and goes to next.
	p := anon.post("/login", url.Values{"email": {"admin@example.com"}, "password": {"wrong password!!"}, "next": {"/audit"}}, true)
	if p.Status != http.StatusUnauthorized || !strings.Contains(p.Body, "role=\"alert\"") {
		t.Fatalf("wrong password: %d", p.Status)
	}
	p = anon.post("/login", url.Values{"email": {"admin@example.com"}, "password": {adminPassword}, "next": {"//evil.example/"}}, true)
	wantRedirect(t, p, http.StatusSeeOther, "/")
	if p := anon.get("/"); p.Status != http.StatusOK || !strings.Contains(p.Body, "Acme") {
		t.Fatalf("overview: %d", p.Status)
	}
	wantRedirect(t, anon.post("/logout", nil, true), http.StatusSeeOther, "/login")
	wantRedirect(t, anon.get("/"), http.StatusSeeOther, "/login")
	_ = b
}

// TestSecurityHeadersAndCSRF checks that every HTML response carries the CSP and the other
// security headers, that every form carries a CSRF token, and that every form post without
// it is refused with 403 and changes nothing.
func TestSecurityHeadersAndCSRF(t *testing.T) {
	n := servertest.Start(t, store.SQLite)
	anon := newBrowser(t, n.URL)
	anonPages := []string{"/login", "/setup", "/signup", "/reset-password", "/reset-password?token=abc", "/invitations/accept?token=abc"}
	b := setUp(t, n)
	wantRedirect(t, b.post("/projects", url.Values{"name": {"Shop"}, "slug": {"shop"}}, true), http.StatusSeeOther, "/projects/shop")
	b.post("/projects/shop/secrets/add", url.Values{"key": {"API_KEY"}, "value_dev": {"v1"}, "path": {"/"}}, true)
	pages := []string{"/", "/projects", "/projects/shop", "/projects/shop/reveal?env=dev&key=API_KEY",
		"/projects/shop/edit?env=dev&key=API_KEY", "/projects/shop/history?env=dev&key=API_KEY",
		"/projects/shop/history?env=dev&key=API_KEY&reveal=1", "/identities", "/audit",
		"/projects/nope", "/projects/shop/reveal?env=dev&key=NOPE", "/members", "/settings/sessions",
		"/projects/shop/settings", "/projects/shop/keys", "/projects/shop/members", "/reset-password", "/invitations/accept?token=abc"}
	check := func(b *browser, path string) {
		p := b.get(path)
		if !strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
			t.Errorf("%s: content type %q (status %d)", path, p.Header.Get("Content-Type"), p.Status)
			for _, l := range strings.Split(n.Logs(), "\n") {
				if strings.Contains(l, "dashboard") {
					t.Log(l)
				}
			}
			return
		}
		csp := p.Header.Get("Content-Security-Policy")
		for _, d := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'",
			"base-uri 'none'", "frame-ancestors 'none'", "form-action 'self'"} {
			if !strings.Contains(csp, d) {
				t.Errorf("%s: CSP %q lacks %q", path, csp, d)
			}
		}
		if p.Header.Get("X-Content-Type-Options") != "nosniff" || p.Header.Get("Referrer-Policy") == "" {
			t.Errorf("%s: security headers missing: %v", path, p.Header)
		}
		if strings.Contains(p.Body, "<script>") || strings.Contains(p.Body, "style=") || strings.Contains(p.Body, "<style") ||
			regexp.MustCompile(`\son[a-z]+=`).MatchString(p.Body) {
			t.Errorf("%s: inline script or style", path)
		}
		forms := regexp.MustCompile(`(?s)<form[^>]*method="post".*?</form>`).FindAllString(p.Body, -1)
		for _, f := range forms {
			if !strings.Contains(f, `name="csrf_token" value="`) || strings.Contains(f, `name="csrf_token" value=""`) {
				t.Errorf("%s: a form without a CSRF token: %.200s", path, f)
			}
		}
	}
	for _, path := range pages {
		check(b, path)
	}
	for _, path := range anonPages {
		check(newBrowser(t, n.URL), path)
	}

	envID := regexp.MustCompile(`action="/projects/shop/environments/([^"/]+)"`).FindStringSubmatch(b.get("/projects/shop/settings").Body)[1]
	const userID = "some-user" // refused before it is looked at
	posts := []struct {
		path string
		form url.Values
	}{
		{"/projects", url.Values{"name": {"Evil"}}},
		{"/projects/shop/secrets", url.Values{"env": {"dev"}, "key": {"API_KEY"}, "value": {"evil"}}},
		{"/projects/shop/secrets/add", url.Values{"key": {"EVIL"}, "value_dev": {"x"}}},
		{"/projects/shop/secrets/delete", url.Values{"env": {"dev"}, "key": {"API_KEY"}}},
		{"/projects/shop/secrets/paste", url.Values{"env": {"dev"}, "dotenv": {"EVIL=1"}}},
		{"/projects/shop/folders", url.Values{"env": {"dev"}, "name": {"evil"}}},
		{"/projects/shop/rollback", url.Values{"env": {"dev"}, "key": {"API_KEY"}, "version": {"1"}}},
		{"/identities", url.Values{"name": {"evil"}}},
		{"/projects/shop/imports", url.Values{"env": {"staging"}, "from_env": {"dev"}, "from_path": {"/"}}},
		{"/projects/shop/imports/delete", url.Values{"env": {"staging"}, "id": {"x"}}},
		{"/projects/shop/tags", url.Values{"name": {"Evil"}, "slug": {"evil"}}},
		{"/projects/shop/roles", url.Values{"role_slug": {"evil"}, "permissions": {`[{"subject":"secrets","action":["read"]}]`}}},
		{"/projects/shop/roles/x/delete", nil},
		{"/projects/shop/tags/x/delete", nil},
		{"/projects/shop/members", url.Values{"email": {"admin@example.com"}, "role": {"viewer"}}},
		{"/projects/shop/members/x/role", url.Values{"role": {"viewer"}}},
		{"/projects/shop/members/x/remove", nil},
		{"/projects/shop/keys/rotate", nil},
		{"/projects/shop/environments", url.Values{"name": {"Evil"}, "slug": {"evil"}}},
		{"/projects/shop/environments/" + envID, url.Values{"name": {"Evil"}, "slug": {"evil"}}},
		{"/projects/shop/environments/" + envID + "/delete", url.Values{"slug": {"dev"}, "confirm": {"dev"}}},
		{"/members/invitations", url.Values{"email": {"evil@example.com"}, "role": {"admin"}}},
		{"/members/" + userID + "/role", url.Values{"role": {"member"}}},
		{"/members/" + userID + "/remove", nil},
		{"/members/invitations/x/revoke", nil},
		{"/members/mfa", url.Values{"enforce": {"on"}}},
		{"/settings/sessions/revoke", url.Values{"id": {"x"}}},
		{"/settings/sessions/revoke-others", nil},
		{"/settings/totp", nil},
		{"/identities/x/client-secrets", nil},
		{"/identities/x/universal-auth", url.Values{"ttl": {"1"}, "max_ttl": {"1"}, "uses": {"0"}}},
		{"/identities/x/client-secrets/revoke", url.Values{"secret": {"x"}}},
		{"/identities/x/projects", url.Values{"project": {"x"}, "role": {"admin"}}},
		{"/identities/x/delete", url.Values{"confirm": {"x"}}},
		{"/settings/totp/confirm", url.Values{"code": {"123456"}}},
		{"/settings/totp/disable", url.Values{"password": {adminPassword}, "code": {"123456"}}},
		{"/settings/password", url.Values{"current": {adminPassword}, "password": {"another long password"}, "password2": {"another long password"}}},
		{"/reset-password", url.Values{"email": {"admin@example.com"}}},
		{"/invitations/accept", url.Values{"token": {"x"}, "name": {"Evil"}, "password": {adminPassword}}},
		{"/logout", nil},
		{"/login", url.Values{"email": {"admin@example.com"}, "password": {adminPassword}}},
		{"/login/totp", url.Values{"code": {"123456"}}},
		{"/signup", url.Values{"email": {"x@example.com"}, "name": {"X"}, "password": {adminPassword}, "organization": {"X"}}},
		{"/setup", url.Values{"email": {"x@example.com"}, "password": {adminPassword}, "password2": {adminPassword}, "organization": {"X"}}},
	}
	// Every form route of the dashboard is in posts, and every page in pages or anonPages
	// (but an identity's, tested in TestIdentityPage): a new route cannot skip these checks.
	var routes patterns
	if err := (&web.Web{}).Routes(&routes); err != nil {
		t.Fatal(err)
	}
	for _, pat := range routes {
		method, path, _ := strings.Cut(pat, " ")
		re := regexp.MustCompile(`^` + regexp.MustCompile(`\\\{[^}]+\\\}`).ReplaceAllString(regexp.QuoteMeta(strings.TrimSuffix(path, "{$}")), `[^/?]+`) + `(\?|$)`)
		var covered bool
		switch method {
		case http.MethodPost:
			covered = slices.ContainsFunc(posts, func(c struct {
				path string
				form url.Values
			}) bool {
				return re.MatchString(c.path)
			})
		case http.MethodGet:
			covered = path == "/static/" || path == "/identities/{id}" || slices.ContainsFunc(append(pages, anonPages...), re.MatchString)
		}
		if !covered {
			t.Errorf("route %s is not covered by this test", pat)
		}
	}
	for _, who := range []struct {
		name string
		b    *browser
	}{{"signed in", b}, {"signed out", anon}} {
		for _, c := range posts {
			anon.get("/login") // a pre-session cookie, so that only the token is missing
			if p := who.b.post(c.path, c.form, false); p.Status != http.StatusForbidden {
				t.Errorf("%s: POST %s without CSRF token: %d, want 403", who.name, c.path, p.Status)
			}
			// A wrong token is refused as well.
			if p := who.b.post(c.path, url.Values{"csrf_token": {strings.Repeat("0", 64)}, "name": {"Evil"}}, false); p.Status != http.StatusForbidden {
				t.Errorf("%s: POST %s with a wrong CSRF token: %d, want 403", who.name, c.path, p.Status)
			}
		}
	}
	// Nothing changed: the secret is still v1, no project "Evil", still signed in.
	p := b.get("/projects/shop/reveal?env=dev&key=API_KEY")
	if !strings.Contains(p.Body, ">v1<") {
		t.Errorf("the secret changed: %.500s", p.Body)
	}
	if p := b.get("/projects"); strings.Contains(p.Body, "Evil") || p.Status != http.StatusOK {
		t.Errorf("a project was created without a CSRF token")
	}
	// The static files are served with the headers too, and htmx is the vendored version.
	for _, f := range []string{"/static/app.css", "/static/app.js", "/static/htmx.min.js"} {
		if p := b.get(f); p.Status != http.StatusOK || p.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: %d", f, p.Status)
		}
	}
}

// TestVendoredHTMX checks that the vendored htmx is the one static/README.md names.
func TestVendoredHTMX(t *testing.T) {
	b, err := os.ReadFile("static/htmx.min.js")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	const want = "e209dda5c8235479f3166defc7750e1dbcd5a5c1808b7792fc2e6733768fb447" // htmx.org@2.0.4
	if got := hex.EncodeToString(sum[:]); got != want {
		t.Fatalf("static/htmx.min.js: sha256 %s, want %s (update static/README.md and this test together)", got, want)
	}
}

// TestGridMasksValues checks that the grid never carries a value until it is revealed, shows
// missing and differing values, and that edit, history and rollback work without JavaScript.
func TestGridMasksValues(t *testing.T) {
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) { testGridMasksValues(t, servertest.Start(t, dialect)) })
}

func testGridMasksValues(t *testing.T, n *servertest.Node) {
	b := setUp(t, n)
	wantRedirect(t, b.post("/projects", url.Values{"name": {"Shop"}, "slug": {"shop"}}, true), http.StatusSeeOther, "/projects/shop")
	const dev, prod, same = "dev-value-7f3a9", "prod-value-c21e8", "same-value-5d0b2"
	wantRedirect(t, b.post("/projects/shop/secrets/add", url.Values{"path": {"/"}, "key": {"DB_URL"},
		"value_dev": {dev}, "value_prod": {prod}}, true), http.StatusSeeOther, "/projects/shop")
	b.get("/projects/shop")
	wantRedirect(t, b.post("/projects/shop/secrets/paste", url.Values{"path": {"/"}, "env": {"dev"},
		"dotenv": {"SAME=" + same + "\n# comment\nONLY_DEV=x\n"}}, true), http.StatusSeeOther, "/projects/shop")
	b.get("/projects/shop")
	b.post("/projects/shop/secrets/paste", url.Values{"path": {"/"}, "env": {"staging"}, "dotenv": {"SAME=" + same}}, true)
	b.post("/projects/shop/secrets/paste", url.Values{"path": {"/"}, "env": {"prod"}, "dotenv": {"SAME=" + same}}, true)

	grid := b.get("/projects/shop")
	for _, v := range []string{dev, prod, same} {
		if strings.Contains(grid.Body, v) {
			t.Fatalf("the grid shows a value before it is revealed")
		}
	}
	row := func(key string) string {
		m := regexp.MustCompile(`(?s)<tr[^>]*>\s*<th scope="row"><code>` + key + `</code>.*?</tr>`).FindString(grid.Body)
		if m == "" {
			t.Fatalf("no row %s", key)
		}
		return m
	}
	if r := row("DB_URL"); !strings.Contains(r, "differs") || !strings.Contains(r, "missing") {
		t.Errorf("DB_URL (dev and prod differ, staging missing) not marked: %s", r)
	}
	if r := row("SAME"); strings.Contains(r, "differs") || strings.Contains(r, `class="badge miss"`) {
		t.Errorf("SAME (equal everywhere) marked: %s", r)
	}
	// Revealing shows that one value only, as a page and as an htmx partial.
	p := b.get("/projects/shop/reveal?env=prod&path=/&key=DB_URL")
	if !strings.Contains(p.Body, prod) || strings.Contains(p.Body, dev) {
		t.Fatalf("reveal page")
	}
	p = b.htmx("/projects/shop/reveal?env=dev&path=/&key=DB_URL")
	if !strings.Contains(p.Body, dev) || strings.Contains(p.Body, "<html") {
		t.Fatalf("reveal partial: %.300s", p.Body)
	}
	// Edit, then roll back to version 1.
	b.get("/projects/shop/edit?env=dev&path=/&key=DB_URL")
	wantRedirect(t, b.post("/projects/shop/secrets", url.Values{"env": {"dev"}, "path": {"/"}, "key": {"DB_URL"},
		"value": {"edited-1"}, "comment": {""}}, true), http.StatusSeeOther, "/projects/shop")
	h := b.get("/projects/shop/history?env=dev&path=/&key=DB_URL&reveal=1")
	if !regexp.MustCompile(`class="ddel">[^<]*`+dev).MatchString(h.Body) || !regexp.MustCompile(`class="dadd">[^<]*edited-1`).MatchString(h.Body) {
		t.Fatalf("history diff: %.2000s", h.Body)
	}
	wantRedirect(t, b.post("/projects/shop/rollback", url.Values{"env": {"dev"}, "path": {"/"}, "key": {"DB_URL"},
		"version": {"1"}}, true), http.StatusSeeOther, "/projects/shop")
	if p := b.get("/projects/shop/reveal?env=dev&path=/&key=DB_URL"); !strings.Contains(p.Body, dev) {
		t.Fatalf("rollback did not restore version 1")
	}
	// Imports: staging imports dev's root; its column then shows dev's keys, marked imported.
	b.get("/projects/shop")
	wantRedirect(t, b.post("/projects/shop/imports", url.Values{"path": {"/"}, "env": {"staging"}, "from_env": {"dev"}, "from_path": {"/"}}, true),
		http.StatusSeeOther, "/projects/shop")
	grid = b.get("/projects/shop")
	if !strings.Contains(grid.Body, `id="cell-staging-DB_URL"`) || !strings.Contains(grid.Body, "from dev:/") {
		t.Fatalf("the imported key is not shown in staging")
	}
	if p := b.get("/projects/shop/reveal?env=staging&path=/&key=DB_URL"); !strings.Contains(p.Body, dev) {
		t.Fatalf("revealing an imported value")
	}
	// References: the revealed value shows what it resolves to.
	b.get("/projects/shop")
	b.post("/projects/shop/secrets/add", url.Values{"path": {"/"}, "key": {"REF"}, "value_dev": {"${DB_URL}"}}, true)
	if p := b.get("/projects/shop/reveal?env=dev&path=/&key=REF"); !strings.Contains(p.Body, `title="Resolves to: `+dev+`"`) {
		t.Fatalf("the reference is not resolved: %.3000s", p.Body)
	}
	imp := regexp.MustCompile(`name="id" value="([^"]+)"`).FindStringSubmatch(b.get("/projects/shop").Body)
	wantRedirect(t, b.post("/projects/shop/imports/delete", url.Values{"path": {"/"}, "env": {"staging"}, "id": {imp[1]}}, true),
		http.StatusSeeOther, "/projects/shop")
	if strings.Contains(b.get("/projects/shop").Body, "from dev:/") {
		t.Fatal("the import was not removed")
	}

	// Delete from one environment: the row stays, marked missing there.
	b.get("/projects/shop")
	wantRedirect(t, b.post("/projects/shop/secrets/delete", url.Values{"env": {"dev"}, "path": {"/"}, "key": {"ONLY_DEV"}}, true),
		http.StatusSeeOther, "/projects/shop")
	if strings.Contains(b.get("/projects/shop").Body, "ONLY_DEV") {
		t.Errorf("deleted key still shown")
	}
	// Folders: made in one environment, shown as a link, their grid with breadcrumbs.
	b.get("/projects/shop")
	wantRedirect(t, b.post("/projects/shop/folders", url.Values{"path": {"/"}, "env": {"dev"}, "name": {"api"}}, true),
		http.StatusSeeOther, "/projects/shop?path=%2Fapi")
	if p := b.get("/projects/shop"); !strings.Contains(p.Body, `href="/projects/shop?path=%2fapi"`) {
		t.Fatalf("the folder is not listed: %s", regexp.MustCompile(`(?s)<ul class="folders".*?</ul>`).FindString(p.Body))
	}
	b.get("/projects/shop?path=/api")
	wantRedirect(t, b.post("/projects/shop/secrets/add", url.Values{"path": {"/api"}, "key": {"IN_API"}, "value_dev": {"x"}}, true),
		http.StatusSeeOther, "/projects/shop?path=%2Fapi")
	p = b.get("/projects/shop?path=/api")
	if !strings.Contains(p.Body, `<a href="/projects/shop?path=%2fapi" aria-current="page">api</a>`) || !strings.Contains(p.Body, "<code>IN_API</code>") ||
		strings.Contains(p.Body, "<code>DB_URL</code>") {
		t.Fatalf("the folder's grid: %.3000s", p.Body)
	}

	// Tags: made on the settings page, set in the edit form, shown on the key's row.
	b.get("/projects/shop/settings")
	wantRedirect(t, b.post("/projects/shop/tags", url.Values{"name": {"Backend"}, "slug": {"backend"}}, true), http.StatusSeeOther, "/projects/shop/settings")
	e := b.get("/projects/shop/edit?env=dev&path=/&key=DB_URL")
	tag := regexp.MustCompile(`name="tag" value="([^"]+)"`).FindStringSubmatch(e.Body)
	if tag == nil {
		t.Fatalf("no tag in the edit form")
	}
	wantRedirect(t, b.post("/projects/shop/secrets", url.Values{"env": {"dev"}, "path": {"/"}, "key": {"DB_URL"}, "value": {dev},
		"tags_shown": {"1"}, "tag": {tag[1]}}, true), http.StatusSeeOther, "/projects/shop")
	grid = b.get("/projects/shop")
	if r := row("DB_URL"); !strings.Contains(r, `<span class="badge tag">Backend</span>`) {
		t.Fatalf("the tag is not on the row: %s", r)
	}

	// A bad key is refused with the field named and nothing written.
	p = b.post("/projects/shop/secrets/add", url.Values{"path": {"/"}, "key": {"bad key"}, "value_dev": {"x"}}, true)
	if p.Status != http.StatusUnprocessableEntity && p.Status != http.StatusBadRequest {
		t.Errorf("bad key: %d", p.Status)
	}
	if logs := n.Logs(); strings.Contains(logs, dev) || strings.Contains(logs, prod) || strings.Contains(logs, same) {
		t.Errorf("a secret value is in the node's logs")
	}
}

// TestViewerCannotEdit checks that a project viewer sees the grid but every change is refused
// by the services (403) and changes nothing.
func TestViewerCannotEdit(t *testing.T) {
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) { testViewerCannotEdit(t, servertest.Start(t, dialect)) })
}

func testViewerCannotEdit(t *testing.T, n *servertest.Node) {
	b := setUp(t, n)
	wantRedirect(t, b.post("/projects", url.Values{"name": {"Shop"}, "slug": {"shop"}}, true), http.StatusSeeOther, "/projects/shop")
	b.post("/projects/shop/secrets/add", url.Values{"path": {"/"}, "key": {"K"}, "value_dev": {"v1"}}, true)

	// A second user, invited as an organization member, made viewer of the project.
	ctx := context.Background()
	u, err := n.Server.DB.FindUserByEmail(ctx, "admin@example.com")
	if err != nil {
		t.Fatal(err)
	}
	orgID, err := n.Server.DB.FirstOrgOf(ctx, coffer.ActorUser, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	tok := adminToken(t, n)
	var inv struct {
		Link string `json:"inviteLink"`
	}
	n.MustDo(t, http.MethodPost, "/api/v1/organizations/"+orgID+"/invitations", tok,
		map[string]any{"email": "viewer@example.com", "role": "member"}).JSON(t, &inv)
	lu, err := url.Parse(inv.Link)
	if err != nil || lu.Query().Get("token") == "" {
		t.Fatalf("invite link %q", inv.Link)
	}
	n.MustDo(t, http.MethodPost, "/api/v1/invitations/accept", "", map[string]any{"token": lu.Query().Get("token"),
		"name": "Vera", "password": adminPassword})
	var proj struct {
		ID      string              `json:"id"`
		Project struct{ ID string } `json:"project"`
	}
	n.MustDo(t, http.MethodGet, "/api/v1/projects/slug/shop", tok, nil).JSON(t, &proj)
	if proj.Project.ID == "" {
		proj.Project.ID = proj.ID
	}
	vu, err := n.Server.DB.FindUserByEmail(ctx, "viewer@example.com")
	if err != nil {
		t.Fatal(err)
	}
	err = n.Server.DB.InTx(ctx, func(tx *store.Tx) error {
		return tx.PutMembership(ctx, store.ScopeProject, &coffer.Membership{ScopeID: proj.Project.ID,
			ActorKind: coffer.ActorUser, ActorID: vu.ID, Role: coffer.RoleViewer}, time.Now())
	})
	if err != nil {
		t.Fatal(err)
	}

	v := newBrowser(t, n.URL)
	v.get("/login")
	wantRedirect(t, v.post("/login", url.Values{"email": {"viewer@example.com"}, "password": {adminPassword}}, true), http.StatusSeeOther, "/")
	if p := v.get("/projects/shop"); p.Status != http.StatusOK || !strings.Contains(p.Body, "<code>K</code>") {
		t.Fatalf("viewer grid: %d", p.Status)
	}
	for _, c := range []struct {
		path string
		form url.Values
	}{
		{"/projects/shop/secrets", url.Values{"env": {"dev"}, "path": {"/"}, "key": {"K"}, "value": {"changed"}}},
		{"/projects/shop/secrets/add", url.Values{"path": {"/"}, "key": {"NEW"}, "value_dev": {"x"}}},
		{"/projects/shop/secrets/delete", url.Values{"env": {"dev"}, "path": {"/"}, "key": {"K"}}},
		{"/projects/shop/secrets/paste", url.Values{"env": {"dev"}, "path": {"/"}, "dotenv": {"K=changed"}}},
	} {
		v.get("/projects/shop")
		if p := v.post(c.path, c.form, true); p.Status != http.StatusForbidden {
			t.Errorf("viewer POST %s: %d, want 403", c.path, p.Status)
		}
	}
	if p := b.get("/projects/shop/reveal?env=dev&path=/&key=K"); !strings.Contains(p.Body, ">v1<") {
		t.Errorf("the viewer changed the secret")
	}
	if p := b.get("/projects/shop"); strings.Contains(p.Body, "NEW") {
		t.Errorf("the viewer added a secret")
	}
}

// adminToken signs the admin in through the API and returns a bearer token.
func adminToken(t *testing.T, n *servertest.Node) string {
	t.Helper()
	var res struct {
		AccessToken string `json:"accessToken"`
	}
	n.MustDo(t, http.MethodPost, "/api/v1/auth/login", "", map[string]any{"email": "admin@example.com", "password": adminPassword}).JSON(t, &res)
	return res.AccessToken
}

// TestAccountPages walks the pages e-mailed links lead to and the account settings: an
// invitation made on the members page and accepted in another browser, sessions listed and
// signed out, the password changed, a reset asked for, and environments added, renamed and
// deleted.
func TestAccountPages(t *testing.T) {
	n := servertest.Start(t, store.SQLite)
	admin := setUp(t, n)

	// Invite: without e-mail the link is shown to hand over; it leads to /invitations/accept.
	admin.get("/members")
	p := admin.post("/members/invitations", url.Values{"email": {"dev@example.com"}, "role": {"member"}}, true)
	m := regexp.MustCompile(`<code data-value>([^<]+/invitations/accept\?token=([^<&]+))</code>`).FindStringSubmatch(p.Body)
	if p.Status != http.StatusOK || m == nil {
		t.Fatalf("invite: %d, no link shown", p.Status)
	}
	dev := newBrowser(t, n.URL)
	if p := dev.get("/invitations/accept?token=" + m[2]); p.Status != http.StatusOK || !strings.Contains(p.Body, m[2]) {
		t.Fatalf("accept page: %d", p.Status)
	}
	wantRedirect(t, dev.post("/invitations/accept", url.Values{"token": {m[2]}, "name": {"Dev"}, "password": {adminPassword}}, true),
		http.StatusSeeOther, "/")
	if p := dev.get("/"); p.Status != http.StatusOK || !strings.Contains(p.Body, "Dev") {
		t.Fatalf("after accepting: %d", p.Status)
	}
	if p := admin.get("/members"); !strings.Contains(p.Body, "<td>dev@example.com</td>") {
		t.Fatalf("members page does not show the new member")
	}
	// A used invitation does not work twice.
	other := newBrowser(t, n.URL)
	other.get("/invitations/accept?token=" + m[2])
	if p := other.post("/invitations/accept", url.Values{"token": {m[2]}, "name": {"X"}, "password": {adminPassword}}, true); p.Status == http.StatusSeeOther {
		t.Fatal("an invitation was accepted twice")
	}

	// Sessions: a second sign-in of the admin shows up, and "sign out every other session"
	// ends it.
	second := newBrowser(t, n.URL)
	second.get("/login")
	wantRedirect(t, second.post("/login", url.Values{"email": {"admin@example.com"}, "password": {adminPassword}}, true), http.StatusSeeOther, "/")
	p = admin.get("/settings/sessions")
	if c := strings.Count(p.Body, `action="/settings/sessions/revoke"`); c != 2 {
		t.Fatalf("sessions page lists %d sessions, want 2", c)
	}
	wantRedirect(t, admin.post("/settings/sessions/revoke-others", nil, true), http.StatusSeeOther, "/settings/sessions")
	wantRedirect(t, second.get("/"), http.StatusSeeOther, "/login")
	admin.get("/settings/sessions")

	// Password change: a wrong current password is refused; the right one works.
	if p := admin.post("/settings/password", url.Values{"current": {"not the password"}, "password": {"a brand new password"},
		"password2": {"a brand new password"}}, true); p.Status < 400 {
		t.Fatalf("wrong current password: %d", p.Status)
	}
	if p := admin.post("/settings/password", url.Values{"current": {adminPassword}, "password": {"a brand new password"},
		"password2": {"a brand new password"}}, true); p.Status != http.StatusOK || !strings.Contains(p.Body, "Password changed") {
		t.Fatalf("password change: %d", p.Status)
	}

	// A reset request answers the same whether or not the address has an account.
	for _, email := range []string{"admin@example.com", "nobody@example.com"} {
		anon := newBrowser(t, n.URL)
		anon.get("/reset-password")
		if p := anon.post("/reset-password", url.Values{"email": {email}}, true); p.Status != http.StatusOK ||
			!strings.Contains(p.Body, "a reset link is on its way") {
			t.Fatalf("reset request for %s: %d", email, p.Status)
		}
	}
	// A bad reset token is refused.
	anon := newBrowser(t, n.URL)
	anon.get("/reset-password?token=bogus")
	if p := anon.post("/reset-password", url.Values{"token": {"bogus"}, "password": {"yet another password"},
		"password2": {"yet another password"}}, true); p.Status < 400 {
		t.Fatalf("bogus reset token: %d", p.Status)
	}

	// Environments: add, rename, delete (only with its slug typed).
	wantRedirect(t, admin.post("/projects", url.Values{"name": {"Shop"}, "slug": {"shop"}}, true), http.StatusSeeOther, "/projects/shop")
	admin.get("/projects/shop/settings")
	wantRedirect(t, admin.post("/projects/shop/environments", url.Values{"name": {"QA"}, "slug": {"qa"}}, true),
		http.StatusSeeOther, "/projects/shop/settings")
	p = admin.get("/projects/shop/settings")
	id := regexp.MustCompile(`<input id="es-([^"]+)" form="[^"]+" name="slug" value="qa"`).FindStringSubmatch(p.Body)
	if id == nil {
		t.Fatalf("no qa environment: %.3000s", p.Body)
	}
	wantRedirect(t, admin.post("/projects/shop/environments/"+id[1], url.Values{"name": {"Quality"}, "slug": {"quality"}}, true),
		http.StatusSeeOther, "/projects/shop/settings")
	if p := admin.get("/projects/shop"); !strings.Contains(p.Body, "<th scope=\"col\">Quality</th>") {
		t.Fatal("the renamed environment is not a column of the grid")
	}
	admin.get("/projects/shop/settings")
	if p := admin.post("/projects/shop/environments/"+id[1]+"/delete", url.Values{"slug": {"quality"}, "confirm": {"qa"}}, true); p.Status != http.StatusUnprocessableEntity {
		t.Fatalf("delete without the right confirmation: %d", p.Status)
	}
	wantRedirect(t, admin.post("/projects/shop/environments/"+id[1]+"/delete", url.Values{"slug": {"quality"}, "confirm": {"quality"}}, true),
		http.StatusSeeOther, "/projects/shop/settings")
	if p := admin.get("/projects/shop"); strings.Contains(p.Body, "Quality") {
		t.Fatal("the deleted environment is still a column")
	}
}

// TestSignInWithTOTP signs in through the two-step form of an account with a second factor: the
// password step leads to the code step without a session, a wrong code is refused, the right
// one signs in, and a code step whose sealed state was tampered with or that came from another
// browser is refused.
func TestSignInWithTOTP(t *testing.T) {
	n := servertest.Start(t, store.SQLite)
	setUp(t, n)
	tok := adminToken(t, n)
	var e struct {
		Secret string `json:"secret"`
	}
	n.MustDo(t, http.MethodPost, "/api/v1/auth/totp/enroll", tok, map[string]any{}).JSON(t, &e)
	// The sign-in uses the next step's code (within the allowed skew): the confirmation's step
	// is spent and a replayed code is refused.
	step := 0 * time.Second
	code := func() string {
		c, err := identity.TOTPCode(e.Secret, time.Now().Add(step))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	n.MustDo(t, http.MethodPost, "/api/v1/auth/totp/confirm", tok, map[string]any{"code": code()})
	step = 30 * time.Second

	b := newBrowser(t, n.URL)
	b.get("/login")
	p := b.post("/login", url.Values{"email": {"admin@example.com"}, "password": {adminPassword}, "next": {"/audit"}}, true)
	state := regexp.MustCompile(`name="state" value="([^"]+)"`).FindStringSubmatch(p.Body)
	if p.Status != http.StatusOK || state == nil || strings.Contains(p.Body, adminPassword) {
		t.Fatalf("password step: %d", p.Status)
	}
	wantRedirect(t, b.get("/"), http.StatusSeeOther, "/login") // no session yet
	b.get("/login")
	if p := b.post("/login/totp", url.Values{"state": {state[1]}, "code": {"000000"}, "next": {"/audit"}}, true); p.Status != http.StatusUnauthorized {
		t.Fatalf("wrong code: %d", p.Status)
	}
	// The sealed state is bound to this browser's pre-session cookie and cannot be altered.
	other := newBrowser(t, n.URL)
	other.get("/login")
	if p := other.post("/login/totp", url.Values{"state": {state[1]}, "code": {code()}}, true); p.Status == http.StatusSeeOther {
		t.Fatal("another browser finished the sign-in with the sealed state")
	}
	bad := []byte(state[1])
	bad[len(bad)/2] ^= 1
	if p := b.post("/login/totp", url.Values{"state": {string(bad)}, "code": {code()}}, true); p.Status == http.StatusSeeOther {
		t.Fatal("a tampered state signed in")
	}
	b.get("/login")
	wantRedirect(t, b.post("/login/totp", url.Values{"state": {state[1]}, "code": {code()}, "next": {"/audit"}}, true), http.StatusSeeOther, "/audit")
	if p := b.get("/audit"); p.Status != http.StatusOK {
		t.Fatalf("after TOTP: %d", p.Status)
	}
}

var totpKeyRE = regexp.MustCompile(`<code class="key" data-value>([A-Z2-7]+)</code>`)

// TestTOTPEnrolment turns a second factor on and off from the account page, and enrols during
// the sign-in of an organization that enforces MFA.
func TestTOTPEnrolment(t *testing.T) {
	n := servertest.Start(t, store.SQLite)
	admin := setUp(t, n)
	codeAt := func(secret string, step int) string {
		c, err := identity.TOTPCode(secret, time.Now().Add(time.Duration(step)*30*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	admin.get("/settings/sessions")
	p := admin.post("/settings/totp", nil, true)
	key := totpKeyRE.FindStringSubmatch(p.Body)
	if p.Status != http.StatusOK || key == nil || !strings.Contains(p.Body, `href="otpauth://totp/`) {
		t.Fatalf("enrol page: %d", p.Status)
	}
	if p := admin.post("/settings/totp/confirm", url.Values{"code": {"000000"}, "secret": {key[1]}}, true); p.Status < 400 || !totpKeyRE.MatchString(p.Body) {
		t.Fatalf("wrong code: %d", p.Status)
	}
	p = admin.post("/settings/totp/confirm", url.Values{"code": {codeAt(key[1], 0)}}, true)
	codes := regexp.MustCompile(`(?s)<li data-value>(.*?)</li>`).FindStringSubmatch(p.Body)
	if p.Status != http.StatusOK || codes == nil || len(strings.Fields(codes[1])) != 10 {
		t.Fatalf("confirm: %d", p.Status)
	}
	if p := admin.get("/settings/sessions"); !strings.Contains(p.Body, "10 recovery codes left") {
		t.Fatal("the account page does not say TOTP is on")
	}
	if p := admin.post("/settings/totp/disable", url.Values{"password": {adminPassword}, "code": {codeAt(key[1], 1)}}, true); p.Status != http.StatusOK ||
		!strings.Contains(p.Body, "Two-factor authentication is off.") {
		t.Fatalf("disable: %d", p.Status)
	}

	// An organization that enforces MFA: a member without a second factor enrols while signing in.
	admin.get("/members")
	p = admin.post("/members/invitations", url.Values{"email": {"dev@example.com"}, "role": {"member"}}, true)
	m := regexp.MustCompile(`/invitations/accept\?token=([^<&"]+)`).FindStringSubmatch(p.Body)
	dev := newBrowser(t, n.URL)
	dev.get("/invitations/accept?token=" + m[1])
	wantRedirect(t, dev.post("/invitations/accept", url.Values{"token": {m[1]}, "name": {"Dev"}, "password": {adminPassword}}, true), http.StatusSeeOther, "/")
	admin.get("/members")
	wantRedirect(t, admin.post("/members/mfa", url.Values{"enforce": {"on"}}, true), http.StatusSeeOther, "/members")
	if p := admin.get("/members"); !strings.Contains(p.Body, `name="enforce" checked`) {
		t.Fatal("the members page does not show MFA enforced")
	}
	dev = newBrowser(t, n.URL)
	dev.get("/login")
	p = dev.post("/login", url.Values{"email": {"dev@example.com"}, "password": {adminPassword}, "next": {"/projects"}}, true)
	key = totpKeyRE.FindStringSubmatch(p.Body)
	if p.Status != http.StatusOK || key == nil || !strings.Contains(p.Body, "requires a second factor") {
		t.Fatalf("enforced enrolment page: %d", p.Status)
	}
	wantRedirect(t, dev.get("/"), http.StatusSeeOther, "/login")
	state := regexp.MustCompile(`name="state" value="([^"]+)"`).FindStringSubmatch(p.Body)
	p = dev.post("/settings/totp/confirm", url.Values{"state": {state[1]}, "next": {"/projects"}, "code": {codeAt(key[1], 0)}}, true)
	if p.Status != http.StatusOK || !strings.Contains(p.Body, `<a href="/projects">Continue</a>`) {
		t.Fatalf("enforced confirm: %d", p.Status)
	}
	if p := dev.get("/projects"); p.Status != http.StatusOK {
		t.Fatalf("signed in after enrolment: %d", p.Status)
	}
}

// TestIdentityPage creates an identity, then on its page makes a second client secret (shown
// once, and it signs in), revokes it (it no longer does), changes its project role and deletes
// it (only with its name typed).
func TestIdentityPage(t *testing.T) {
	n := servertest.Start(t, store.SQLite)
	b := setUp(t, n)
	wantRedirect(t, b.post("/projects", url.Values{"name": {"Shop"}, "slug": {"shop"}}, true), http.StatusSeeOther, "/projects/shop")
	b.get("/projects/shop")
	b.post("/projects/shop/secrets/add", url.Values{"path": {"/"}, "key": {"K"}, "value_dev": {"v1"}}, true)
	p := b.get("/identities")
	projectID := regexp.MustCompile(`<option value="([^"]+)">Shop</option>`).FindStringSubmatch(p.Body)[1]
	p = b.post("/identities", url.Values{"name": {"ci"}, "project": {projectID}, "role": {"viewer"}}, true)
	clientID := regexp.MustCompile(`id="cred-id"><code data-value>([^<]+)</code>`).FindStringSubmatch(p.Body)[1]
	id := regexp.MustCompile(`<a href="/identities/([^"]+)">ci</a>`).FindStringSubmatch(p.Body)[1]
	login := func(secret string) int {
		return n.Do(t, http.MethodPost, "/api/v1/auth/universal-auth/login", "", map[string]any{"clientId": clientID, "clientSecret": secret}).Status
	}

	page := b.get("/identities/" + id)
	if page.Header.Get("Content-Security-Policy") != web.CSP {
		t.Errorf("identity page CSP %q", page.Header.Get("Content-Security-Policy"))
	}
	if !strings.Contains(page.Body, clientID) || !strings.Contains(page.Body, `<option selected>viewer</option>`) {
		t.Fatalf("identity page: %d", page.Status)
	}
	p = b.post("/identities/"+id+"/client-secrets", url.Values{"description": {"second"}}, true)
	secret := regexp.MustCompile(`id="new-secret"><code data-value>([^<]+)</code>`).FindStringSubmatch(p.Body)
	if secret == nil {
		t.Fatalf("new client secret not shown: %d", p.Status)
	}
	if st := login(secret[1]); st != http.StatusOK {
		t.Fatalf("login with the new secret: %d", st)
	}
	if p := b.get("/identities/" + id); strings.Contains(p.Body, secret[1]) {
		t.Fatal("the client secret is shown again")
	}
	ids := regexp.MustCompile(`name="secret" value="([^"]+)"`).FindAllStringSubmatch(b.get("/identities/"+id).Body, -1)
	if len(ids) != 2 {
		t.Fatalf("%d client secrets listed, want 2", len(ids))
	}
	for _, s := range ids {
		wantRedirect(t, b.post("/identities/"+id+"/client-secrets/revoke", url.Values{"secret": {s[1]}}, true), http.StatusSeeOther, "/identities/"+id)
		b.get("/identities/" + id)
	}
	if st := login(secret[1]); st == http.StatusOK {
		t.Fatal("a revoked client secret still signs in")
	}
	wantRedirect(t, b.post("/identities/"+id+"/projects", url.Values{"project": {projectID}, "role": {"member"}}, true), http.StatusSeeOther, "/identities/"+id)
	if p := b.get("/identities/" + id); !strings.Contains(p.Body, `<option selected>member</option>`) {
		t.Fatal("the role did not change")
	}
	wantRedirect(t, b.post("/identities/"+id+"/projects", url.Values{"project": {projectID}, "role": {"none"}}, true), http.StatusSeeOther, "/identities/"+id)
	if p := b.get("/identities/" + id); !strings.Contains(p.Body, `<option value="none" selected>none</option>`) {
		t.Fatal("the role was not removed")
	}
	// A custom role made on the settings page can be given to the identity, and it works.
	b.get("/projects/shop/settings")
	if p := b.post("/projects/shop/roles", url.Values{"role_slug": {"dev-reader"}, "permissions": {"not json"}}, true); p.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(p.Body, `value="dev-reader"`) {
		t.Fatalf("bad permissions: %d", p.Status)
	}
	perms := `[{"subject":"secrets","action":["read"],"conditions":{"environment":{"$eq":"dev"}}}]`
	wantRedirect(t, b.post("/projects/shop/roles", url.Values{"role_slug": {"dev-reader"}, "role_name": {"Dev reader"}, "permissions": {perms}}, true),
		http.StatusSeeOther, "/projects/shop/settings")
	if p := b.get("/projects/shop/settings"); !strings.Contains(p.Body, "<code>dev-reader</code>") {
		t.Fatal("the role is not listed")
	}
	b.get("/identities/" + id)
	wantRedirect(t, b.post("/identities/"+id+"/projects", url.Values{"project": {projectID}, "role": {"dev-reader"}}, true), http.StatusSeeOther, "/identities/"+id)
	if p := b.get("/identities/" + id); !strings.Contains(p.Body, `<option selected>dev-reader</option>`) {
		t.Fatal("the custom role is not selected")
	}
	p = b.post("/identities/"+id+"/client-secrets", nil, true)
	secret = regexp.MustCompile(`id="new-secret"><code data-value>([^<]+)</code>`).FindStringSubmatch(p.Body)
	var tok struct {
		AccessToken string `json:"accessToken"`
	}
	n.MustDo(t, http.MethodPost, "/api/v1/auth/universal-auth/login", "", map[string]any{"clientId": clientID, "clientSecret": secret[1]}).JSON(t, &tok)
	if st := n.Do(t, http.MethodGet, "/api/v3/secrets/raw/K?workspaceId="+projectID+"&environment=dev", tok.AccessToken, nil).Status; st != http.StatusOK {
		t.Fatalf("the custom role's read in dev: %d", st)
	}
	if st := n.Do(t, http.MethodGet, "/api/v3/secrets/raw/K?workspaceId="+projectID+"&environment=prod", tok.AccessToken, nil).Status; st != http.StatusForbidden {
		t.Fatalf("the custom role's read in prod: %d, want 403", st)
	}
	// Token settings: a sign-in IP list that excludes this machine refuses the sign-in; a bad
	// entry is refused naming its field.
	b.get("/identities/" + id)
	ua := url.Values{"ttl": {"600"}, "max_ttl": {"3600"}, "uses": {"0"}, "client_ips": {"10.0.0.0/8\n192.168.1.1"}, "token_ips": {""}, "vpces": {""}}
	if p := b.post("/identities/"+id+"/universal-auth", ua, true); p.Status != http.StatusOK || !strings.Contains(p.Body, "10.0.0.0/8\n192.168.1.1/32") {
		t.Fatalf("token settings: %d", p.Status)
	}
	if st := login(secret[1]); st == http.StatusOK {
		t.Fatal("sign-in from outside the trusted IPs succeeded")
	}
	ua.Set("client_ips", "not-an-ip")
	if p := b.post("/identities/"+id+"/universal-auth", ua, true); p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "clientSecretTrustedIps") {
		t.Fatalf("bad IP: %d", p.Status)
	}
	ua.Set("client_ips", "")
	b.post("/identities/"+id+"/universal-auth", ua, true)
	if st := login(secret[1]); st != http.StatusOK {
		t.Fatalf("sign-in after the IP list was cleared: %d", st)
	}

	b.get("/projects/shop/settings")
	roleID := regexp.MustCompile(`action="/projects/shop/roles/([^"/]+)/delete"`).FindStringSubmatch(b.get("/projects/shop/settings").Body)
	if roleID == nil {
		t.Fatal("no delete form for the role")
	}

	if p := b.post("/identities/"+id+"/delete", url.Values{"confirm": {"not-ci"}}, true); p.Status != http.StatusUnprocessableEntity {
		t.Fatalf("delete without the name: %d", p.Status)
	}
	wantRedirect(t, b.post("/identities/"+id+"/delete", url.Values{"confirm": {"ci"}}, true), http.StatusSeeOther, "/identities")
	if p := b.get("/identities"); strings.Contains(p.Body, ">ci</a>") {
		t.Fatal("the identity was not deleted")
	}
	b.get("/projects/shop/settings")
	wantRedirect(t, b.post("/projects/shop/roles/"+roleID[1]+"/delete", nil, true), http.StatusSeeOther, "/projects/shop/settings")
	if p := b.get("/projects/shop/settings"); strings.Contains(p.Body, "<code>dev-reader</code>") {
		t.Fatal("the role was not deleted")
	}
}

// TestSignup checks open sign-up: offered on the sign-in page and served only when the node
// allows it, a new account lands on its projects, signed in.
func TestSignup(t *testing.T) {
	closed := servertest.Start(t, store.SQLite)
	setUp(t, closed)
	if p := newBrowser(t, closed.URL).get("/signup"); p.Status != http.StatusNotFound {
		t.Fatalf("sign-up by invitation only: /signup %d, want 404", p.Status)
	}
	if p := newBrowser(t, closed.URL).get("/login"); strings.Contains(p.Body, `href="/signup"`) {
		t.Fatal("the sign-in page offers a closed sign-up")
	}

	n := servertest.StartWith(t, store.SQLite, func(c *config.Config) { c.Signup = config.SignupOpen })
	setUp(t, n)
	b := newBrowser(t, n.URL)
	if p := b.get("/login"); !strings.Contains(p.Body, `href="/signup"`) {
		t.Fatal("the sign-in page does not offer sign-up")
	}
	b.get("/signup")
	if p := b.post("/signup", url.Values{"name": {"New"}, "email": {"new@example.com"}, "organization": {"Newco"}, "password": {"short"}}, true); p.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(p.Body, `value="new@example.com"`) {
		t.Fatalf("short password: %d", p.Status)
	}
	wantRedirect(t, b.post("/signup", url.Values{"name": {"New"}, "email": {"new@example.com"}, "organization": {"Newco"}, "password": {adminPassword}}, true),
		http.StatusSeeOther, "/projects")
	if p := b.get("/"); p.Status != http.StatusOK || !strings.Contains(p.Body, "Newco") {
		t.Fatalf("after sign-up: %d", p.Status)
	}
}
