package server_test

// The role matrix: every route of internal/api/api.go, run as every kind of actor, with the
// answer each must get. Project routes run as organization owner and admin, as identities
// holding each built-in project role and a custom role limited to an environment and a path,
// as organization members and no-access identities outside the project, as an admin of another
// organization and anonymously; organization routes run as the same actors, by organization
// role. TestE2ERouteMatrixCoversEveryRoute fails when a route is registered but not classified
// here, so that a new route cannot skip the matrix. Package-level names start with "ax", like
// the other end-to-end files of this package.

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/api"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/servertest"
)

// axRoleRules mirrors roleRules in internal/authz/authz.go: what each built-in project role
// may do. The matrix expects exactly this on every route that takes a project.
var axRoleRules = map[string]map[authz.Subject][]authz.Action{
	coffer.RoleAdmin: {
		authz.Secrets: axAll, authz.Folders: axAll, authz.Imports: axAll, authz.Tags: axAll,
		authz.Identities: axAll, authz.Members: axAll, authz.Roles: axAll, authz.Settings: axAll,
		authz.AuditLogs: {authz.Read},
	},
	coffer.RoleMember: {
		authz.Secrets: axAll, authz.Folders: axAll, authz.Imports: axAll, authz.Tags: axAll,
		authz.Identities: {authz.Read}, authz.Members: {authz.Read}, authz.Roles: {authz.Read}, authz.Settings: {authz.Read},
	},
	coffer.RoleViewer: {
		authz.Secrets: {authz.Read}, authz.Folders: {authz.Read}, authz.Imports: {authz.Read}, authz.Tags: {authz.Read},
		authz.Identities: {authz.Read}, authz.Members: {authz.Read}, authz.Roles: {authz.Read}, authz.Settings: {authz.Read},
	},
	coffer.RoleNoAccess: {},
}

var axAll = []authz.Action{authz.Read, authz.Create, authz.Edit, authz.Delete}

// axCustomSlug is the custom role of the matrix, in Infisical's permission format: secrets of
// dev under /app (all actions) and at dev's root (read only), never /app/private; folders of
// dev; imports of dev read; tags, settings, members and roles read.
const axCustomSlug = "dev-app"

const axCustomPermissions = `[
	{"subject": "secrets", "action": ["read", "create", "edit", "delete"], "conditions": {"environment": "dev", "secretPath": {"$glob": "/app/**"}}},
	{"subject": "secrets", "action": "read", "conditions": {"environment": {"$eq": "dev"}, "secretPath": "/"}},
	{"subject": "secrets", "action": "read", "inverted": true, "conditions": {"secretPath": {"$glob": "/app/private/**"}}},
	{"subject": "secret-folders", "action": ["read", "create", "edit", "delete"], "conditions": {"environment": "dev"}},
	{"subject": "secret-imports", "action": ["read"], "conditions": {"environment": {"$in": ["dev"]}}},
	{"subject": "tags", "action": "read"},
	{"subject": "settings", "action": "read"},
	{"subject": "member", "action": "read"},
	{"subject": "role", "action": "read"}
]`

// axCustomAllows is what the custom role allows, written out independently of internal/authz.
func axCustomAllows(act authz.Action, sub authz.Subject, env, path string) bool {
	inApp := path == "/app" || strings.HasPrefix(path, "/app/")
	private := path == "/app/private" || strings.HasPrefix(path, "/app/private/")
	switch sub {
	case authz.Secrets:
		if env != "dev" || private && act == authz.Read {
			return false
		}
		return inApp || path == "/" && act == authz.Read
	case authz.Folders:
		return env == "dev"
	case authz.Imports:
		return env == "dev" && act == authz.Read
	case authz.Tags, authz.Settings, authz.Members, authz.Roles:
		return act == authz.Read
	}
	return false
}

// axActor is one actor of the matrix.
type axActor struct {
	name       string
	orgRole    string // owner, admin, member, no-access; "" for none (other organization, anonymous)
	otherOrg   bool   // an admin of another organization
	role       string // project membership to give; "" for none
	effective  string // project role the expectations use: a built-in role, axCustomSlug or ""
	deny       int    // status of a refused project route
	token      string
	identityID string
}

// allows reports whether the actor may run a project route.
func (a *axActor) allows(rt axRoute) bool {
	switch a.effective {
	case "":
		return false
	case axCustomSlug:
		return axCustomAllows(rt.act, rt.sub, rt.env, rt.at)
	}
	return slices.Contains(axRoleRules[a.effective][rt.sub], rt.act)
}

// axFixture is what one matrix actor runs against: a project P (and P2, for the second
// project-delete route) filled by the organization admin.
type axFixture struct {
	P, P2, Slug              string
	EnvUpd, EnvDelA, EnvDelB string
	FolderUpd, FolderDel     string
	ImportUpd, ImportDel     string
	TagGet, TagUpd, TagDel   string
	RoleGet, RoleUpd         string
	RoleDel, RoleDel2        string
	RoleDel3                 string
	Target                   string // an identity whose membership the routes change
	UserTarget, UserAdd      string // e-mails of organization users: one a viewer of P, one to add
	UserMembership           string // the project membership of UserTarget
	n                        *servertest.Node
	adminToken               string
}

func axNewFixture(t *testing.T, n *servertest.Node, admin *servertest.Admin, name, identityID, role, target string) *axFixture {
	t.Helper()
	f := &axFixture{n: n, adminToken: admin.Token, Target: target}
	do := func(method, path string, body any) map[string]any {
		t.Helper()
		return n.MustDo(t, method, path, admin.Token, body).Map(t)
	}
	p := axCreateProject(t, n, admin.Token, "matrix "+name)
	f.P, f.Slug = p.ID, p.Slug
	f.P2 = axCreateProject(t, n, admin.Token, "matrix2 "+name).ID

	roleID := func(m map[string]any) string { return m["role"].(map[string]any)["id"].(string) }
	roles := "/api/v1/projects/" + f.P + "/roles"
	f.RoleGet = roleID(do(http.MethodPost, roles, map[string]any{"slug": "rget", "name": "Role Get", "permissions": []map[string]any{{"subject": "secrets", "action": "read"}}}))
	f.RoleUpd = roleID(do(http.MethodPost, roles, map[string]any{"slug": "rupd", "name": "Role Upd", "permissions": []map[string]any{{"subject": "tags", "action": "read"}}}))
	f.RoleDel = roleID(do(http.MethodPost, roles, map[string]any{"slug": "rdel", "name": "Role Del", "permissions": []map[string]any{{"subject": "tags", "action": "read"}}}))
	f.RoleDel3 = roleID(do(http.MethodPost, roles, map[string]any{"slug": "rdel3", "name": "Role Del 3", "permissions": []map[string]any{{"subject": "tags", "action": "read"}}}))
	f.RoleDel2 = roleID(do(http.MethodPost, roles, map[string]any{"slug": "rdel2", "name": "Role Del 2", "permissions": []map[string]any{{"subject": "tags", "action": "read"}}}))
	for _, pid := range []string{f.P, f.P2} {
		do(http.MethodPost, "/api/v1/projects/"+pid+"/roles", map[string]any{"slug": axCustomSlug, "name": "Dev app", "description": "dev, /app/**",
			"permissions": axRawJSON(axCustomPermissions)})
	}

	if identityID != "" && role != "" {
		axSetMembership(t, n, admin.Token, f.P, identityID, role)
		axSetMembership(t, n, admin.Token, f.P2, identityID, role)
	}
	axSetMembership(t, n, admin.Token, f.P, target, coffer.RoleViewer)
	envID := func(m map[string]any) string { return m["environment"].(map[string]any)["id"].(string) }
	envs := "/api/v1/workspace/" + f.P + "/environments"
	f.EnvUpd = envID(do(http.MethodPost, envs, map[string]any{"name": "Env Upd", "slug": "env-upd"}))
	f.EnvDelA = envID(do(http.MethodPost, envs, map[string]any{"name": "Env Del A", "slug": "env-del-a"}))
	f.EnvDelB = envID(do(http.MethodPost, envs, map[string]any{"name": "Env Del B", "slug": "env-del-b"}))

	batch := func(env, path string, keys ...string) {
		var secrets []map[string]any
		for _, k := range keys {
			secrets = append(secrets, map[string]any{"secretKey": k, "secretValue": "v1-" + k})
		}
		do(http.MethodPost, "/api/v4/secrets/batch", map[string]any{"projectId": f.P, "environment": env, "secretPath": path, "secrets": secrets})
	}
	batch("dev", "/", "GET_KEY", "UPD3", "UPD4", "DEL3", "DEL4", "BUPD3", "BUPD4", "BDEL3", "BDEL4", "ROLL")
	do(http.MethodPatch, "/api/v4/secrets/ROLL", map[string]any{"projectId": f.P, "environment": "dev", "secretValue": "v2-ROLL"})
	batch("prod", "/", "PROD_KEY")

	folderID := func(m map[string]any) string { return m["folder"].(map[string]any)["id"].(string) }
	folder := func(env, path, name string) string {
		return folderID(do(http.MethodPost, "/api/v1/folders", map[string]any{"workspaceId": f.P, "environment": env, "path": path, "name": name}))
	}
	f.FolderUpd = folder("dev", "/", "fupd")
	f.FolderDel = folder("dev", "/", "fdel")
	folder("prod", "/", "src")
	folder("dev", "/", "app")
	folder("dev", "/app", "private")
	batch("dev", "/app", "APP_GET", "APP_UPD", "APP_DEL")
	batch("dev", "/app/private", "PRIV")

	importID := func(m map[string]any) string { return m["secretImport"].(map[string]any)["id"].(string) }
	f.ImportUpd = importID(do(http.MethodPost, "/api/v1/secret-imports", map[string]any{"workspaceId": f.P, "environment": "dev", "path": "/",
		"import": map[string]any{"environment": "staging", "path": "/"}}))
	f.ImportDel = importID(do(http.MethodPost, "/api/v1/secret-imports", map[string]any{"workspaceId": f.P, "environment": "dev", "path": "/",
		"import": map[string]any{"environment": "prod", "path": "/"}}))

	tagID := func(m map[string]any) string { return m["tag"].(map[string]any)["id"].(string) }
	tags := "/api/v1/projects/" + f.P + "/tags"
	f.TagGet = tagID(do(http.MethodPost, tags, map[string]any{"slug": "tget", "color": "#111"}))
	f.TagUpd = tagID(do(http.MethodPost, tags, map[string]any{"slug": "tupd", "color": "#222"}))
	f.TagDel = tagID(do(http.MethodPost, tags, map[string]any{"slug": "tdel", "color": "#333"}))
	return f
}

// axRawJSON is s as a JSON value to embed in a request body.
type axRawJSON string

func (r axRawJSON) MarshalJSON() ([]byte, error) { return []byte(r), nil }

// snapshot is everything an admin can read of the fixture's projects: equal snapshots before
// and after an actor's run mean the actor changed nothing.
func (f *axFixture) snapshot(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, p := range []string{
		"/api/v4/secrets?projectId=" + f.P + "&environment=dev&recursive=true&includeImports=true",
		"/api/v4/secrets?projectId=" + f.P + "&environment=prod&recursive=true",
		"/api/v4/secrets/ROLL/versions?projectId=" + f.P + "&environment=dev",
		"/api/v1/folders?workspaceId=" + f.P + "&environment=dev&path=/",
		"/api/v1/secret-imports?workspaceId=" + f.P + "&environment=dev&path=/",
		"/api/v1/projects/" + f.P + "/tags",
		"/api/v1/projects/" + f.P + "/roles",
		"/api/v1/projects/" + f.P,
		"/api/v1/projects/" + f.P2,
		"/api/v2/workspace/" + f.P + "/identity-memberships",
		"/api/v1/workspace/" + f.P + "/memberships",
	} {
		b.Write(f.n.MustDo(t, http.MethodGet, p, f.adminToken, nil).Body)
	}
	return b.String()
}

// axRoute is one request of the project matrix.
type axRoute struct {
	name    string
	pattern string // the route of api.Patterns() it runs
	method  string
	path    func(f *axFixture) string
	body    func(f *axFixture) any
	act     authz.Action
	sub     authz.Subject
	env, at string // the environment and path the service checks; "" for the whole project
	// foreign is the status an admin of another organization gets, when not the refusal of
	// every other route (404).
	foreign int
}

// axRoutes is every route of internal/api/api.go that takes a project, in an order that lets
// the allowed ones all succeed on one fixture (deletes of the projects last).
func axRoutes() []axRoute {
	q := func(key, env, path string) func(f *axFixture) string {
		return func(f *axFixture) string {
			return key + "=" + f.P + "&environment=" + env + "&secretPath=" + url.QueryEscape(path)
		}
	}
	q4, q3 := q("projectId", "dev", "/"), q("workspaceId", "dev", "/")
	body := func(key, env, path string, extra map[string]any) func(f *axFixture) any {
		return func(f *axFixture) any {
			m := map[string]any{key: f.P, "environment": env, "secretPath": path}
			if key == "workspaceId" {
				m["type"] = "shared"
			}
			for k, v := range extra {
				m[k] = v
			}
			return m
		}
	}
	b4 := func(extra map[string]any) func(f *axFixture) any { return body("projectId", "dev", "/", extra) }
	b3 := func(extra map[string]any) func(f *axFixture) any { return body("workspaceId", "dev", "/", extra) }
	path := func(format string, fields ...func(f *axFixture) string) func(f *axFixture) string {
		return func(f *axFixture) string {
			args := make([]any, len(fields))
			for i, fn := range fields {
				args[i] = fn(f)
			}
			return fmt.Sprintf(format, args...)
		}
	}
	P := func(f *axFixture) string { return f.P }
	S1 := func(f *axFixture) string { return f.Slug }
	fb := func(env string, extra map[string]any) func(f *axFixture) any { // folders and imports
		return func(f *axFixture) any {
			m := map[string]any{"workspaceId": f.P, "environment": env, "path": "/"}
			for k, v := range extra {
				m[k] = v
			}
			return m
		}
	}
	fixed := func(v any) func(*axFixture) any { return func(*axFixture) any { return v } }
	none := fixed(nil)
	perms := []map[string]any{{"subject": "secrets", "action": []string{"read"}, "conditions": map[string]any{"environment": "dev"}}}
	const (
		R = authz.Read
		C = authz.Create
		E = authz.Edit
		D = authz.Delete
		S = authz.Secrets
	)
	const (
		v4     = "/api/v4/secrets"
		v4one  = "/api/v4/secrets/{name}"
		v4b    = "/api/v4/secrets/batch"
		v3     = "/api/v3/secrets/raw"
		v3one  = "/api/v3/secrets/raw/{name}"
		v3b    = "/api/v3/secrets/batch/raw"
		sub    = "/api/v1/projects/{projectId}/{sub}"
		tagOne = "/api/v1/projects/{projectId}/tags/{tagId}"
		roleID = "/api/v1/projects/{projectId}/roles/{roleId}"
		roles2 = "/api/v2/workspace/{projectId}/roles"
		rolesS = "/api/v1/workspace/{projectSlug}/roles"
		im     = "/api/v2/workspace/{projectId}/identity-memberships/{identityId}"
		umV1   = "/api/v1/workspace/{projectId}/memberships"
		umV2   = "/api/v2/workspace/{projectId}/memberships"
	)
	return []axRoute{
		// Secrets v4, at dev's root.
		{"v4 list", "GET " + v4, "GET", path(v4+"?%s", q4), none, R, S, "dev", "/", 0},
		{"v4 get", "GET " + v4one, "GET", path(v4+"/GET_KEY?%s", q4), none, R, S, "dev", "/", 0},
		{"v4 create", "POST " + v4one, "POST", path(v4 + "/NEW4"), b4(map[string]any{"secretValue": "new"}), C, S, "dev", "/", 0},
		{"v4 update", "PATCH " + v4one, "PATCH", path(v4 + "/UPD4"), b4(map[string]any{"secretValue": "changed"}), E, S, "dev", "/", 0},
		{"v4 delete", "DELETE " + v4one, "DELETE", path(v4 + "/DEL4"), b4(nil), D, S, "dev", "/", 0},
		{"v4 batch create", "POST " + v4b, "POST", path(v4b), b4(map[string]any{"secrets": []map[string]any{{"secretKey": "BNEW4", "secretValue": "n"}}}), C, S, "dev", "/", 0},
		{"v4 batch update", "PATCH " + v4b, "PATCH", path(v4b), b4(map[string]any{"secrets": []map[string]any{{"secretKey": "BUPD4", "secretValue": "u"}}}), E, S, "dev", "/", 0},
		{"v4 batch delete", "DELETE " + v4b, "DELETE", path(v4b), b4(map[string]any{"secrets": []map[string]any{{"secretKey": "BDEL4"}}}), D, S, "dev", "/", 0},
		{"v4 versions", "GET " + v4one + "/versions", "GET", path(v4+"/ROLL/versions?%s", q4), none, R, S, "dev", "/", 0},
		{"v4 rollback", "POST " + v4one + "/rollback", "POST", path(v4 + "/ROLL/rollback"), b4(map[string]any{"version": 1}), E, S, "dev", "/", 0},
		// Secrets v4 elsewhere: under /app, under /app/private, in prod.
		{"v4 get /app", "GET " + v4one, "GET", path(v4+"/APP_GET?%s", q("projectId", "dev", "/app")), none, R, S, "dev", "/app", 0},
		{"v4 list /app recursive", "GET " + v4, "GET", path(v4+"?recursive=true&%s", q("projectId", "dev", "/app")), none, R, S, "dev", "/app", 0},
		{"v4 create /app", "POST " + v4one, "POST", path(v4 + "/APP_NEW"), body("projectId", "dev", "/app", map[string]any{"secretValue": "n"}), C, S, "dev", "/app", 0},
		{"v4 update /app", "PATCH " + v4one, "PATCH", path(v4 + "/APP_UPD"), body("projectId", "dev", "/app", map[string]any{"secretValue": "u"}), E, S, "dev", "/app", 0},
		{"v4 delete /app", "DELETE " + v4one, "DELETE", path(v4 + "/APP_DEL"), body("projectId", "dev", "/app", nil), D, S, "dev", "/app", 0},
		{"v4 get /app/private", "GET " + v4one, "GET", path(v4+"/PRIV?%s", q("projectId", "dev", "/app/private")), none, R, S, "dev", "/app/private", 0},
		{"v4 get prod", "GET " + v4one, "GET", path(v4+"/PROD_KEY?%s", q("projectId", "prod", "/")), none, R, S, "prod", "/", 0},
		{"v4 list prod", "GET " + v4, "GET", path(v4+"?%s", q("projectId", "prod", "/")), none, R, S, "prod", "/", 0},
		// Secrets v3 raw.
		{"v3 list", "GET " + v3, "GET", path(v3+"?%s", q3), none, R, S, "dev", "/", 0},
		{"v3 get", "GET " + v3one, "GET", path(v3+"/GET_KEY?%s", q3), none, R, S, "dev", "/", 0},
		{"v3 get /app", "GET " + v3one, "GET", path(v3+"/APP_GET?%s", q("workspaceId", "dev", "/app")), none, R, S, "dev", "/app", 0},
		{"v3 create", "POST " + v3one, "POST", path(v3 + "/NEW3"), b3(map[string]any{"secretValue": "new"}), C, S, "dev", "/", 0},
		{"v3 update", "PATCH " + v3one, "PATCH", path(v3 + "/UPD3"), b3(map[string]any{"secretValue": "changed"}), E, S, "dev", "/", 0},
		{"v3 delete", "DELETE " + v3one, "DELETE", path(v3 + "/DEL3"), b3(nil), D, S, "dev", "/", 0},
		{"v3 batch create", "POST " + v3b, "POST", path(v3b), b3(map[string]any{"secrets": []map[string]any{{"secretKey": "BNEW3", "secretValue": "n"}}}), C, S, "dev", "/", 0},
		{"v3 batch update", "PATCH " + v3b, "PATCH", path(v3b), b3(map[string]any{"secrets": []map[string]any{{"secretKey": "BUPD3", "secretValue": "u"}}}), E, S, "dev", "/", 0},
		{"v3 batch delete", "DELETE " + v3b, "DELETE", path(v3b), b3(map[string]any{"secrets": []map[string]any{{"secretKey": "BDEL3"}}}), D, S, "dev", "/", 0},
		// Folders.
		{"folders list", "GET /api/v1/folders", "GET", path("/api/v1/folders?workspaceId=%s&environment=dev&path=/", P), none, R, authz.Folders, "dev", "/", 0},
		{"folder create", "POST /api/v1/folders", "POST", path("/api/v1/folders"), fb("dev", map[string]any{"name": "fnew"}), C, authz.Folders, "dev", "/fnew", 0},
		{"folder create in prod", "POST /api/v1/folders", "POST", path("/api/v1/folders"), fb("prod", map[string]any{"name": "fprod"}), C, authz.Folders, "prod", "/fprod", 0},
		{"folder update", "PATCH /api/v1/folders/{id}", "PATCH", path("/api/v1/folders/%s", func(f *axFixture) string { return f.FolderUpd }), fb("dev", map[string]any{"name": "fupd2"}), E, authz.Folders, "dev", "/fupd", 0},
		{"folder delete", "DELETE /api/v1/folders/{id}", "DELETE", path("/api/v1/folders/%s", func(f *axFixture) string { return f.FolderDel }), fb("dev", nil), D, authz.Folders, "dev", "/fdel", 0},
		// Imports.
		{"imports list", "GET /api/v1/secret-imports", "GET", path("/api/v1/secret-imports?workspaceId=%s&environment=dev&path=/", P), none, R, authz.Imports, "dev", "/", 0},
		{"import create", "POST /api/v1/secret-imports", "POST", path("/api/v1/secret-imports"), fb("dev", map[string]any{"import": map[string]any{"environment": "prod", "path": "/src"}}), C, authz.Imports, "dev", "/", 0},
		{"import update", "PATCH /api/v1/secret-imports/{id}", "PATCH", path("/api/v1/secret-imports/%s", func(f *axFixture) string { return f.ImportUpd }), fb("dev", map[string]any{"import": map[string]any{"position": 2}}), E, authz.Imports, "dev", "/", 0},
		{"import delete", "DELETE /api/v1/secret-imports/{id}", "DELETE", path("/api/v1/secret-imports/%s", func(f *axFixture) string { return f.ImportDel }), fb("dev", nil), D, authz.Imports, "dev", "/", 0},
		// Tags.
		{"tags list", "GET " + sub, "GET", path("/api/v1/projects/%s/tags", P), none, R, authz.Tags, "", "", 0},
		{"tag get", "GET " + tagOne, "GET", path("/api/v1/projects/%s/tags/%s", P, func(f *axFixture) string { return f.TagGet }), none, R, authz.Tags, "", "", 0},
		{"tag get by slug", "GET /api/v1/projects/{projectId}/tags/slug/{slug}", "GET", path("/api/v1/projects/%s/tags/slug/tget", P), none, R, authz.Tags, "", "", 0},
		{"tag create", "POST /api/v1/projects/{projectId}/tags", "POST", path("/api/v1/projects/%s/tags", P), fixed(map[string]any{"slug": "tnew", "color": "#444"}), C, authz.Tags, "", "", 0},
		{"tag update", "PATCH " + tagOne, "PATCH", path("/api/v1/projects/%s/tags/%s", P, func(f *axFixture) string { return f.TagUpd }), fixed(map[string]any{"slug": "tupd2", "color": "#555"}), E, authz.Tags, "", "", 0},
		{"tag delete", "DELETE " + tagOne, "DELETE", path("/api/v1/projects/%s/tags/%s", P, func(f *axFixture) string { return f.TagDel }), none, D, authz.Tags, "", "", 0},
		// Custom roles.
		{"roles list", "GET " + sub, "GET", path("/api/v1/projects/%s/roles", P), none, R, authz.Roles, "", "", 0},
		{"role get by slug", "GET /api/v1/projects/{projectId}/roles/slug/{roleSlug}", "GET", path("/api/v1/projects/%s/roles/slug/rget", P), none, R, authz.Roles, "", "", 0},
		{"role create", "POST /api/v1/projects/{projectId}/roles", "POST", path("/api/v1/projects/%s/roles", P), fixed(map[string]any{"slug": "rnew", "name": "New", "permissions": perms}), C, authz.Roles, "", "", 0},
		{"role update", "PATCH " + roleID, "PATCH", path("/api/v1/projects/%s/roles/%s", P, func(f *axFixture) string { return f.RoleUpd }), fixed(map[string]any{"name": "Role Upd 2", "permissions": perms}), E, authz.Roles, "", "", 0},
		{"role delete", "DELETE " + roleID, "DELETE", path("/api/v1/projects/%s/roles/%s", P, func(f *axFixture) string { return f.RoleDel }), none, D, authz.Roles, "", "", 0},
		{"role get by id", "GET /api/v1/projects/roles/{roleId}", "GET", path("/api/v1/projects/roles/%s", func(f *axFixture) string { return f.RoleGet }), none, R, authz.Roles, "", "", 0},
		{"v2 roles list", "GET " + roles2, "GET", path("/api/v2/workspace/%s/roles", P), none, R, authz.Roles, "", "", 0},
		{"v2 role get by slug", "GET " + roles2 + "/slug/{roleSlug}", "GET", path("/api/v2/workspace/%s/roles/slug/rget", P), none, R, authz.Roles, "", "", 0},
		{"v2 role create", "POST " + roles2, "POST", path("/api/v2/workspace/%s/roles", P), fixed(map[string]any{"slug": "rnew2", "name": "New 2", "permissions": perms}), C, authz.Roles, "", "", 0},
		{"v2 role update", "PATCH " + roles2 + "/{roleId}", "PATCH", path("/api/v2/workspace/%s/roles/%s", P, func(f *axFixture) string { return f.RoleUpd }), fixed(map[string]any{"description": "v2"}), E, authz.Roles, "", "", 0},
		{"v2 role delete", "DELETE " + roles2 + "/{roleId}", "DELETE", path("/api/v2/workspace/%s/roles/%s", P, func(f *axFixture) string { return f.RoleDel2 }), none, D, authz.Roles, "", "", 0},
		{"slug roles list", "GET " + rolesS, "GET", path("/api/v1/workspace/%s/roles", S1), none, R, authz.Roles, "", "", 0},
		{"slug role get by slug", "GET " + rolesS + "/slug/{roleSlug}", "GET", path("/api/v1/workspace/%s/roles/slug/rget", S1), none, R, authz.Roles, "", "", 0},
		{"slug role create", "POST " + rolesS, "POST", path("/api/v1/workspace/%s/roles", S1), fixed(map[string]any{"slug": "rnew1", "name": "New 1", "permissions": perms}), C, authz.Roles, "", "", 0},
		{"slug role update", "PATCH " + rolesS + "/{roleId}", "PATCH", path("/api/v1/workspace/%s/roles/%s", S1, func(f *axFixture) string { return f.RoleUpd }), fixed(map[string]any{"description": "v1"}), E, authz.Roles, "", "", 0},
		{"slug role delete", "DELETE " + rolesS + "/{roleId}", "DELETE", path("/api/v1/workspace/%s/roles/%s", S1, func(f *axFixture) string { return f.RoleDel3 }), none, D, authz.Roles, "", "", 0},
		// Project reads and the project's audit log.
		{"workspace get", "GET /api/v1/workspace/{id}", "GET", path("/api/v1/workspace/%s", P), none, R, authz.Settings, "", "", 0},
		{"project get", "GET /api/v1/projects/{id}", "GET", path("/api/v1/projects/%s", P), none, R, authz.Settings, "", "", 0},
		{"project get by slug", "GET " + sub, "GET", path("/api/v1/projects/slug/%s", func(f *axFixture) string { return f.Slug }), none, R, authz.Settings, "", "", 0},
		// An admin of another organization reads its own organization's log, filtered to a
		// project it does not have: nothing.
		{"project audit logs", "GET /api/v1/organization/audit-logs", "GET", path("/api/v1/organization/audit-logs?projectId=%s", P), none, R, authz.AuditLogs, "", "", http.StatusOK},
		// Environments, both mounts.
		{"workspace env create", "POST /api/v1/workspace/{projectId}/environments", "POST", path("/api/v1/workspace/%s/environments", P), fixed(map[string]any{"name": "New A", "slug": "new-a"}), C, authz.Settings, "", "", 0},
		{"project env create", "POST /api/v1/projects/{projectId}/environments", "POST", path("/api/v1/projects/%s/environments", P), fixed(map[string]any{"name": "New B", "slug": "new-b"}), C, authz.Settings, "", "", 0},
		{"workspace env update", "PATCH /api/v1/workspace/{projectId}/environments/{envId}", "PATCH", path("/api/v1/workspace/%s/environments/%s", P, func(f *axFixture) string { return f.EnvUpd }), fixed(map[string]any{"name": "Upd A"}), E, authz.Settings, "", "", 0},
		{"project env update", "PATCH /api/v1/projects/{projectId}/environments/{envId}", "PATCH", path("/api/v1/projects/%s/environments/%s", P, func(f *axFixture) string { return f.EnvUpd }), fixed(map[string]any{"name": "Upd B"}), E, authz.Settings, "", "", 0},
		{"workspace env delete", "DELETE /api/v1/workspace/{projectId}/environments/{envId}", "DELETE", path("/api/v1/workspace/%s/environments/%s", P, func(f *axFixture) string { return f.EnvDelA }), none, D, authz.Settings, "", "", 0},
		{"project env delete", "DELETE /api/v1/projects/{projectId}/environments/{envId}", "DELETE", path("/api/v1/projects/%s/environments/%s", P, func(f *axFixture) string { return f.EnvDelB }), none, D, authz.Settings, "", "", 0},
		{"project keys", "GET /api/v1/workspace/{projectId}/keys", "GET", path("/api/v1/workspace/%s/keys", P), none, R, authz.Settings, "", "", 0},
		{"project key rotate", "POST /api/v1/workspace/{projectId}/keys/rotate", "POST", path("/api/v1/workspace/%s/keys/rotate", P), none, E, authz.Settings, "", "", 0},
		// Identity memberships.
		{"memberships list", "GET /api/v2/workspace/{projectId}/identity-memberships", "GET", path("/api/v2/workspace/%s/identity-memberships", P), none, R, authz.Members, "", "", 0},
		{"membership set custom role", "POST " + im, "POST", path("/api/v2/workspace/%s/identity-memberships/%s", P, func(f *axFixture) string { return f.Target }), fixed(map[string]any{"role": "rget"}), E, authz.Members, "", "", 0},
		{"membership set (POST)", "POST " + im, "POST", path("/api/v2/workspace/%s/identity-memberships/%s", P, func(f *axFixture) string { return f.Target }), fixed(map[string]any{"role": "member"}), E, authz.Members, "", "", 0},
		{"membership set (PATCH)", "PATCH " + im, "PATCH", path("/api/v2/workspace/%s/identity-memberships/%s", P, func(f *axFixture) string { return f.Target }), fixed(map[string]any{"roles": []map[string]any{{"role": "viewer"}}}), E, authz.Members, "", "", 0},
		{"membership delete", "DELETE " + im, "DELETE", path("/api/v2/workspace/%s/identity-memberships/%s", P, func(f *axFixture) string { return f.Target }), none, D, authz.Members, "", "", 0},
		// User memberships.
		{"user memberships list", "GET " + umV1, "GET", path("/api/v1/workspace/%s/memberships", P), none, R, authz.Members, "", "", 0},
		{"user memberships add", "POST " + umV2, "POST", path("/api/v2/workspace/%s/memberships", P), func(f *axFixture) any {
			return map[string]any{"usernames": []string{f.UserAdd}, "roleSlugs": []string{"member"}}
		}, C, authz.Members, "", "", 0},
		{"user membership update", "PATCH " + umV1 + "/{membershipId}", "PATCH", path("/api/v1/workspace/%s/memberships/%s", P, func(f *axFixture) string { return f.UserMembership }),
			fixed(map[string]any{"roles": []map[string]any{{"role": "member"}}}), E, authz.Members, "", "", 0},
		{"user memberships delete", "DELETE " + umV2, "DELETE", path("/api/v2/workspace/%s/memberships", P), func(f *axFixture) any {
			return map[string]any{"usernames": []string{f.UserTarget}}
		}, D, authz.Members, "", "", 0},
		// Project deletes, last.
		{"project delete", "DELETE /api/v1/projects/{id}", "DELETE", path("/api/v1/projects/%s", func(f *axFixture) string { return f.P2 }), none, D, authz.Settings, "", "", 0},
		{"workspace delete", "DELETE /api/v1/workspace/{id}", "DELETE", path("/api/v1/workspace/%s", P), none, D, authz.Settings, "", "", 0},
	}
}

// axOrgFixture is what one actor runs the organization routes against: objects of the
// organization made for it by the organization admin.
type axOrgFixture struct {
	OrgID          string
	DelIdentity    string // deleted by the identity-delete route
	UAAttach       string // an identity without universal auth, for the attach route
	UAIdentity     string // an identity with universal auth
	ClientSecretID string // a client secret of UAIdentity, revoked by the route
	Invitation     string // revoked by the route
	MemberUser     string // a user member whose role is set, then removed
}

// axOrgRoute is one request of the organization matrix.
type axOrgRoute struct {
	name    string
	pattern string
	path    func(o *axOrgFixture) string
	body    func(o *axOrgFixture) any
	allow   []string // organization roles allowed; nil: every authenticated actor
	// scoped routes name this organization or its objects: an admin of another organization is
	// refused (403 or 404). Other routes act in the actor's own organization.
	scoped bool
}

func axOrgRoutes() []axOrgRoute {
	admins := []string{coffer.RoleOwner, coffer.RoleAdmin}
	members := []string{coffer.RoleOwner, coffer.RoleAdmin, coffer.RoleMember}
	p := func(format string, fields ...func(o *axOrgFixture) string) func(o *axOrgFixture) string {
		return func(o *axOrgFixture) string {
			args := make([]any, len(fields))
			for i, fn := range fields {
				args[i] = fn(o)
			}
			return fmt.Sprintf(format, args...)
		}
	}
	org := func(o *axOrgFixture) string { return o.OrgID }
	none := func(*axOrgFixture) any { return nil }
	fixed := func(v any) func(*axOrgFixture) any { return func(*axOrgFixture) any { return v } }
	const ua = "/api/v1/auth/universal-auth/identities/"
	uaID := func(o *axOrgFixture) string { return o.UAIdentity }
	return []axOrgRoute{
		{"whoami", "GET /api/v1/auth/me", p("/api/v1/auth/me"), none, nil, false},
		{"organization get", "GET /api/v1/organizations/{orgId}", p("/api/v1/organizations/%s", org), none, members, true},
		{"organization update", "PATCH /api/v1/organizations/{orgId}", p("/api/v1/organizations/%s", org), fixed(map[string]any{"enforceMfa": false}), admins, true},
		{"members list", "GET /api/v1/organizations/{orgId}/members", p("/api/v1/organizations/%s/members", org), none, members, true},
		{"member set role", "PATCH /api/v1/organizations/{orgId}/members/{userId}", p("/api/v1/organizations/%s/members/%s", org, func(o *axOrgFixture) string { return o.MemberUser }), fixed(map[string]any{"role": "member"}), admins, true},
		{"invitation create", "POST /api/v1/organizations/{orgId}/invitations", p("/api/v1/organizations/%s/invitations", org), func(*axOrgFixture) any {
			return map[string]any{"email": "inv-" + axRandHex(6) + "@example.com", "role": "member"}
		}, admins, true},
		{"invitations list", "GET /api/v1/organizations/{orgId}/invitations", p("/api/v1/organizations/%s/invitations", org), none, admins, true},
		{"invitation revoke", "DELETE /api/v1/organizations/{orgId}/invitations/{invitationId}", p("/api/v1/organizations/%s/invitations/%s", org, func(o *axOrgFixture) string { return o.Invitation }), none, admins, true},
		{"member remove", "DELETE /api/v1/organizations/{orgId}/members/{userId}", p("/api/v1/organizations/%s/members/%s", org, func(o *axOrgFixture) string { return o.MemberUser }), none, admins, true},
		{"workspace create", "POST /api/v2/workspace", p("/api/v2/workspace"), func(o *axOrgFixture) any {
			return map[string]any{"projectName": "org matrix", "organizationId": o.OrgID}
		}, members, true},
		{"project create", "POST /api/v1/projects", p("/api/v1/projects"), func(o *axOrgFixture) any {
			return map[string]any{"projectName": "org matrix", "organizationId": o.OrgID}
		}, members, true},
		{"workspaces list", "GET /api/v1/workspace", p("/api/v1/workspace"), none, nil, false},
		{"projects list", "GET /api/v1/projects", p("/api/v1/projects"), none, nil, false},
		{"identity create", "POST /api/v1/identities", p("/api/v1/identities"), func(o *axOrgFixture) any {
			return map[string]any{"name": "org-matrix", "organizationId": o.OrgID, "role": "no-access"}
		}, admins, true},
		{"identities list", "GET /api/v1/identities", p("/api/v1/identities?orgId=%s", org), none, admins, true},
		{"identity get", "GET /api/v1/identities/{id}", p("/api/v1/identities/%s", uaID), none, admins, true},
		{"universal auth attach", "POST " + ua + "{identityId}", p(ua+"%s", func(o *axOrgFixture) string { return o.UAAttach }), fixed(map[string]any{}), admins, true},
		{"universal auth get", "GET " + ua + "{identityId}", p(ua+"%s", uaID), none, admins, true},
		{"universal auth update", "PATCH " + ua + "{identityId}", p(ua+"%s", uaID), fixed(map[string]any{"accessTokenTTL": 3600}), admins, true},
		{"client secret create", "POST " + ua + "{identityId}/client-secrets", p(ua+"%s/client-secrets", uaID), fixed(map[string]any{"description": "m"}), admins, true},
		{"client secrets list", "GET " + ua + "{identityId}/client-secrets", p(ua+"%s/client-secrets", uaID), none, admins, true},
		{"client secret revoke", "POST " + ua + "{identityId}/client-secrets/{secretId}/revoke", p(ua+"%s/client-secrets/%s/revoke", uaID, func(o *axOrgFixture) string { return o.ClientSecretID }), none, admins, true},
		{"identity delete", "DELETE /api/v1/identities/{id}", p("/api/v1/identities/%s", func(o *axOrgFixture) string { return o.DelIdentity }), none, admins, true},
		{"audit logs (organization)", "GET /api/v1/organization/audit-logs", p("/api/v1/organization/audit-logs"), none, admins, false},
		{"audit logs (organization id)", "GET /api/v1/organization/{orgId}/audit-logs", p("/api/v1/organization/%s/audit-logs", org), none, admins, true},
		{"audit logs", "GET /api/v1/audit-logs", p("/api/v1/audit-logs"), none, admins, false},
	}
}

// axOrgAllows reports whether an actor may run an organization route.
func axOrgAllows(a *axActor, rt axOrgRoute) bool {
	switch {
	case a.token == "":
		return false
	case a.otherOrg:
		return !rt.scoped && (rt.allow == nil || slices.Contains(rt.allow, coffer.RoleAdmin))
	case rt.allow == nil:
		return true
	}
	return slices.Contains(rt.allow, a.orgRole)
}

// axSelfRoutes act on the calling user's own account (sign-out, sessions, password, TOTP):
// no role enters into them, and e2e_users_test.go tests what they do. The matrix requires a
// bearer for each.
var axSelfRoutes = []string{
	"POST /api/v1/auth/logout",
	"GET /api/v1/auth/sessions",
	"DELETE /api/v1/auth/sessions",
	"DELETE /api/v1/auth/sessions/{id}",
	"POST /api/v1/auth/password/change",
	"GET /api/v1/auth/totp",
	"POST /api/v1/auth/totp/disable",
}

// axPublicRoutes need no bearer, and what an anonymous request with an empty JSON object
// gets from each (health, sign-in, sign-up, bootstrap of a bootstrapped node…).
var axPublicRoutes = map[string]int{
	"GET /api/status":                          http.StatusOK,
	"GET /healthz":                             http.StatusOK,
	"GET /readyz":                              http.StatusOK,
	"POST /api/v1/auth/universal-auth/login":   http.StatusUnprocessableEntity,
	"POST /api/v1/auth/token/renew":            http.StatusUnprocessableEntity,
	"POST /api/v1/auth/token/revoke":           http.StatusUnprocessableEntity,
	"POST /api/v1/auth/password/login":         http.StatusUnprocessableEntity,
	"POST /api/v1/admin/bootstrap":             http.StatusUnprocessableEntity,
	"POST /api/v1/auth/login":                  http.StatusUnprocessableEntity,
	"POST /api/v1/auth/signup":                 http.StatusForbidden,
	"POST /api/v1/auth/password/reset/request": http.StatusUnprocessableEntity,
	"POST /api/v1/auth/password/reset":         http.StatusUnprocessableEntity,
	"POST /api/v1/auth/totp/enroll":            http.StatusUnauthorized,
	"POST /api/v1/auth/totp/confirm":           http.StatusUnauthorized,
	"POST /api/v1/invitations/accept":          http.StatusUnprocessableEntity,
}

// TestE2ERouteMatrixCoversEveryRoute fails when a route of internal/api is missing from the
// matrix (or the matrix names a route that no longer exists): every new route must be
// classified as a project route, an organization route, a self route or a public route.
func TestE2ERouteMatrixCoversEveryRoute(t *testing.T) {
	t.Parallel()
	classified := map[string]string{} // a route may be both a project and an organization route
	add := func(pattern, class string) {
		if prev, ok := classified[pattern]; ok && prev != class && (prev == "self" || prev == "public" || class == "self" || class == "public") {
			t.Errorf("route %s is classified both as %s and as %s", pattern, prev, class)
		}
		classified[pattern] = class
	}
	for _, rt := range axRoutes() {
		add(rt.pattern, "project")
	}
	for _, rt := range axOrgRoutes() {
		add(rt.pattern, "organization")
	}
	for _, p := range axSelfRoutes {
		add(p, "self")
	}
	for p := range axPublicRoutes {
		add(p, "public")
	}
	registered := map[string]bool{}
	for _, p := range api.Patterns() {
		registered[p] = true
		if _, ok := classified[p]; !ok {
			t.Errorf("route %s is registered in internal/api but missing from the role matrix (e2e_matrix_test.go): classify it", p)
		}
	}
	for p := range classified {
		if !registered[p] {
			t.Errorf("the role matrix names route %s, which internal/api does not register", p)
		}
	}
	if !registered["GET /api/v4/secrets"] || !registered["GET /api/status"] {
		t.Errorf("api.Patterns() returned %d routes, without the secrets list or the status route: it does not record every route", len(registered))
	}
}

// axMemberUser makes a user member of the admin's organization through an invitation, and
// returns its id.
func axMemberUser(t *testing.T, n *servertest.Node, admin *servertest.Admin) string {
	t.Helper()
	id, _ := axMemberUserEmail(t, n, admin)
	return id
}

// axMemberUserEmail is axMemberUser, returning the user's e-mail address too.
func axMemberUserEmail(t *testing.T, n *servertest.Node, admin *servertest.Admin) (string, string) {
	t.Helper()
	email := "member-" + axRandHex(6) + "@example.com"
	res := n.MustDo(t, http.MethodPost, "/api/v1/organizations/"+admin.OrgID+"/invitations", admin.Token,
		map[string]any{"email": email, "role": coffer.RoleMember}).Map(t)
	link, _ := res["inviteLink"].(string)
	u, err := url.Parse(link)
	if err != nil || u.Query().Get("token") == "" {
		t.Fatalf("invitation without a link: %v", res)
	}
	n.MustDo(t, http.MethodPost, "/api/v1/invitations/accept", "", map[string]any{"token": u.Query().Get("token"), "name": "Member", "password": "a long enough password 1"})
	var out struct {
		Members []struct {
			UserID string `json:"userId"`
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
	t.Fatalf("user %s is not a member after accepting: %+v", email, out.Members)
	return "", ""
}

// addUsers makes the fixture's user targets: target a viewer of P, add an organization
// member only.
func (f *axFixture) addUsers(t *testing.T, target, add string) {
	t.Helper()
	f.UserTarget, f.UserAdd = target, add
	var out struct {
		Memberships []struct {
			ID string `json:"id"`
		} `json:"memberships"`
	}
	f.n.MustDo(t, http.MethodPost, "/api/v2/workspace/"+f.P+"/memberships", f.adminToken,
		map[string]any{"usernames": []string{target}, "roleSlugs": []string{coffer.RoleViewer}}).JSON(t, &out)
	if len(out.Memberships) != 1 || out.Memberships[0].ID == "" {
		t.Fatalf("adding %s to the fixture project: %+v", target, out)
	}
	f.UserMembership = out.Memberships[0].ID
}

func axNewOrgFixture(t *testing.T, n *servertest.Node, admin *servertest.Admin, a *axActor) *axOrgFixture {
	t.Helper()
	o := &axOrgFixture{OrgID: admin.OrgID}
	slug := strings.ReplaceAll(a.name, " ", "-")
	o.DelIdentity = axCreateIdentity(t, n, admin, "del-"+slug, coffer.RoleNoAccess)
	o.UAAttach = axCreateIdentity(t, n, admin, "attach-"+slug, coffer.RoleNoAccess)
	o.UAIdentity = axCreateIdentity(t, n, admin, "ua-"+slug, coffer.RoleNoAccess)
	axAttach(t, n, admin, o.UAIdentity, map[string]any{})
	_, cs := axClientSecret(t, n, admin, o.UAIdentity, map[string]any{"description": "to revoke"})
	o.ClientSecretID = cs.ID
	inv := n.MustDo(t, http.MethodPost, "/api/v1/organizations/"+admin.OrgID+"/invitations", admin.Token,
		map[string]any{"email": "revoke-" + axRandHex(6) + "@example.com", "role": coffer.RoleMember}).Map(t)
	o.Invitation = inv["invitation"].(map[string]any)["id"].(string)
	if axOrgAllows(a, axOrgRoute{allow: []string{coffer.RoleOwner, coffer.RoleAdmin}, scoped: true}) {
		o.MemberUser = axMemberUser(t, n, admin)
	} else {
		o.MemberUser = "00000000-0000-7000-8000-000000000000" // refused before it is looked up
	}
	return o
}

// axOwnerToken signs the bootstrap user (the organization's owner) in.
func axOwnerToken(t *testing.T, n *servertest.Node, admin *servertest.Admin) string {
	t.Helper()
	res := n.MustDo(t, http.MethodPost, "/api/v1/auth/login", "", map[string]any{"email": admin.Email, "password": admin.Password}).Map(t)
	tok, _ := res["accessToken"].(string)
	if tok == "" {
		t.Fatalf("owner login: no accessToken: %v", res)
	}
	return tok
}

func TestE2ERolesMatrix(t *testing.T) {
	t.Parallel()
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		t.Parallel()
		n, admin := axStart(t, dialect)
		target := axCreateIdentity(t, n, admin, "matrix-target", coffer.RoleNoAccess)
		_, userTarget := axMemberUserEmail(t, n, admin)
		_, userAdd := axMemberUserEmail(t, n, admin)
		_, _, otherOrgToken := axOtherOrgAdmin(t, n)

		actors := []*axActor{
			{name: "org owner", orgRole: coffer.RoleOwner, effective: coffer.RoleAdmin, deny: http.StatusForbidden, token: axOwnerToken(t, n, admin)},
			{name: "org admin", orgRole: coffer.RoleAdmin, effective: coffer.RoleAdmin, deny: http.StatusForbidden, token: admin.Token},
			{name: "org member", orgRole: coffer.RoleMember, deny: http.StatusForbidden},
			{name: "admin", orgRole: coffer.RoleNoAccess, role: coffer.RoleAdmin, effective: coffer.RoleAdmin, deny: http.StatusForbidden},
			{name: "member", orgRole: coffer.RoleNoAccess, role: coffer.RoleMember, effective: coffer.RoleMember, deny: http.StatusForbidden},
			{name: "viewer", orgRole: coffer.RoleNoAccess, role: coffer.RoleViewer, effective: coffer.RoleViewer, deny: http.StatusForbidden},
			{name: "no-access", orgRole: coffer.RoleNoAccess, role: coffer.RoleNoAccess, effective: coffer.RoleNoAccess, deny: http.StatusForbidden},
			{name: "custom dev-app", orgRole: coffer.RoleNoAccess, role: axCustomSlug, effective: axCustomSlug, deny: http.StatusForbidden},
			{name: "identity not in project", orgRole: coffer.RoleNoAccess, deny: http.StatusForbidden},
			{name: "other org admin", otherOrg: true, deny: http.StatusNotFound, token: otherOrgToken},
			{name: "anonymous", deny: http.StatusUnauthorized},
		}
		for _, a := range actors {
			if a.token == "" && a.name != "anonymous" {
				a.identityID, _, _, a.token = n.NewIdentity(t, admin, "matrix-"+strings.ReplaceAll(a.name, " ", "-"), a.orgRole)
			}
		}
		routes, orgRoutes := axRoutes(), axOrgRoutes()
		for _, a := range actors {
			t.Run(a.name, func(t *testing.T) {
				t.Parallel()
				f := axNewFixture(t, n, admin, a.name, a.identityID, a.role, target)
				f.addUsers(t, userTarget, userAdd)
				before := f.snapshot(t)
				writes := 0
				for _, rt := range routes {
					allowed := a.allows(rt)
					if allowed && rt.act != authz.Read {
						writes++
					}
					r := n.Do(t, rt.method, rt.path(f), a.token, rt.body(f))
					what := fmt.Sprintf("%s: %s %s (%s %s at %s:%s)", rt.name, rt.method, rt.path(f), rt.act, rt.sub, rt.env, rt.at)
					switch {
					case allowed:
						axWantOK(t, r, what)
					case a.otherOrg && rt.foreign != 0:
						if r.Status != rt.foreign {
							t.Errorf("%s: status %d, want %d: %s", what, r.Status, rt.foreign, r.Body)
						}
					default:
						axWantErr(t, r, a.deny, what)
					}
				}
				switch {
				case writes == 0:
					if after := f.snapshot(t); after != before {
						t.Errorf("refused calls changed the project:\nbefore: %s\nafter:  %s", before, after)
					}
				case a.effective != axCustomSlug && slices.Contains(axRoleRules[a.effective][authz.Settings], authz.Delete):
					axWantErr(t, n.Do(t, http.MethodGet, "/api/v1/projects/"+f.P, admin.Token, nil), http.StatusNotFound, "project after workspace delete")
					axWantErr(t, n.Do(t, http.MethodGet, "/api/v1/projects/"+f.P2, admin.Token, nil), http.StatusNotFound, "project after project delete")
				default:
					axWantOK(t, n.Do(t, http.MethodGet, "/api/v1/projects/"+f.P, admin.Token, nil), "project after a refused delete")
					axWantOK(t, n.Do(t, http.MethodGet, "/api/v1/projects/"+f.P2, admin.Token, nil), "project after a refused delete")
				}

				o := axNewOrgFixture(t, n, admin, a)
				for _, rt := range orgRoutes {
					method, _, _ := strings.Cut(rt.pattern, " ")
					r := n.Do(t, method, rt.path(o), a.token, rt.body(o))
					what := fmt.Sprintf("%s: %s %s (organization role %q)", rt.name, method, rt.path(o), a.orgRole)
					switch {
					case axOrgAllows(a, rt):
						axWantOK(t, r, what)
					case a.token == "":
						axWantErr(t, r, http.StatusUnauthorized, what)
					case a.otherOrg && (r.Status == http.StatusNotFound || r.Status == http.StatusForbidden):
					case a.otherOrg:
						t.Errorf("%s: status %d, want 403 or 404: %s", what, r.Status, r.Body)
					default:
						axWantErr(t, r, http.StatusForbidden, what)
					}
				}
				for _, p := range axSelfRoutes {
					if a.token != "" {
						continue
					}
					method, path, _ := strings.Cut(p, " ")
					axWantErr(t, n.Do(t, method, strings.ReplaceAll(path, "{id}", "x"), "", map[string]any{}), http.StatusUnauthorized, "self route "+p)
				}
			})
		}
		t.Run("public routes", func(t *testing.T) {
			for p, want := range axPublicRoutes {
				method, path, _ := strings.Cut(p, " ")
				var body any
				if method != http.MethodGet {
					body = map[string]any{}
				}
				if r := n.Do(t, method, path, "", body); r.Status != want {
					t.Errorf("anonymous %s: status %d, want %d: %s", p, r.Status, want, r.Body)
				}
			}
		})
	})
}
