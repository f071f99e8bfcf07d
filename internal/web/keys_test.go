package web_test

import (
	"database/sql"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/servertest"
	"github.com/cofferhq/coffer/internal/store"
)

// The settings page shows the project's data key; rotating it from the page makes key 2
// current, the section follows the re-encryption (htmx partial) and ends with key 1 destroyed,
// and the secrets read the same.
func TestKeyRotationPage(t *testing.T) {
	n := servertest.Start(t, store.SQLite)
	b := setUp(t, n)
	wantRedirect(t, b.post("/projects", url.Values{"name": {"Shop"}, "slug": {"shop"}}, true), http.StatusSeeOther, "/projects/shop")
	for _, k := range []string{"A", "B", "C"} {
		b.post("/projects/shop/secrets/add", url.Values{"key": {k}, "value_dev": {"value-" + k}, "path": {"/"}}, true)
	}
	p := b.get("/projects/shop/settings")
	if !strings.Contains(p.Body, "<strong>key 1</strong>") || !strings.Contains(p.Body, `action="/projects/shop/keys/rotate"`) {
		t.Fatalf("settings page without the key section: %.2000s", p.Body)
	}
	wantRedirect(t, b.post("/projects/shop/keys/rotate", nil, true), http.StatusSeeOther, "/projects/shop/settings#keyh")

	deadline := time.Now().Add(30 * time.Second)
	for {
		p = b.htmx("/projects/shop/keys")
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "<strong>key 2</strong>") {
			t.Fatalf("key section after rotation: %d %.2000s", p.Status, p.Body)
		}
		if strings.Contains(p.Body, "<td>destroyed ") {
			break
		}
		if !strings.Contains(p.Body, `hx-trigger="every 2s"`) {
			t.Fatalf("key section while re-encrypting does not poll: %.2000s", p.Body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("key 1 not destroyed in 30 s: %.2000s", p.Body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if strings.Contains(p.Body, "hx-trigger") || strings.Contains(p.Body, "<html") {
		t.Errorf("finished key section still polls, or is a whole page: %.2000s", p.Body)
	}
	for _, k := range []string{"A", "B", "C"} {
		if p := b.htmx("/projects/shop/reveal?env=dev&key=" + k); !strings.Contains(p.Body, "value-"+k) {
			t.Errorf("%s after rotation: %.500s", k, p.Body)
		}
	}
	// Without htmx the partial's address leads to the page.
	wantRedirect(t, b.get("/projects/shop/keys"), http.StatusSeeOther, "/projects/shop/settings#keyh")
}

// A re-seal stopped by a row that no longer opens shows the job's error on the page, and the
// rotate button stays disabled while the job retries.
func TestKeyRotationPageShowsAStuckReseal(t *testing.T) {
	n := servertest.Start(t, store.SQLite)
	b := setUp(t, n)
	wantRedirect(t, b.post("/projects", url.Values{"name": {"Shop"}, "slug": {"shop"}}, true), http.StatusSeeOther, "/projects/shop")
	b.post("/projects/shop/secrets/add", url.Values{"key": {"BROKEN"}, "value_dev": {"broken-value"}, "path": {"/"}}, true)
	db, err := sql.Open("sqlite", "file:"+n.DSN+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ct []byte
	if err := db.QueryRow(`SELECT value FROM secrets WHERE name = 'BROKEN'`).Scan(&ct); err != nil {
		t.Fatal(err)
	}
	ct[len(ct)-1] ^= 1
	if _, err := db.Exec(`UPDATE secrets SET value = ? WHERE name = 'BROKEN'`, ct); err != nil {
		t.Fatal(err)
	}
	b.get("/projects/shop/settings")
	wantRedirect(t, b.post("/projects/shop/keys/rotate", nil, true), http.StatusSeeOther, "/projects/shop/settings#keyh")
	deadline := time.Now().Add(30 * time.Second)
	for {
		p := b.htmx("/projects/shop/keys")
		if strings.Contains(p.Body, "The last attempt to re-encrypt failed") {
			if !strings.Contains(p.Body, "message authentication failed") || !strings.Contains(p.Body, " disabled>") ||
				strings.Contains(p.Body, "broken-value") {
				t.Errorf("stuck re-seal section: %.3000s", p.Body)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no error shown in 30 s: %.3000s", p.Body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
