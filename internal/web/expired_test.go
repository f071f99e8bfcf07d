package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/internal/servertest"
	"github.com/cofferhq/coffer/internal/store"
	"github.com/cofferhq/coffer/internal/web"
)

// TestExpiredForm posts a form with the CSRF token of an earlier session: the dashboard answers
// with its error page (403, HTML, with the CSP) saying to reload, and nothing changes; the same
// token on an API path still gets the API's JSON error.
func TestExpiredForm(t *testing.T) {
	n := servertest.Start(t, store.SQLite)
	b := setUp(t, n)
	stale := b.csrf
	wantRedirect(t, b.post("/logout", nil, true), http.StatusSeeOther, "/login")
	b.get("/login")
	wantRedirect(t, b.post("/login", url.Values{"email": {"admin@example.com"}, "password": {adminPassword}}, true), http.StatusSeeOther, "/")
	b.get("/projects")
	if b.csrf == stale || b.csrf == "" {
		t.Fatal("the new session has the old session's CSRF token")
	}

	for _, form := range []url.Values{{"csrf_token": {stale}}, {}} {
		form.Set("name", "Stale")
		form.Set("slug", "stale")
		p := b.post("/projects", form, false)
		if p.Status != http.StatusForbidden || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") ||
			p.Header.Get("Content-Security-Policy") != web.CSP || p.Header.Get("X-Frame-Options") != "DENY" {
			t.Fatalf("stale form: %d %q CSP %q", p.Status, p.Header.Get("Content-Type"), p.Header.Get("Content-Security-Policy"))
		}
		if !strings.Contains(p.Body, `role="alert">This form has expired`) || !strings.Contains(p.Body, "reload the page") ||
			!strings.Contains(p.Body, `<link rel="stylesheet" href="/static/app.css">`) {
			t.Fatalf("stale form page:\n%s", p.Body)
		}
	}
	if p := b.get("/projects"); p.Status != http.StatusOK || strings.Contains(p.Body, "Stale") {
		t.Fatalf("a project was created with a stale token (%d)", p.Status)
	}

	// The API keeps its JSON error, in the header or the form.
	for _, header := range []bool{true, false} {
		req, _ := http.NewRequest(http.MethodPost, n.URL+"/api/v1/auth/logout", strings.NewReader(url.Values{"csrf_token": {stale}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if header {
			req.Header.Set("X-CSRF-Token", stale)
		}
		res, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			StatusCode int    `json:"statusCode"`
			Error      string `json:"error"`
			Message    string `json:"message"`
		}
		err = json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden || res.Header.Get("Content-Type") != "application/json; charset=utf-8" || err != nil ||
			body.StatusCode != http.StatusForbidden || body.Error != "PermissionDenied" || !strings.Contains(body.Message, "CSRF") {
			t.Fatalf("API with a stale token: %d %q %+v (%v)", res.StatusCode, res.Header.Get("Content-Type"), body, err)
		}
	}
	if p := b.get("/projects"); p.Status != http.StatusOK {
		t.Fatalf("the refused API logout signed out: %d", p.Status)
	}
}
