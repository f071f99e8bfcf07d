// Package api serves Coffer's JSON API: the Infisical-compatible machine API and the
// administration calls, shaped like Infisical's. Handlers only decode, call a service and
// encode; authorization, validation of meaning, encryption and transactions live in the
// services. Secret values appear only in response bodies, never in logs or errors.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/cofferhq/coffer/internal/audit"
	"github.com/cofferhq/coffer/internal/httpserver"
	"github.com/cofferhq/coffer/internal/identity"
	"github.com/cofferhq/coffer/internal/members"
	"github.com/cofferhq/coffer/internal/projects"
	"github.com/cofferhq/coffer/internal/secrets"
)

// API holds the services the handlers call.
type API struct {
	Log      *slog.Logger
	Secrets  *secrets.Service
	Identity *identity.Service
	Projects *projects.Service
	Members  *members.Service
	// Sessions sets the dashboard's session cookie and makes its CSRF tokens.
	Sessions httpserver.Sessions
	// Audit records permission denials; AuditReader answers audit-log queries.
	Audit       *audit.Log
	AuditReader *audit.Reader
	// Status reports optional parts of the deployment for /api/status.
	Status Status
	// Ready reports whether this node can serve (database reachable and migrated).
	Ready func(ctx context.Context) error
	// ReadyDetail, when set, adds the state of optional parts (Redis) to a ready answer; they
	// never make a node unready.
	ReadyDetail func(ctx context.Context) map[string]string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Status is what /api/status reports about the deployment.
type Status struct {
	EmailConfigured bool
	RedisConfigured bool
}

// Mux is where Routes registers the routes: an *http.ServeMux, or a recorder (Patterns).
type Mux interface {
	Handle(pattern string, handler http.Handler)
}

// Routes registers every route of the API on mux.
func (a *API) Routes(mux Mux) {
	h := httpserver.Adapter{Log: a.Log}.H
	// Routes are authenticated by default: an anonymous request gets 401 before its input is
	// looked at (as Infisical answers). Only the routes registered with public need no bearer.
	public := func(pattern string, f httpserver.HandlerFunc) { mux.Handle(pattern, h(f)) }
	handle := func(pattern string, f httpserver.HandlerFunc) {
		mux.Handle(pattern, h(a.auditDenials(requireActor(f))))
	}

	// Health and status: no authentication.
	public("GET /api/status", a.status)
	public("GET /healthz", a.healthz)
	public("GET /readyz", a.readyz)

	// Authentication: no bearer needed.
	public("POST /api/v1/auth/universal-auth/login", a.universalAuthLogin)
	public("POST /api/v1/auth/token/renew", a.renewToken)
	public("POST /api/v1/auth/token/revoke", a.revokeToken)
	public("POST /api/v1/auth/password/login", a.passwordLogin)
	public("POST /api/v1/admin/bootstrap", a.bootstrap)

	handle("GET /api/v1/auth/me", a.whoami)
	a.userRoutes(public, handle) // users: sign-in, sessions, TOTP, members, invitations (users.go)

	// Secrets, v4 (projectId) and v3 raw (workspaceId / workspaceSlug).
	for _, v := range []struct{ list, one, batch string }{
		{"/api/v4/secrets", "/api/v4/secrets/{name}", "/api/v4/secrets/batch"},
		{"/api/v3/secrets/raw", "/api/v3/secrets/raw/{name}", "/api/v3/secrets/batch/raw"},
	} {
		v3 := v.list == "/api/v3/secrets/raw"
		handle("GET "+v.list, a.listSecrets(v3))
		handle("GET "+v.one, a.getSecret)
		handle("POST "+v.one, a.createSecret)
		handle("PATCH "+v.one, a.updateSecret)
		handle("DELETE "+v.one, a.deleteSecret)
		handle("POST "+v.batch, a.createSecrets)
		handle("PATCH "+v.batch, a.updateSecrets)
		handle("DELETE "+v.batch, a.deleteSecrets)
	}
	handle("GET /api/v4/secrets/{name}/versions", a.secretVersions)
	handle("POST /api/v4/secrets/{name}/rollback", a.rollbackSecret)

	// Folders, imports, tags.
	handle("GET /api/v1/folders", a.listFolders)
	handle("POST /api/v1/folders", a.createFolder)
	handle("PATCH /api/v1/folders/{id}", a.updateFolder)
	handle("DELETE /api/v1/folders/{id}", a.deleteFolder)
	handle("GET /api/v1/secret-imports", a.listImports)
	handle("POST /api/v1/secret-imports", a.createImport)
	handle("PATCH /api/v1/secret-imports/{id}", a.updateImport)
	handle("DELETE /api/v1/secret-imports/{id}", a.deleteImport)
	// GET /api/v1/projects/slug/{slug} and GET /api/v1/projects/{projectId}/tags overlap
	// (".../slug/tags"), which ServeMux refuses; one route serves both.
	handle("GET /api/v1/projects/{projectId}/{sub}", a.projectSubresource)
	handle("POST /api/v1/projects/{projectId}/tags", a.createTag)
	handle("GET /api/v1/projects/{projectId}/tags/slug/{slug}", a.getTagBySlug)
	handle("GET /api/v1/projects/{projectId}/tags/{tagId}", a.getTag)
	handle("PATCH /api/v1/projects/{projectId}/tags/{tagId}", a.updateTag)
	handle("DELETE /api/v1/projects/{projectId}/tags/{tagId}", a.deleteTag)
	// Custom project roles (roles.go); their list is GET .../{projectId}/roles, served above.
	// Infisical's Terraform provider uses the v2 "workspace" mount and the lookup by id.
	handle("POST /api/v1/projects/{projectId}/roles", a.createRole)
	handle("GET /api/v1/projects/{projectId}/roles/slug/{roleSlug}", a.getRoleBySlug)
	handle("PATCH /api/v1/projects/{projectId}/roles/{roleId}", a.updateRole)
	handle("DELETE /api/v1/projects/{projectId}/roles/{roleId}", a.deleteRole)
	handle("GET /api/v1/projects/roles/{roleId}", a.getRole)
	handle("GET /api/v2/workspace/{projectId}/roles", a.listRoles)
	handle("POST /api/v2/workspace/{projectId}/roles", a.createRole)
	handle("GET /api/v2/workspace/{projectId}/roles/slug/{roleSlug}", a.getRoleBySlug)
	handle("PATCH /api/v2/workspace/{projectId}/roles/{roleId}", a.updateRole)
	handle("DELETE /api/v2/workspace/{projectId}/roles/{roleId}", a.deleteRole)
	const rs = "/api/v1/workspace/{projectSlug}/roles" // the provider's older mount, by slug
	handle("GET "+rs, a.bySlug(a.listRoles))
	handle("POST "+rs, a.bySlug(a.createRole))
	handle("GET "+rs+"/slug/{roleSlug}", a.bySlug(a.getRoleBySlug))
	handle("PATCH "+rs+"/{roleId}", a.bySlug(a.updateRole))
	handle("DELETE "+rs+"/{roleId}", a.bySlug(a.deleteRole))

	// Projects and environments (deprecated "workspace" paths and current "projects" paths).
	handle("POST /api/v2/workspace", a.createProject("project"))
	handle("POST /api/v1/projects", a.createProject("project"))
	handle("GET /api/v1/workspace", a.listProjects("workspaces"))
	handle("GET /api/v1/projects", a.listProjects("projects"))
	handle("GET /api/v1/workspace/{id}", a.getProject("workspace"))
	handle("GET /api/v1/projects/{id}", a.getProject("project"))
	handle("DELETE /api/v1/workspace/{id}", a.deleteProject("workspace"))
	handle("DELETE /api/v1/projects/{id}", a.deleteProject("project"))
	for _, base := range []string{"/api/v1/workspace/{projectId}/environments", "/api/v1/projects/{projectId}/environments"} {
		handle("POST "+base, a.createEnvironment)
		handle("PATCH "+base+"/{envId}", a.updateEnvironment)
		handle("DELETE "+base+"/{envId}", a.deleteEnvironment)
	}
	// Project data keys (Coffer's own): state, and rotation with a background re-seal.
	handle("GET /api/v1/workspace/{projectId}/keys", a.projectKeys)
	handle("POST /api/v1/workspace/{projectId}/keys/rotate", a.rotateProjectKey)

	// Machine identities and universal auth.
	handle("POST /api/v1/identities", a.createIdentity)
	handle("GET /api/v1/identities", a.listIdentities)
	handle("GET /api/v1/identities/{id}", a.getIdentity)
	handle("DELETE /api/v1/identities/{id}", a.deleteIdentity)
	const ua = "/api/v1/auth/universal-auth/identities/{identityId}"
	handle("POST "+ua, a.attachUniversalAuth)
	handle("GET "+ua, a.getUniversalAuth)
	handle("PATCH "+ua, a.updateUniversalAuth)
	handle("POST "+ua+"/client-secrets", a.createClientSecret)
	handle("GET "+ua+"/client-secrets", a.listClientSecrets)
	handle("POST "+ua+"/client-secrets/{secretId}/revoke", a.revokeClientSecret)
	const im = "/api/v2/workspace/{projectId}/identity-memberships"
	handle("GET "+im, a.listIdentityMemberships)
	handle("POST "+im+"/{identityId}", a.setIdentityMembership)
	handle("PATCH "+im+"/{identityId}", a.setIdentityMembership)
	handle("DELETE "+im+"/{identityId}", a.deleteIdentityMembership)
	handle("GET /api/v1/workspace/{projectId}/memberships", a.listUserMemberships)
	handle("POST /api/v2/workspace/{projectId}/memberships", a.addUserMemberships)
	handle("PATCH /api/v1/workspace/{projectId}/memberships/{membershipId}", a.updateUserMembership)
	handle("DELETE /api/v2/workspace/{projectId}/memberships", a.removeUserMemberships)

	// Audit log.
	handle("GET /api/v1/organization/audit-logs", a.listAuditLogs)
	handle("GET /api/v1/organization/{orgId}/audit-logs", a.listAuditLogs)
	handle("GET /api/v1/audit-logs", a.listAuditLogs)
}

// requireActor answers 401 to a request without a bearer token before f runs.
func requireActor(f httpserver.HandlerFunc) httpserver.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if _, err := httpserver.RequireActor(r); err != nil {
			return err
		}
		return f(w, r)
	}
}

func (a *API) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}
