package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/internal/servertest"
)

// TestE2EProjectUserMemberships gives a user of the organization project roles through the
// user membership routes and checks that access follows them at once, that only actors that may
// manage members may, and that bad input changes nothing.
func TestE2EProjectUserMemberships(t *testing.T) {
	t.Parallel()
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		t.Parallel()
		n, admin := axStart(t, dialect)
		p := axCreateProject(t, n, admin.Token, "user memberships")
		n.MustDo(t, http.MethodPost, "/api/v4/secrets/batch", admin.Token, map[string]any{"projectId": p.ID, "environment": "dev", "secretPath": "/",
			"secrets": []map[string]any{{"secretKey": "DB_URL", "secretValue": "postgres://x"}}})
		_, email := axMemberUserEmail(t, n, admin)
		_, email2 := axMemberUserEmail(t, n, admin)
		login := func(email string) string {
			t.Helper()
			res := n.MustDo(t, http.MethodPost, "/api/v1/auth/login", "", map[string]any{"email": email, "password": "a long enough password 1"}).Map(t)
			tok, _ := res["accessToken"].(string)
			if tok == "" {
				t.Fatalf("login %s: no accessToken", email)
			}
			return tok
		}
		tok := login(email)
		ms := "/api/v2/workspace/" + p.ID + "/memberships"
		list := "/api/v1/workspace/" + p.ID + "/memberships"
		type membership struct {
			ID     string `json:"id"`
			UserID string `json:"userId"`
			User   struct {
				Email string `json:"email"`
			} `json:"user"`
			Roles []struct {
				Role string `json:"role"`
			} `json:"roles"`
		}
		members := func() map[string]string { // e-mail → role
			t.Helper()
			var out struct {
				Memberships []membership `json:"memberships"`
			}
			n.MustDo(t, http.MethodGet, list, admin.Token, nil).JSON(t, &out)
			m := map[string]string{}
			for _, x := range out.Memberships {
				if len(x.Roles) != 1 {
					t.Fatalf("membership %s has roles %+v, want one", x.ID, x.Roles)
				}
				m[x.User.Email] = x.Roles[0].Role
			}
			return m
		}
		read := func(tok string) int {
			t.Helper()
			return n.Do(t, http.MethodGet, "/api/v4/secrets/DB_URL?projectId="+p.ID+"&environment=dev", tok, nil).Status
		}
		write := func(tok, value string) int {
			t.Helper()
			return n.Do(t, http.MethodPatch, "/api/v4/secrets/DB_URL", tok, map[string]any{"projectId": p.ID, "environment": "dev", "secretValue": value}).Status
		}
		denied := func(status int) bool { return status == http.StatusForbidden || status == http.StatusNotFound }

		if s := read(tok); !denied(s) {
			t.Fatalf("organization member without a project role reads a secret: status %d", s)
		}
		if m := members(); len(m) != 0 {
			t.Fatalf("fresh project has user memberships %v", m)
		}

		// Bad input: the right status, the field named, nothing changed.
		for _, c := range []struct {
			name, method, path string
			body               any
			status             int
			want               string
		}{
			{"no usernames", http.MethodPost, ms, map[string]any{"roleSlugs": []string{"viewer"}}, http.StatusUnprocessableEntity, "usernames"},
			{"empty username", http.MethodPost, ms, map[string]any{"usernames": []string{email, " "}}, http.StatusUnprocessableEntity, "usernames"},
			{"unknown e-mail", http.MethodPost, ms, map[string]any{"usernames": []string{email, "nobody@example.com"}, "roleSlugs": []string{"viewer"}}, http.StatusNotFound, "nobody@example.com"},
			{"unknown role", http.MethodPost, ms, map[string]any{"usernames": []string{email}, "roleSlugs": []string{"no-such-role"}}, http.StatusUnprocessableEntity, "role"},
			{"two roles", http.MethodPost, ms, map[string]any{"usernames": []string{email}, "roleSlugs": []string{"viewer", "member"}}, http.StatusUnprocessableEntity, "roleSlugs"},
			{"delete no usernames", http.MethodDelete, ms, map[string]any{}, http.StatusUnprocessableEntity, "usernames"},
			{"delete non-member", http.MethodDelete, ms, map[string]any{"usernames": []string{email}}, http.StatusNotFound, email},
			{"patch unknown membership", http.MethodPatch, list + "/00000000-0000-7000-8000-000000000000", map[string]any{"roles": []map[string]any{{"role": "viewer"}}}, http.StatusNotFound, "membership"},
		} {
			msg := axWantErr(t, n.Do(t, c.method, c.path, admin.Token, c.body), c.status, c.name)
			if !strings.Contains(msg, c.want) {
				t.Errorf("%s: message %q does not name %q", c.name, msg, c.want)
			}
		}
		if m := members(); len(m) != 0 {
			t.Fatalf("refused requests added memberships: %v", m)
		}

		// Viewer: reads, cannot write, cannot add users.
		var added struct {
			Memberships []membership `json:"memberships"`
		}
		n.MustDo(t, http.MethodPost, ms, admin.Token, map[string]any{"usernames": []string{strings.ToUpper(email)}, "roleSlugs": []string{"viewer"}}).JSON(t, &added)
		if len(added.Memberships) != 1 || added.Memberships[0].User.Email != email || added.Memberships[0].Roles[0].Role != "viewer" {
			t.Fatalf("POST memberships answered %+v, want %s as viewer", added, email)
		}
		mid := added.Memberships[0].ID
		if m := members(); m[email] != "viewer" || len(m) != 1 {
			t.Fatalf("memberships after adding a viewer: %v", m)
		}
		if s := read(tok); s != http.StatusOK {
			t.Fatalf("viewer reads a secret: status %d, want 200", s)
		}
		if s := write(tok, "viewer-write"); s != http.StatusForbidden {
			t.Fatalf("viewer writes a secret: status %d, want 403", s)
		}
		axWantErr(t, n.Do(t, http.MethodPost, ms, admin.Token, map[string]any{"usernames": []string{email}}), http.StatusBadRequest, "adding a member twice")

		// Member: writes, but cannot add users, change roles or remove members.
		var patched struct {
			Roles []struct {
				Role string `json:"role"`
			} `json:"roles"`
		}
		n.MustDo(t, http.MethodPatch, list+"/"+mid, admin.Token, map[string]any{"roles": []map[string]any{{"role": "member"}}}).JSON(t, &patched)
		if len(patched.Roles) != 1 || patched.Roles[0].Role != "member" {
			t.Fatalf("PATCH membership answered roles %+v, want member", patched.Roles)
		}
		if s := write(tok, "member-write"); s != http.StatusOK {
			t.Fatalf("member writes a secret: status %d, want 200", s)
		}
		axWantErr(t, n.Do(t, http.MethodPost, ms, tok, map[string]any{"usernames": []string{email2}, "roleSlugs": []string{"viewer"}}), http.StatusForbidden, "member adds a user")
		axWantErr(t, n.Do(t, http.MethodPatch, list+"/"+mid, tok, map[string]any{"roles": []map[string]any{{"role": "admin"}}}), http.StatusForbidden, "member makes itself admin")
		axWantErr(t, n.Do(t, http.MethodDelete, ms, tok, map[string]any{"usernames": []string{email}}), http.StatusForbidden, "member removes a member")
		axWantErr(t, n.Do(t, http.MethodPatch, list+"/"+mid, admin.Token, map[string]any{"roles": []map[string]any{}}), http.StatusUnprocessableEntity, "PATCH without roles")
		if m := members(); m[email] != "member" || len(m) != 1 {
			t.Fatalf("memberships after refused changes: %v", m)
		}

		// Remove: access ends at once (the cached grant included).
		n.MustDo(t, http.MethodDelete, ms, admin.Token, map[string]any{"usernames": []string{email}})
		if s := read(tok); !denied(s) {
			t.Fatalf("removed user reads a secret: status %d", s)
		}
		if m := members(); len(m) != 0 {
			t.Fatalf("memberships after removal: %v", m)
		}

		// The changes are audited as the admin's, naming the user and never a value.
		body := string(n.MustDo(t, http.MethodGet, "/api/v1/organization/"+admin.OrgID+"/audit-logs?projectId="+p.ID, admin.Token, nil).Body)
		for _, action := range []string{"member.add", "member.update", "member.remove"} {
			if !strings.Contains(body, action) {
				t.Errorf("audit log has no %s event: %s", action, body)
			}
		}
		if !strings.Contains(body, email) || strings.Contains(body, "a long enough password") {
			t.Errorf("audit log does not name %s, or holds the password", email)
		}
	})
}
