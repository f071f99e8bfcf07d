// Package web serves Coffer's dashboard: server-rendered HTML pages (html/template, embedded)
// with htmx for partial updates, under / on the same node as the API. Pages call the services
// directly, so authorization, validation and audit are exactly the API's. Every HTML response
// carries a strict Content-Security-Policy; pages have no inline scripts or styles; every form
// carries a CSRF token and an unsafe request without it is refused. A secret value reaches a page
// only when the user asks to reveal or edit it, never in a log or an error.
package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/audit"
	"github.com/cofferhq/coffer/internal/httpserver"
	"github.com/cofferhq/coffer/internal/identity"
	"github.com/cofferhq/coffer/internal/members"
	"github.com/cofferhq/coffer/internal/projects"
	"github.com/cofferhq/coffer/internal/secrets"
)

//go:embed templates/*.html templates/partials/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// CSP is the Content-Security-Policy of every dashboard response.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; " +
	"base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// Web holds the services the pages call.
type Web struct {
	Log      *slog.Logger
	Secrets  *secrets.Service
	Identity *identity.Service
	Projects *projects.Service
	Members  *members.Service
	Audit    *audit.Reader
	// Sessions sets the session cookie and makes CSRF tokens (the API's settings).
	Sessions httpserver.Sessions
	// Bootstrapped reports whether the instance has its first user (first-run setup is offered
	// until it has).
	Bootstrapped func(ctx context.Context) (bool, error)

	pages map[string]*template.Template
}

// Mux is where Routes registers the pages.
type Mux interface {
	Handle(pattern string, handler http.Handler)
}

// handlerFunc is a page handler; a returned error is rendered as an error page.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// Routes parses the templates and registers every page of the dashboard on mux.
func (wb *Web) Routes(mux Mux) error {
	if err := wb.parse(); err != nil {
		return err
	}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return err
	}
	files := http.StripPrefix("/static/", http.FileServerFS(static))
	mux.Handle("GET /static/", securityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})))
	page := func(pattern string, f handlerFunc) { mux.Handle(pattern, securityHeaders(wb.adapt(f))) }
	user := func(pattern string, f handlerFunc) { page(pattern, wb.requireUser(f)) }

	// Signed out: sign-in, first-run setup.
	page("GET /login", wb.loginPage)
	page("POST /login", wb.login)
	page("POST /login/totp", wb.loginTOTP)
	page("GET /signup", wb.signupPage)
	page("POST /signup", wb.signup)
	page("GET /setup", wb.setupPage)
	page("POST /setup", wb.setup)
	user("POST /logout", wb.logout)
	// Where e-mailed links lead (account.go).
	page("GET /reset-password", wb.resetPasswordPage)
	page("POST /reset-password", wb.resetPassword)
	page("GET /invitations/accept", wb.acceptInvitationPage)
	page("POST /invitations/accept", wb.acceptInvitation)
	user("GET /settings/sessions", wb.sessionsPage)
	user("POST /settings/sessions/revoke", wb.revokeSession)
	user("POST /settings/sessions/revoke-others", wb.revokeOtherSessions)
	user("POST /settings/password", wb.changePassword)
	user("POST /settings/totp", wb.startEnrolment)
	page("POST /settings/totp/confirm", wb.confirmEnrolment) // also during an MFA-enforced sign-in
	user("POST /settings/totp/disable", wb.disableTOTP)

	// Signed in.
	user("GET /{$}", wb.overview)
	user("GET /projects", wb.projectsPage)
	user("POST /projects", wb.createProject)
	user("GET /projects/{slug}", wb.secretsGrid)
	user("GET /projects/{slug}/reveal", wb.reveal)
	user("GET /projects/{slug}/edit", wb.editPage)
	user("POST /projects/{slug}/secrets", wb.saveSecret)
	user("POST /projects/{slug}/secrets/add", wb.addSecret)
	user("POST /projects/{slug}/secrets/delete", wb.deleteSecret)
	user("POST /projects/{slug}/secrets/paste", wb.pasteSecrets)
	user("POST /projects/{slug}/folders", wb.createFolder)
	user("POST /projects/{slug}/imports", wb.createImport)
	user("POST /projects/{slug}/imports/delete", wb.deleteImport)
	user("GET /projects/{slug}/history", wb.history)
	user("POST /projects/{slug}/rollback", wb.rollback)
	user("GET /projects/{slug}/settings", wb.projectSettings)
	user("POST /projects/{slug}/environments", wb.createEnvironment)
	user("POST /projects/{slug}/environments/{envId}", wb.updateEnvironment)
	user("POST /projects/{slug}/environments/{envId}/delete", wb.deleteEnvironment)
	user("POST /projects/{slug}/roles", wb.createRole)
	user("POST /projects/{slug}/roles/{roleId}/delete", wb.deleteRole)
	user("POST /projects/{slug}/tags", wb.createTag)
	user("POST /projects/{slug}/tags/{tagId}/delete", wb.deleteTag)
	user("GET /projects/{slug}/keys", wb.keysPartial)
	user("POST /projects/{slug}/keys/rotate", wb.rotateKey)
	user("GET /projects/{slug}/members", wb.projectMembers) // members_project.go
	user("POST /projects/{slug}/members", wb.addProjectMember)
	user("POST /projects/{slug}/members/{membershipId}/role", wb.setProjectMemberRole)
	user("POST /projects/{slug}/members/{membershipId}/remove", wb.removeProjectMember)
	user("GET /members", wb.membersPage)
	user("POST /members/invitations", wb.invite)
	user("POST /members/mfa", wb.setEnforceMFA)
	user("POST /members/invitations/{id}/revoke", wb.revokeInvitation)
	user("POST /members/{userId}/role", wb.setMemberRole)
	user("POST /members/{userId}/remove", wb.removeMember)
	user("GET /identities", wb.identitiesPage)
	user("POST /identities", wb.createIdentity)
	user("GET /identities/{id}", wb.identityPage)
	user("POST /identities/{id}/universal-auth", wb.updateUniversalAuth)
	user("POST /identities/{id}/client-secrets", wb.newClientSecret)
	user("POST /identities/{id}/client-secrets/revoke", wb.revokeClientSecret)
	user("POST /identities/{id}/projects", wb.setIdentityRole)
	user("POST /identities/{id}/delete", wb.deleteIdentity)
	user("GET /audit", wb.auditPage)
	return nil
}

// securityHeaders sets the headers every dashboard response carries.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		SetSecurityHeaders(w.Header())
		h.ServeHTTP(w, r)
	})
}

// SetSecurityHeaders sets the Content-Security-Policy and the other security headers of a
// dashboard response.
func SetSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", CSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
}

// errFormExpired answers a form the middleware refused (httpserver.Refused): posted with a
// missing or stale CSRF token, most often from a page opened in an earlier session.
var errFormExpired = coffer.Errorf(coffer.EFORBIDDEN,
	"This form has expired (it was opened in an earlier session) and nothing was changed: reload the page and try again")

// adapt turns a page handler into an http.Handler that renders its error as an HTML page. A
// request the middleware refused gets the error page without reaching the handler.
func (wb *Web) adapt(f handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if httpserver.Refused(r.Context()) != nil {
			wb.renderError(w, r, errFormExpired)
			return
		}
		if err := f(w, r); err != nil {
			wb.renderError(w, r, err)
		}
	})
}

// requireUser sends a request without a user session to the sign-in page (303), or refuses an
// unsafe one (a form posted after its session ended) with 403.
func (wb *Web) requireUser(f handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		a := coffer.ActorFromContext(r.Context())
		if a == nil || !httpserver.FromCookie(r.Context()) {
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				return coffer.Errorf(coffer.EFORBIDDEN, "Your session has ended: sign in again")
			}
			target := "/login"
			if r.URL.Path != "/" {
				target += "?next=" + url.QueryEscape(r.URL.RequestURI())
			}
			http.Redirect(w, r, target, http.StatusSeeOther)
			return nil
		}
		return f(w, r)
	}
}

// renderError shows err as a page: its message for the user's own mistakes, "Something went
// wrong" (and a log line with the request id) for the rest.
func (wb *Web) renderError(w http.ResponseWriter, r *http.Request, err error) {
	code := coffer.ErrorCode(err)
	status := httpserver.StatusOf(code)
	msg := coffer.ErrorMessage(err)
	if code == coffer.EINTERNAL || status >= 500 {
		wb.Log.ErrorContext(r.Context(), "dashboard error", "req_id", httpserver.RequestID(r.Context()),
			"method", r.Method, "path", r.URL.Path, "error", err.Error())
		msg = "Something went wrong (request " + httpserver.RequestID(r.Context()) + ")"
	}
	wb.render(w, r, status, "error", &view{Title: http.StatusText(status), Error: msg})
}

// view is what every page template gets.
type view struct {
	Title  string
	CSRF   string
	User   string // the signed-in user's name; "" when signed out
	Nav    string // the active section
	Error  string
	Notice string
	D      any // the page's own data
}

var funcs = template.FuncMap{
	"fmtTime": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	"join":         strings.Join,
	"inc":          func(n int) int { return n + 1 },
	"orgRoles":     func() []string { return orgRoles },
	"projectRoles": func() []string { return projectRoles },
	"cellOf": func(base, path string, c gridCell) cellData {
		return cellData{Base: base, Path: path, Cell: c}
	},
}

// parse parses every page: the layout and the shared partials with the page's own file.
func (wb *Web) parse() error {
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials/*.html")
	if err != nil {
		return err
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return err
	}
	wb.pages = map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return fmt.Errorf("template %s: %w", name, err)
		}
		wb.pages[name] = t
	}
	return nil
}

// render renders page into a buffer, then writes it with status: a template error becomes a
// 500, never half a page.
func (wb *Web) render(w http.ResponseWriter, r *http.Request, status int, page string, v *view) {
	wb.renderTemplate(w, r, status, page, "layout", v)
}

// renderPartial renders the template named block of page alone (an htmx swap) with data.
func (wb *Web) renderPartial(w http.ResponseWriter, r *http.Request, page, block string, data any) {
	wb.renderTemplate(w, r, http.StatusOK, page, block, data)
}

func (wb *Web) renderTemplate(w http.ResponseWriter, r *http.Request, status int, page, block string, data any) {
	t := wb.pages[page]
	if t == nil {
		wb.Log.ErrorContext(r.Context(), "dashboard: no such template", "page", page)
		http.Error(w, "Something went wrong", http.StatusInternalServerError)
		return
	}
	if v, ok := data.(*view); ok {
		if v.CSRF == "" {
			v.CSRF = httpserver.CSRFToken(r)
		}
		if v.User == "" && block == "layout" && httpserver.FromCookie(r.Context()) {
			if me, err := wb.Identity.Whoami(r.Context()); err == nil {
				v.User = me.Name
			}
		}
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, block, data); err != nil {
		wb.Log.ErrorContext(r.Context(), "dashboard: render", "page", page, "error", err.Error())
		http.Error(w, "Something went wrong", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes()) //nolint:errcheck // the client went away
}

// isHTMX reports whether the request is an htmx partial request.
func isHTMX(r *http.Request) bool { return r.Header.Get("HX-Request") == "true" }

// redirect answers a form post with 303 to target.
func redirect(w http.ResponseWriter, r *http.Request, target string) error {
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

// userMessage is the message of err to show next to a form: the error's own message for
// mistakes the user can fix, nil for the rest (the caller returns those).
func userMessage(err error) (string, bool) {
	var ce *coffer.Error
	if !errors.As(err, &ce) {
		return "", false
	}
	switch ce.Code {
	case coffer.EINVALID, coffer.EVALIDATION, coffer.ECONFLICT, coffer.ENOTFOUND, coffer.EFORBIDDEN,
		coffer.EUNAUTHORIZED, coffer.ERATELIMIT, coffer.ETOOLARGE:
		return ce.Message, true
	}
	return "", false
}
