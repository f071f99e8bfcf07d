package web_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/cofferhq/coffer/internal/servertest"
	"github.com/cofferhq/coffer/internal/store"
)

// chromium returns the path of Debian's Chromium (scripts/test-deps.sh installs it), or
// $COFFER_TEST_CHROMIUM. Without one the test skips, or fails under CI=true.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("COFFER_TEST_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed (run scripts/test-deps.sh); CI=true forbids skipping the browser test")
	}
	t.Skip("SKIPPING the browser test: chromium is not installed (run scripts/test-deps.sh)")
	return ""
}

// artifactsDir is where the screenshots go: $COFFER_TEST_ARTIFACTS, or a new directory in the
// system's temp dir that outlives the test. Its path is printed.
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("COFFER_TEST_ARTIFACTS")
	var err error
	if dir == "" {
		dir, err = os.MkdirTemp("", "coffer-web-screenshots-")
	} else {
		dir = filepath.Join(dir, "web")
		err = os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots: %s", dir)
	fmt.Fprintf(os.Stderr, "web: screenshots in %s\n", dir)
	return dir
}

// TestBrowser drives Chromium through the dashboard as a new user would: first-run setup,
// a project, secrets in two environments compared in the grid, reveal, edit, roll back, an
// identity that then reads the secret through the API, the audit log, sign-out and sign-in.
// Any Content-Security-Policy violation or JavaScript error fails it.
func TestBrowser(t *testing.T) {
	exe := chromium(t)
	n := servertest.Start(t, store.SQLite)
	shots := artifactsDir(t)

	// A fresh profile. Not t.TempDir: Chromium's helper processes may still write to it for a
	// moment after the browser exits, which would fail the test's own cleanup.
	profile, err := os.MkdirTemp("", "coffer-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for range 10 {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile), chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	defer cancelTimeout()

	var mu sync.Mutex
	var problems []string
	chromedp.ListenTarget(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *log.EventEntryAdded:
			if e.Entry.Level == log.LevelError {
				problems = append(problems, "console: "+e.Entry.Text+" "+e.Entry.URL)
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+e.ExceptionDetails.Text)
		}
	})

	run := func(step string, actions ...chromedp.Action) {
		t.Helper()
		if err := chromedp.Run(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	shot := func(name string) {
		t.Helper()
		var png []byte
		run("screenshot "+name, chromedp.FullScreenshot(&png, 100))
		if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	html := func() string {
		t.Helper()
		var s string
		run("read page", chromedp.OuterHTML("html", &s, chromedp.ByQuery))
		return s
	}
	location := func() string {
		t.Helper()
		var s string
		run("location", chromedp.Location(&s))
		return strings.TrimPrefix(s, n.URL)
	}

	// First run: / leads to the setup page.
	run("open", chromedp.Navigate(n.URL+"/"), chromedp.WaitVisible("#organization", chromedp.ByQuery))
	if loc := location(); loc != "/setup" {
		t.Fatalf("/ led to %s, want /setup", loc)
	}
	shot("01-setup")
	run("set up",
		chromedp.SendKeys("#organization", "Acme", chromedp.ByQuery),
		chromedp.SendKeys("#email", "admin@example.com", chromedp.ByQuery),
		chromedp.SendKeys("#password", adminPassword, chromedp.ByQuery),
		chromedp.SendKeys("#password2", adminPassword, chromedp.ByQuery),
		chromedp.Click(`form[action="/setup"] button`, chromedp.ByQuery),
		chromedp.WaitVisible("#pname", chromedp.ByQuery))
	shot("02-projects-empty")

	// A project; secrets in dev and prod that differ, and one missing from prod.
	run("create project",
		chromedp.SendKeys("#pname", "Shop", chromedp.ByQuery),
		chromedp.SendKeys("#pslug", "shop", chromedp.ByQuery),
		chromedp.Click(`form[action="/projects"] button`, chromedp.ByQuery),
		chromedp.WaitVisible("#newkey", chromedp.ByQuery))
	const devValue, prodValue, edited = "postgres://dev.internal/shop", "postgres://prod.internal/shop", "postgres://dev2.internal/shop"
	run("add DB_URL",
		chromedp.SendKeys("#newkey", "DB_URL", chromedp.ByQuery),
		chromedp.SendKeys("#nv-dev", devValue, chromedp.ByQuery),
		chromedp.SendKeys("#nv-prod", prodValue, chromedp.ByQuery),
		chromedp.Click(`form.addrow button`, chromedp.ByQuery),
		chromedp.WaitVisible(`#cell-dev-DB_URL`, chromedp.ByQuery))
	run("paste a .env into dev",
		chromedp.SetValue("#pasteenv", "dev", chromedp.ByQuery),
		chromedp.SendKeys("#dotenv", "STRIPE_KEY=sk_test_123\nLOG_LEVEL=debug\n", chromedp.ByQuery),
		chromedp.Click(`form[action="/projects/shop/secrets/paste"] button`, chromedp.ByQuery),
		chromedp.WaitVisible(`#cell-dev-STRIPE_KEY`, chromedp.ByQuery))
	page := html()
	for _, v := range []string{devValue, prodValue, "sk_test_123"} {
		if strings.Contains(page, v) {
			t.Fatalf("the grid shows a value before it is revealed")
		}
	}
	if !strings.Contains(page, "differs") || !strings.Contains(page, `class="badge miss"`) {
		t.Fatalf("the grid does not mark differing and missing values")
	}
	shot("03-grid")

	// Reveal (htmx swaps the cell in place), then edit inline.
	var text string
	run("reveal",
		chromedp.Click(`#cell-prod-DB_URL a[aria-label^="Reveal"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#cell-prod-DB_URL code.value`, chromedp.ByQuery),
		chromedp.Text(`#cell-prod-DB_URL code.value`, &text, chromedp.ByQuery))
	if text != prodValue {
		t.Fatalf("revealed %q", text)
	}
	if loc := location(); loc != "/projects/shop" {
		t.Fatalf("reveal navigated to %s; htmx should swap the cell", loc)
	}
	shot("04-grid-revealed")
	run("edit",
		chromedp.Click(`#cell-dev-DB_URL a[aria-label^="Edit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#val-dev-DB_URL`, chromedp.ByQuery))
	var focused string
	run("focus", chromedp.Evaluate(`document.activeElement.id`, &focused))
	if focused != "val-dev-DB_URL" {
		t.Errorf("after the inline edit opened, the focus is on %q, want the value field", focused)
	}
	shot("05-edit-inline")
	run("save",
		chromedp.SetValue(`#val-dev-DB_URL`, edited, chromedp.ByQuery),
		chromedp.Click(`form.edit button.primary`, chromedp.ByQuery),
		chromedp.WaitVisible(`#cell-dev-DB_URL a[aria-label^="Reveal"]`, chromedp.ByQuery),
		chromedp.Click(`#cell-dev-DB_URL a[aria-label^="Reveal"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#cell-dev-DB_URL code.value`, chromedp.ByQuery),
		chromedp.Text(`#cell-dev-DB_URL code.value`, &text, chromedp.ByQuery))
	if text != edited {
		t.Fatalf("after edit: %q", text)
	}

	// History with the diff, and roll back to version 1.
	run("history",
		chromedp.Click(`#cell-dev-DB_URL a[aria-label^="History"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`ol.versions`, chromedp.ByQuery),
		chromedp.Click(`a[href*="reveal=1"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`pre.diff`, chromedp.ByQuery))
	shot("06-history")
	run("roll back",
		chromedp.Click(`form[action="/projects/shop/rollback"] button`, chromedp.ByQuery),
		chromedp.WaitVisible(`#cell-dev-DB_URL a[aria-label^="Reveal"]`, chromedp.ByQuery),
		chromedp.Click(`#cell-dev-DB_URL a[aria-label^="Reveal"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#cell-dev-DB_URL code.value`, chromedp.ByQuery),
		chromedp.Text(`#cell-dev-DB_URL code.value`, &text, chromedp.ByQuery))
	if text != devValue {
		t.Fatalf("after rollback: %q", text)
	}

	// The grid in dark mode, for the eye.
	run("dark", emulation.SetEmulatedMedia().WithFeatures([]*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}),
		chromedp.Navigate(n.URL+"/projects/shop"), chromedp.WaitVisible("#grid", chromedp.ByQuery))
	shot("07-grid-dark")
	run("light", emulation.SetEmulatedMedia().WithFeatures([]*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "light"}}))

	// An identity with read access to the project: its client secret is shown once and works.
	var projectID string
	run("identities", chromedp.Navigate(n.URL+"/identities"), chromedp.WaitVisible("#iname", chromedp.ByQuery),
		chromedp.Value(`#iproject option:nth-child(2)`, &projectID, chromedp.ByQuery))
	var clientID, clientSecret string
	run("create identity",
		chromedp.SendKeys("#iname", "ci-deploy", chromedp.ByQuery),
		chromedp.SetValue("#iproject", projectID, chromedp.ByQuery),
		chromedp.SetValue("#irole", "viewer", chromedp.ByQuery),
		chromedp.Click(`form[action="/identities"] button`, chromedp.ByQuery),
		chromedp.WaitVisible(`#cred-secret code`, chromedp.ByQuery),
		chromedp.Text(`#cred-id code`, &clientID, chromedp.ByQuery),
		chromedp.Text(`#cred-secret code`, &clientSecret, chromedp.ByQuery))
	shot("08-identity-created")
	// The commands the page shows, pasted into a shell with the coffer binary, read the secrets.
	var steps string
	run("commands", chromedp.Text(`#cli-steps`, &steps, chromedp.ByQuery))
	lines := strings.Split(strings.TrimSpace(steps), "\n")
	if len(lines) != 4 || !strings.Contains(steps, clientSecret) || !strings.Contains(steps, projectID) {
		t.Fatalf("the commands shown: %q", steps)
	}
	bin := cofferBinary(t)
	sh := exec.Command("sh", "-c", strings.Join(lines[:3], "\n"))
	sh.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+":"+os.Getenv("PATH"), "HOME="+t.TempDir(), "XDG_CONFIG_HOME="+t.TempDir(),
		"XDG_CACHE_HOME="+t.TempDir())
	out, err := sh.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "DB_URL") || !strings.Contains(string(out), devValue) {
		t.Fatalf("the shown commands: %v\n%s", err, out)
	}
	if strings.Contains(func() string {
		run("reload", chromedp.Navigate(n.URL+"/identities"), chromedp.WaitVisible("#iname", chromedp.ByQuery))
		return html()
	}(), clientSecret) {
		t.Fatal("the client secret is shown again")
	}

	// The audit log, filtered to secret updates.
	if err := n.Server.Audit.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	run("audit", chromedp.Navigate(n.URL+"/audit"), chromedp.WaitVisible("#fact", chromedp.ByQuery))
	if page := html(); !strings.Contains(page, "ci-deploy") {
		t.Fatal("the audit log does not show the identity's read")
	}
	run("filter audit", chromedp.SendKeys("#fact", "secret.update", chromedp.ByQuery),
		chromedp.Click(`form.filters button`, chromedp.ByQuery), chromedp.WaitVisible(`#fact[value="secret.update"]`, chromedp.ByQuery))
	if loc := location(); !strings.Contains(loc, "action=secret.update") {
		t.Fatalf("filter: %s", loc)
	}
	page = html()
	if !strings.Contains(page, "<code>secret.update</code>") || strings.Contains(page, "<code>secret.create</code>") {
		t.Fatal("the action filter does not filter")
	}
	shot("09-audit")

	// The other pages, for the eye.
	run("members", chromedp.Navigate(n.URL+"/members"), chromedp.WaitVisible("#memail", chromedp.ByQuery),
		chromedp.SendKeys("#memail", "dev@example.com", chromedp.ByQuery),
		chromedp.Click(`form[action="/members/invitations"] button`, chromedp.ByQuery),
		chromedp.WaitVisible("#invite-link", chromedp.ByQuery))
	shot("10-members")
	run("sessions", chromedp.Navigate(n.URL+"/settings/sessions"), chromedp.WaitVisible("#current", chromedp.ByQuery))
	shot("11-sessions")
	run("environments", chromedp.Navigate(n.URL+"/projects/shop/settings"), chromedp.WaitVisible("#nen", chromedp.ByQuery))
	shot("12-environments")
	run("project members", chromedp.Navigate(n.URL+"/projects/shop/members"),
		chromedp.WaitVisible(`#project-identities`, chromedp.ByQuery))
	shot("12b-project-members")

	// Sign out, then sign in again through the sign-in page.
	run("sign out", chromedp.Click(`form.signout button`, chromedp.ByQuery), chromedp.WaitVisible("#password", chromedp.ByQuery))
	shot("13-login")
	run("sign in",
		chromedp.SendKeys("#email", "admin@example.com", chromedp.ByQuery),
		chromedp.SendKeys("#password", adminPassword, chromedp.ByQuery),
		chromedp.Click(`form[action="/login"] button`, chromedp.ByQuery),
		chromedp.WaitVisible(`ul.cards`, chromedp.ByQuery))
	shot("14-overview")

	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Errorf("browser: %s", p)
	}
}

// cofferBinary builds the coffer command into a temporary directory.
func cofferBinary(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "coffer-bin-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin := filepath.Join(dir, "coffer")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/cofferhq/coffer/cmd/coffer").CombinedOutput(); err != nil {
		t.Fatalf("build coffer: %v\n%s", err, out)
	}
	return bin
}
