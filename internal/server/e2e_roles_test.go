package server_test

// End-to-end tests of custom project roles beyond the matrix: what a role limited to an
// environment and a path sees of listings, imports and references; role changes that take
// effect at once through the cache; two roles never sharing a cached listing; no escalation
// through memberships or role writes; and the role API's refusals.

import (
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/servertest"
)

// axListKeys lists a folder as token and returns the keys of its secrets and of its imports'.
func axListKeys(t *testing.T, n *servertest.Node, token, query string) (own, imported []string, status int) {
	t.Helper()
	r := n.Do(t, http.MethodGet, "/api/v4/secrets?"+query, token, nil)
	if r.Status != http.StatusOK {
		return nil, nil, r.Status
	}
	var out struct {
		Secrets []struct {
			Key string `json:"secretKey"`
		} `json:"secrets"`
		Imports []struct {
			Secrets []struct {
				Key string `json:"secretKey"`
			} `json:"secrets"`
		} `json:"imports"`
	}
	r.JSON(t, &out)
	own, imported = []string{}, []string{}
	for _, s := range out.Secrets {
		own = append(own, s.Key)
	}
	for _, imp := range out.Imports {
		for _, s := range imp.Secrets {
			imported = append(imported, s.Key)
		}
	}
	sort.Strings(own)
	sort.Strings(imported)
	return own, imported, r.Status
}

func TestE2ECustomRoles(t *testing.T) {
	t.Parallel()
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		t.Parallel()
		n, admin := axStart(t, dialect)
		do := func(method, path string, body any) map[string]any {
			t.Helper()
			return n.MustDo(t, method, path, admin.Token, body).Map(t)
		}
		p := axCreateProject(t, n, admin.Token, "custom roles").ID
		roles := "/api/v1/projects/" + p + "/roles"
		batch := func(env, path string, kv ...string) {
			var secrets []map[string]any
			for i := 0; i < len(kv); i += 2 {
				secrets = append(secrets, map[string]any{"secretKey": kv[i], "secretValue": kv[i+1]})
			}
			do(http.MethodPost, "/api/v4/secrets/batch", map[string]any{"projectId": p, "environment": env, "secretPath": path, "secrets": secrets})
		}
		folder := func(env, path, name string) {
			do(http.MethodPost, "/api/v1/folders", map[string]any{"workspaceId": p, "environment": env, "path": path, "name": name})
		}
		folder("dev", "/", "app")
		folder("dev", "/app", "private")
		folder("dev", "/app", "refs")
		batch("dev", "/", "ROOT", "r")
		batch("dev", "/app", "A", "a")
		batch("dev", "/app/private", "PRIV", "p")
		batch("prod", "/", "PROD_KEY", "prod-value")
		batch("dev", "/app/refs", "REF", "${prod.PROD_KEY}")
		do(http.MethodPost, "/api/v1/secret-imports", map[string]any{"workspaceId": p, "environment": "dev", "path": "/app",
			"import": map[string]any{"environment": "prod", "path": "/"}})

		role := do(http.MethodPost, roles, map[string]any{"slug": axCustomSlug, "name": "Dev app", "permissions": axRawJSON(axCustomPermissions)})
		roleID := role["role"].(map[string]any)["id"].(string)
		do(http.MethodPost, roles, map[string]any{"slug": "dev-all", "name": "Dev all",
			"permissions": []map[string]any{{"subject": "secrets", "action": "read", "conditions": map[string]any{"environment": "dev"}}}})
		newMember := func(name, role string) (id, token string) {
			t.Helper()
			id, _, _, token = n.NewIdentity(t, admin, name, coffer.RoleNoAccess)
			axSetMembership(t, n, admin.Token, p, id, role)
			return id, token
		}
		iID, iTok := newMember("custom-i", axCustomSlug)
		_, jTok := newMember("custom-j", "dev-all")
		appList := "projectId=" + p + "&environment=dev&secretPath=/app&recursive=true&includeImports=true"

		t.Run("listing, imports and references stay in scope", func(t *testing.T) {
			// The other role first, so that a listing shared through the cache would show.
			if own, _, st := axListKeys(t, n, jTok, appList); st != http.StatusOK || !slices.Equal(own, []string{"A", "PRIV", "REF"}) {
				t.Errorf("dev-all lists /app: %v (%d), want A PRIV REF", own, st)
			}
			own, imported, st := axListKeys(t, n, iTok, appList)
			if st != http.StatusOK || !slices.Equal(own, []string{"A", "REF"}) || len(imported) != 0 {
				t.Errorf("dev-app lists /app: own %v imported %v (%d), want A REF and nothing imported from prod", own, imported, st)
			}
			if own, imported, _ := axListKeys(t, n, admin.Token, appList); !slices.Equal(own, []string{"A", "PRIV", "REF"}) || !slices.Equal(imported, []string{"PROD_KEY"}) {
				t.Errorf("admin lists /app: own %v imported %v, want A PRIV REF and PROD_KEY", own, imported)
			}
			if _, _, st := axListKeys(t, n, iTok, "projectId="+p+"&environment=prod"); st != http.StatusForbidden {
				t.Errorf("dev-app lists prod: status %d, want 403", st)
			}
			ref := "/api/v4/secrets/REF?projectId=" + p + "&environment=dev&secretPath=/app/refs&expandSecretReferences=true"
			axWantErr(t, n.Do(t, http.MethodGet, ref, iTok, nil), http.StatusForbidden, "dev-app expands a reference into prod")
			if v := n.MustDo(t, http.MethodGet, ref, admin.Token, nil).Map(t)["secret"].(map[string]any)["secretValue"]; v != "prod-value" {
				t.Errorf("admin expands the reference: %v, want prod-value", v)
			}
		})

		t.Run("a role change applies at once", func(t *testing.T) {
			axListKeys(t, n, iTok, appList) // cached, if the node caches
			do(http.MethodPatch, roles+"/"+roleID, map[string]any{"permissions": []map[string]any{
				{"subject": "secrets", "action": "read", "conditions": map[string]any{"environment": "dev", "secretPath": map[string]any{"$glob": "/app/**"}}}}})
			if own, _, st := axListKeys(t, n, iTok, appList); st != http.StatusOK || !slices.Equal(own, []string{"A", "PRIV", "REF"}) {
				t.Errorf("after the deny rule is dropped: %v (%d), want A PRIV REF", own, st)
			}
			nodes := []*servertest.Node{n}
			if dialect == "postgres" { // SQLite is served by one process (see internal/cache)
				peer := n.StartPeer(t)
				if own, _, st := axListKeys(t, peer, iTok, appList); st != http.StatusOK || !slices.Equal(own, []string{"A", "PRIV", "REF"}) {
					t.Errorf("on another node: %v (%d), want A PRIV REF", own, st)
				}
				nodes = append(nodes, peer)
			}
			do(http.MethodPatch, roles+"/"+roleID, map[string]any{"permissions": axRawJSON(axCustomPermissions)})
			for i, node := range nodes {
				if own, _, _ := axListKeys(t, node, iTok, appList); !slices.Equal(own, []string{"A", "REF"}) {
					t.Errorf("node %d, after the deny rule is back: %v, want A REF", i, own)
				}
			}
		})

		t.Run("memberships answer custom roles as Infisical does", func(t *testing.T) {
			var out struct {
				Memberships []struct {
					IdentityID string `json:"identityId"`
					Roles      []struct {
						Role           string `json:"role"`
						CustomRoleSlug string `json:"customRoleSlug"`
					} `json:"roles"`
				} `json:"identityMemberships"`
			}
			n.MustDo(t, http.MethodGet, "/api/v2/workspace/"+p+"/identity-memberships", admin.Token, nil).JSON(t, &out)
			found := false
			for _, m := range out.Memberships {
				if m.IdentityID == iID {
					found = len(m.Roles) == 1 && m.Roles[0].Role == "custom" && m.Roles[0].CustomRoleSlug == axCustomSlug
				}
			}
			if !found {
				t.Errorf("membership of the dev-app identity: %+v, want role custom with customRoleSlug dev-app", out.Memberships)
			}
		})

		t.Run("no escalation", func(t *testing.T) {
			do(http.MethodPost, roles, map[string]any{"slug": "members-editor", "name": "Members editor", "permissions": []map[string]any{
				{"subject": "member", "action": []string{"read", "edit"}},
				{"subject": "secrets", "action": "read"},
				{"subject": "tags", "action": "read"},
			}})
			do(http.MethodPost, roles, map[string]any{"slug": "narrow", "name": "Narrow", "permissions": []map[string]any{
				{"subject": "secrets", "action": "read", "conditions": map[string]any{"environment": "dev"}},
			}})
			_, kTok := newMember("custom-k", "members-editor")
			victim, _ := newMember("custom-victim", "narrow")
			set := func(role string) *servertest.Response {
				return n.Do(t, http.MethodPost, "/api/v2/workspace/"+p+"/identity-memberships/"+victim, kTok, map[string]any{"role": role})
			}
			axWantOK(t, set("narrow"), "members-editor gives narrow (within its rights)")
			axWantOK(t, set(coffer.RoleNoAccess), "members-editor gives no-access")
			for _, r := range []string{coffer.RoleAdmin, coffer.RoleViewer, "dev-all-but-more", axCustomSlug} {
				st := set(r).Status
				if st != http.StatusForbidden && !(r == "dev-all-but-more" && st == http.StatusUnprocessableEntity) {
					t.Errorf("members-editor gives %s: status %d, want a refusal", r, st)
				}
			}
			// Nor can it change, or remove, a membership above its rights.
			axSetMembership(t, n, admin.Token, p, victim, coffer.RoleAdmin)
			axWantErr(t, set(coffer.RoleNoAccess), http.StatusForbidden, "members-editor demotes an admin")
			axWantErr(t, n.Do(t, http.MethodPost, roles, kTok, map[string]any{"slug": "x", "permissions": []map[string]any{{"subject": "secrets", "action": "read"}}}),
				http.StatusForbidden, "members-editor creates a role")
		})

		t.Run("role changes are audited", func(t *testing.T) {
			for _, typ := range []string{coffer.ActionRoleCreate, coffer.ActionRoleUpdate} {
				var out struct {
					AuditLogs []struct {
						ProjectID string `json:"projectId"`
						Event     struct {
							Metadata map[string]any `json:"metadata"`
						} `json:"event"`
					} `json:"auditLogs"`
				}
				n.MustDo(t, http.MethodGet, "/api/v1/organization/audit-logs?eventType="+typ+"&projectId="+p, admin.Token, nil).JSON(t, &out)
				found := false
				for _, e := range out.AuditLogs {
					found = found || e.ProjectID == p && e.Event.Metadata["roleId"] == roleID
				}
				if !found {
					t.Errorf("no %s event naming role %s: %+v", typ, roleID, out.AuditLogs)
				}
			}
		})

		t.Run("role API refusals", func(t *testing.T) {
			for _, c := range []struct {
				body   map[string]any
				status int
				msg    string
			}{
				{map[string]any{"slug": "admin", "permissions": []any{}}, http.StatusUnprocessableEntity, "built-in role"},
				{map[string]any{"slug": "Bad Slug", "permissions": []any{}}, http.StatusUnprocessableEntity, "slug"},
				{map[string]any{"slug": "ok"}, http.StatusUnprocessableEntity, "permissions: required"},
				{map[string]any{"slug": "ok", "permissions": []map[string]any{{"subject": "integrations", "action": "read"}}}, http.StatusUnprocessableEntity, "permissions[0].subject"},
				{map[string]any{"slug": "ok", "permissions": []map[string]any{{"subject": "secrets", "action": "read", "conditions": map[string]any{"secretName": "X"}}}}, http.StatusUnprocessableEntity, "secretName"},
				{map[string]any{"slug": axCustomSlug, "permissions": []any{}}, http.StatusBadRequest, "already exists"}, // ECONFLICT
			} {
				msg := axWantErr(t, n.Do(t, http.MethodPost, roles, admin.Token, c.body), c.status, axJSON(c.body))
				if msg != "" && !strings.Contains(strings.ToLower(msg), strings.ToLower(c.msg)) {
					t.Errorf("%s: message %q, want it to mention %q", axJSON(c.body), msg, c.msg)
				}
			}
			axWantErr(t, n.Do(t, http.MethodDelete, roles+"/"+roleID, admin.Token, nil), http.StatusBadRequest, "delete a role in use (ECONFLICT)")
			axWantErr(t, n.Do(t, http.MethodPost, "/api/v2/workspace/"+p+"/identity-memberships/"+iID, admin.Token, map[string]any{"role": "nope"}),
				http.StatusUnprocessableEntity, "membership with an unknown role")
			// A rename moves the memberships with it.
			do(http.MethodPatch, roles+"/"+roleID, map[string]any{"slug": "dev-app-2"})
			if own, _, st := axListKeys(t, n, iTok, appList); st != http.StatusOK || !slices.Equal(own, []string{"A", "REF"}) {
				t.Errorf("after the rename: %v (%d), want A REF", own, st)
			}
			got := do(http.MethodGet, roles+"/slug/dev-app-2", nil)["role"].(map[string]any)
			if got["id"] != roleID || len(got["permissions"].([]any)) != 9 {
				t.Errorf("role by its new slug: %v", got)
			}
		})
	})
}
