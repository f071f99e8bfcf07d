package server_test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/audit"
	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/servertest"
)

// auditLog is an event as GET /api/v1/audit-logs answers it.
type auditLog struct {
	ID    string `json:"id"`
	Seq   int64  `json:"seq"`
	Actor struct {
		Type     string         `json:"type"`
		Metadata map[string]any `json:"metadata"`
	} `json:"actor"`
	Event struct {
		Type     string         `json:"type"`
		Metadata map[string]any `json:"metadata"`
	} `json:"event"`
	IPAddress   string   `json:"ipAddress"`
	UserAgent   string   `json:"userAgent"`
	OrgID       string   `json:"orgId"`
	ProjectID   string   `json:"projectId"`
	Environment string   `json:"environment"`
	SecretPath  string   `json:"secretPath"`
	SecretKeys  []string `json:"secretKeys"`
	Outcome     string   `json:"outcome"`
	RequestID   string   `json:"requestId"`
	CreatedAt   string   `json:"createdAt"`
}

func (l auditLog) actorID() string {
	for _, k := range []string{"identityId", "userId"} {
		if v, _ := l.Actor.Metadata[k].(string); v != "" {
			return v
		}
	}
	return ""
}

// auditPage gets one page of audit events.
func auditPage(t *testing.T, n *servertest.Node, token, query string) ([]auditLog, string) {
	t.Helper()
	var out struct {
		AuditLogs  []auditLog `json:"auditLogs"`
		NextCursor string     `json:"nextCursor"`
	}
	n.MustDo(t, http.MethodGet, "/api/v1/audit-logs?"+query, token, nil).JSON(t, &out)
	return out.AuditLogs, out.NextCursor
}

func findEvents(logs []auditLog, action string) []auditLog {
	var out []auditLog
	for _, l := range logs {
		if l.Event.Type == action {
			out = append(out, l)
		}
	}
	return out
}

// TestAuditLogEndToEnd drives changes, reads, denials and sign-ins through the API and checks
// the events each leaves, that no value reaches the log, paging, filters and who may read it.
func TestAuditLogEndToEnd(t *testing.T) {
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		streamFile := filepath.Join(t.TempDir(), "audit.jsonl")
		n := servertest.StartWith(t, dialect, func(c *config.Config) { c.AuditStreamFile = streamFile })
		admin := n.Bootstrap(t)
		p := n.NewProject(t, admin, "web", "member")
		viewerID, _, _, viewerToken := n.NewIdentity(t, admin, "auditor-viewer", "no-access")
		n.MustDo(t, http.MethodPost, fmt.Sprintf("/api/v2/workspace/%s/identity-memberships/%s", p.ID, viewerID), admin.Token, map[string]any{"role": "viewer"})
		padminID, _, _, padminToken := n.NewIdentity(t, admin, "project-admin", "no-access")
		n.MustDo(t, http.MethodPost, fmt.Sprintf("/api/v2/workspace/%s/identity-memberships/%s", p.ID, padminID), admin.Token, map[string]any{"role": "admin"})

		b := make([]byte, 12)
		rand.Read(b)
		planted := "planted-" + hex.EncodeToString(b)
		scope := func(kv ...any) map[string]any {
			m := map[string]any{"workspaceId": p.ID, "environment": "dev", "secretPath": "/", "type": "shared"}
			for i := 0; i+1 < len(kv); i += 2 {
				m[kv[i].(string)] = kv[i+1]
			}
			return m
		}
		q := url.Values{"workspaceId": {p.ID}, "environment": {"dev"}, "secretPath": {"/"}}.Encode()

		// Changes by the member identity.
		n.MustDo(t, http.MethodPost, "/api/v3/secrets/raw/DB_PASSWORD", p.Token, scope("secretValue", planted+"-1", "secretComment", planted+"-c"))
		n.MustDo(t, http.MethodPost, "/api/v4/secrets/batch", p.Token, map[string]any{"projectId": p.ID, "environment": "dev", "secretPath": "/",
			"secrets": []map[string]any{{"secretKey": "API_KEY", "secretValue": planted + "-2"}}})
		n.MustDo(t, http.MethodPatch, "/api/v3/secrets/raw/API_KEY", p.Token, scope("secretValue", planted+"-3"))
		n.MustDo(t, http.MethodPost, "/api/v1/folders", p.Token, map[string]any{"workspaceId": p.ID, "environment": "dev", "path": "/", "name": "app"})
		n.MustDo(t, http.MethodDelete, "/api/v3/secrets/raw/DB_PASSWORD", p.Token, scope())
		// Reads by the machine identity: the listing twice (the second from the cache).
		for range 2 {
			n.MustDo(t, http.MethodGet, "/api/v3/secrets/raw?"+q, p.Token, nil)
		}
		n.MustDo(t, http.MethodGet, "/api/v3/secrets/raw/API_KEY?"+q, p.Token, nil)
		// A denial, failed and successful sign-ins.
		if r := n.Do(t, http.MethodPost, "/api/v3/secrets/raw/NOPE", viewerToken, scope("secretValue", planted+"-4")); r.Status != http.StatusForbidden {
			t.Fatalf("viewer create: %d %s", r.Status, r.Body)
		}
		if r := n.Do(t, http.MethodPost, "/api/v1/auth/universal-auth/login", "", map[string]any{"clientId": p.ClientID, "clientSecret": planted + "-5"}); r.Status != http.StatusUnauthorized {
			t.Fatalf("login with a wrong secret: %d", r.Status)
		}
		if r := n.Do(t, http.MethodPost, "/api/v1/auth/password/login", "", map[string]any{"email": admin.Email, "password": planted + "-6"}); r.Status != http.StatusUnauthorized {
			t.Fatalf("login with a wrong password: %d", r.Status)
		}
		n.MustDo(t, http.MethodPost, "/api/v1/auth/password/login", "", map[string]any{"email": admin.Email, "password": admin.Password})
		if err := n.Server.Audit.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}

		all, next := auditPage(t, n, admin.Token, "limit=1000")
		if next != "" {
			t.Fatalf("a full page has a next cursor")
		}
		one := func(action string, where func(auditLog) bool) auditLog {
			t.Helper()
			for _, l := range findEvents(all, action) {
				if where == nil || where(l) {
					return l
				}
			}
			t.Fatalf("no %s event that matches, among %d events", action, len(all))
			return auditLog{}
		}
		keysAre := func(keys ...string) func(auditLog) bool {
			return func(l auditLog) bool { return slices.Equal(l.SecretKeys, keys) }
		}
		byMember := func(l auditLog) auditLog {
			t.Helper()
			if l.Actor.Type != "identity" || l.actorID() != p.IdentityID || l.ProjectID != p.ID || l.Environment != "dev" ||
				l.SecretPath != "/" || l.Outcome != "success" || l.OrgID != admin.OrgID {
				t.Errorf("%s: actor %s/%s project %s env %s path %s outcome %s org %s", l.Event.Type, l.Actor.Type, l.actorID(),
					l.ProjectID, l.Environment, l.SecretPath, l.Outcome, l.OrgID)
			}
			if l.IPAddress != "127.0.0.1" || l.UserAgent == "" || l.RequestID == "" || l.CreatedAt == "" {
				t.Errorf("%s: ip %q user agent %q request id %q time %q", l.Event.Type, l.IPAddress, l.UserAgent, l.RequestID, l.CreatedAt)
			}
			return l
		}
		byMember(one("secret.create", keysAre("DB_PASSWORD")))
		byMember(one("secret.create", keysAre("API_KEY")))
		byMember(one("secret.update", keysAre("API_KEY")))
		byMember(one("secret.delete", keysAre("DB_PASSWORD")))
		if f := byMember(one("folder.create", nil)); f.Event.Metadata["folderPath"] != "/app" {
			t.Errorf("folder.create metadata: %v", f.Event.Metadata)
		}
		// Two identical reads in one flush: one event counting both (COFFER_AUDIT_COALESCE_READS,
		// on by default), or two events.
		lists := findEvents(all, "secrets.list")
		reads := 0
		for _, l := range lists {
			n := 1
			if r, ok := l.Event.Metadata["reads"].(float64); ok {
				n = int(r)
				if l.Event.Metadata["lastRequestId"] == "" || l.Event.Metadata["lastRequestId"] == l.RequestID {
					t.Errorf("a coalesced read names no distinct last request: %v", l.Event.Metadata)
				}
			}
			reads += n
		}
		merged := 2 - len(lists) // events the coalescing saved; the filters below count events
		if reads != 2 {
			t.Errorf("secrets.list events account for %d reads, want 2 (one per read, cached or not)", reads)
		} else {
			for _, l := range lists {
				byMember(l)
				if !slices.Equal(l.SecretKeys, []string{"API_KEY"}) {
					t.Errorf("secrets.list keys %v, want [API_KEY]", l.SecretKeys)
				}
			}
		}
		byMember(one("secret.read", keysAre("API_KEY")))
		denied := one("permission.denied", nil)
		if denied.actorID() != viewerID || denied.Outcome != "denied" || denied.Event.Metadata["route"] == nil {
			t.Errorf("permission.denied: actor %s outcome %s metadata %v", denied.actorID(), denied.Outcome, denied.Event.Metadata)
		}
		failed := one("identity.login_failed", nil)
		if failed.actorID() != p.IdentityID || failed.Outcome != "failure" || failed.OrgID != admin.OrgID || failed.IPAddress != "127.0.0.1" {
			t.Errorf("identity.login_failed: actor %s outcome %s org %s ip %s", failed.actorID(), failed.Outcome, failed.OrgID, failed.IPAddress)
		}
		one("identity.login", func(l auditLog) bool { return l.actorID() == p.IdentityID })
		if l := one("user.login_failed", nil); l.actorID() != admin.UserID || l.Actor.Metadata["email"] != admin.Email || l.Outcome != "failure" {
			t.Errorf("user.login_failed: %+v", l.Actor)
		}
		one("user.login", func(l auditLog) bool { return l.actorID() == admin.UserID && l.Outcome == "success" })
		one("member.add", func(l auditLog) bool {
			return l.Event.Metadata["memberId"] == viewerID && l.Event.Metadata["role"] == "viewer"
		})
		one("project.create", func(l auditLog) bool { return l.ProjectID == p.ID })
		one("identity.create", nil)
		one("identity.client_secret.create", nil)

		// No value anywhere: the API's answer, the stream and the stored rows.
		body := string(n.MustDo(t, http.MethodGet, "/api/v1/audit-logs?limit=1000", admin.Token, nil).Body)
		stream, err := os.ReadFile(streamFile)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := n.Server.DB.AuditChain(t.Context(), 0, 100000)
		if err != nil {
			t.Fatal(err)
		}
		dump, _ := json.Marshal(rows)
		for name, text := range map[string]string{"API": body, "stream": string(stream), "table": string(dump)} {
			if strings.Contains(text, planted) {
				t.Errorf("a planted value is in the audit %s", name)
			}
		}
		// Every event this node appended is in the stream, once.
		if lines := strings.Count(string(stream), "\n"); lines != len(rows) {
			t.Errorf("stream has %d lines, the table %d events", lines, len(rows))
		}

		// Paging by cursor returns every event once, newest first.
		var paged []string
		cursor := ""
		for i := 0; ; i++ {
			page, next := auditPage(t, n, admin.Token, "limit=4&cursor="+url.QueryEscape(cursor))
			for _, l := range page {
				paged = append(paged, l.ID)
			}
			if next == "" || i > 100 {
				break
			}
			cursor = next
		}
		var ids []string
		for _, l := range all {
			ids = append(ids, l.ID)
		}
		if !slices.Equal(paged, ids) {
			t.Errorf("paged %d events, want the %d of one page, in the same order", len(paged), len(ids))
		}

		// Filters.
		filters := []struct {
			query string
			ok    func(auditLog) bool
			min   int
		}{
			{"eventType=secret.create", func(l auditLog) bool { return l.Event.Type == "secret.create" }, 2},
			{"eventType=secret.read,secrets.list", func(l auditLog) bool { return strings.HasPrefix(l.Event.Type, "secret") }, 3 - merged},
			{"actorType=user", func(l auditLog) bool { return l.Actor.Type == "user" }, 2},
			{"actor=" + p.IdentityID, func(l auditLog) bool { return l.actorID() == p.IdentityID }, 8 - merged},
			{"actor=" + url.QueryEscape(admin.Email), func(l auditLog) bool { return l.actorID() == admin.UserID }, 2},
			{"projectId=" + p.ID + "&environment=dev", func(l auditLog) bool { return l.ProjectID == p.ID && l.Environment == "dev" }, 8 - merged},
			{"endDate=2000-01-01T00:00:00Z", nil, 0},
			{"startDate=2999-01-01T00:00:00Z", nil, 0},
		}
		for _, f := range filters {
			got, _ := auditPage(t, n, admin.Token, f.query+"&limit=1000")
			if len(got) < f.min || f.ok == nil && len(got) != 0 {
				t.Errorf("%s: %d events, want at least %d", f.query, len(got), f.min)
			}
			for _, l := range got {
				if f.ok != nil && !f.ok(l) {
					t.Errorf("%s: returned %s by %s", f.query, l.Event.Type, l.actorID())
				}
			}
		}
		if r := n.Do(t, http.MethodGet, "/api/v1/audit-logs?limit=1001", admin.Token, nil); r.Status != http.StatusUnprocessableEntity {
			t.Errorf("limit=1001: %d", r.Status)
		}
		if r := n.Do(t, http.MethodGet, "/api/v1/audit-logs?cursor=bogus", admin.Token, nil); r.Status != http.StatusUnprocessableEntity {
			t.Errorf("a bad cursor: %d", r.Status)
		}

		// Who may read: org admins, and project admins for their project; nobody else.
		access := []struct {
			name, token, query string
			status             int
		}{
			{"org admin, Infisical's route", admin.Token, "/api/v1/organization/audit-logs?projectId=" + p.ID, http.StatusOK},
			{"org admin, route with org id", admin.Token, "/api/v1/organization/" + admin.OrgID + "/audit-logs", http.StatusOK},
			{"org admin of another org id", admin.Token, "/api/v1/organization/not-my-org/audit-logs", http.StatusForbidden},
			{"project admin, own project", padminToken, "/api/v1/audit-logs?projectId=" + p.ID, http.StatusOK},
			{"project admin, whole org", padminToken, "/api/v1/audit-logs", http.StatusForbidden},
			{"viewer", viewerToken, "/api/v1/audit-logs?projectId=" + p.ID, http.StatusForbidden},
			{"member", p.Token, "/api/v1/audit-logs?projectId=" + p.ID, http.StatusForbidden},
			{"anonymous", "", "/api/v1/audit-logs", http.StatusUnauthorized},
		}
		for _, a := range access {
			r := n.Do(t, http.MethodGet, a.query, a.token, nil)
			if r.Status != a.status {
				t.Errorf("%s: %d, want %d (%s)", a.name, r.Status, a.status, r.Body)
			}
		}
		var padmin struct {
			AuditLogs []auditLog `json:"auditLogs"`
		}
		n.MustDo(t, http.MethodGet, "/api/v1/audit-logs?limit=1000&projectId="+p.ID, padminToken, nil).JSON(t, &padmin)
		for _, l := range padmin.AuditLogs {
			if l.ProjectID != p.ID {
				t.Errorf("a project admin sees an event of project %q", l.ProjectID)
			}
		}

		if err := n.Server.Audit.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		res, err := audit.Verify(t.Context(), n.Server.DB)
		if err != nil || !res.OK() || res.Checked == 0 {
			t.Fatalf("verify: %+v, %v", res, err)
		}
	})
}

// TestAuditHTTPStream checks that a node delivers its events to COFFER_AUDIT_STREAM_URL
// through the job table, with the configured header, retrying after the endpoint fails.
func TestAuditHTTPStream(t *testing.T) {
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		var mu sync.Mutex
		var calls int
		var lines []string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			if r.Header.Get("X-Api-Key") != "stream-secret" {
				http.Error(w, "no key", http.StatusUnauthorized)
				return
			}
			if calls++; calls == 1 {
				http.Error(w, "down for a moment", http.StatusServiceUnavailable)
				return
			}
			data, _ := io.ReadAll(r.Body)
			lines = append(lines, strings.Split(strings.TrimSpace(string(data)), "\n")...)
		}))
		defer srv.Close()
		n := servertest.StartWith(t, dialect, func(c *config.Config) {
			c.AuditStreamURL, c.AuditStreamHeader = srv.URL, "X-Api-Key: stream-secret"
		})
		n.Bootstrap(t)
		deadline := time.Now().Add(30 * time.Second)
		for {
			mu.Lock()
			got := slices.Clone(lines)
			mu.Unlock()
			if slices.ContainsFunc(got, func(l string) bool { return strings.Contains(l, `"action":"instance.bootstrap"`) }) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the endpoint received %d lines after %d calls, none the bootstrap event", len(got), calls)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if strings.Contains(n.Logs(), "stream-secret") {
			t.Error("the stream header's secret is in the node's logs")
		}
	})
}

// TestAuditAccountAndMemberEvents checks the events of users' own account changes and of an
// organization's members: invitations, sign-out.
func TestAuditAccountAndMemberEvents(t *testing.T) {
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		n := servertest.Start(t, dialect)
		admin := n.Bootstrap(t)
		var login struct {
			AccessToken string `json:"accessToken"`
		}
		n.MustDo(t, http.MethodPost, "/api/v1/auth/login", "", map[string]any{"email": admin.Email, "password": admin.Password}).JSON(t, &login)
		var inv struct {
			Invitation struct {
				ID string `json:"id"`
			} `json:"invitation"`
		}
		org := "/api/v1/organizations/" + admin.OrgID
		n.MustDo(t, http.MethodPost, org+"/invitations", login.AccessToken, map[string]any{"email": "new@example.com", "role": "member"}).JSON(t, &inv)
		n.MustDo(t, http.MethodDelete, org+"/invitations/"+inv.Invitation.ID, login.AccessToken, nil)
		n.MustDo(t, http.MethodPost, "/api/v1/auth/logout", login.AccessToken, nil)
		if err := n.Server.Audit.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		all, _ := auditPage(t, n, admin.Token, "limit=1000")
		for _, want := range []struct{ action, key, value string }{
			{"member.invite", "email", "new@example.com"},
			{"member.invitation_revoke", "invitationId", inv.Invitation.ID},
			{"user.logout", "", ""},
			{"user.login", "", ""},
		} {
			evs := findEvents(all, want.action)
			if len(evs) == 0 {
				t.Errorf("no %s event", want.action)
				continue
			}
			l := evs[0]
			if l.actorID() != admin.UserID || l.OrgID != admin.OrgID || want.key != "" && l.Event.Metadata[want.key] != want.value {
				t.Errorf("%s: actor %s org %s metadata %v", want.action, l.actorID(), l.OrgID, l.Event.Metadata)
			}
		}
	})
}
