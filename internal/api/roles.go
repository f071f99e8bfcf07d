package api

import (
	"encoding/json"
	"net/http"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/httpserver"
	"github.com/cofferhq/coffer/internal/projects"
)

// Custom project roles, at Infisical's paths: /api/v1/projects/{projectId}/roles,
// /api/v2/workspace/{projectId}/roles and /api/v1/workspace/{projectSlug}/roles.

type wireProjectRole struct {
	ID          string              `json:"id"`
	ProjectID   string              `json:"projectId"`
	Slug        string              `json:"slug"`
	Name        string              `json:"name"`
	Description string              `json:"description"`
	Permissions []coffer.Permission `json:"permissions"`
	CreatedAt   string              `json:"createdAt"`
	UpdatedAt   string              `json:"updatedAt"`
}

func toProjectRole(r *coffer.ProjectRole) wireProjectRole {
	perms := r.Permissions
	if perms == nil {
		perms = []coffer.Permission{}
	}
	return wireProjectRole{ID: r.ID, ProjectID: r.ProjectID, Slug: r.Slug, Name: r.Name, Description: r.Description,
		Permissions: perms, CreatedAt: isoTime(r.CreatedAt), UpdatedAt: isoTime(r.UpdatedAt)}
}

type roleBody struct {
	Slug        *string         `json:"slug"`
	Name        *string         `json:"name"`
	Description *string         `json:"description"`
	Permissions json.RawMessage `json:"permissions"`
}

func (b roleBody) input() projects.RoleInput {
	return projects.RoleInput{Slug: b.Slug, Name: b.Name, Description: b.Description, Permissions: b.Permissions}
}

func writeRole(w http.ResponseWriter, r *http.Request, role *coffer.ProjectRole, err error) error {
	if err != nil {
		return err
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]any{"role": toProjectRole(role)})
	return nil
}

func (a *API) createRole(w http.ResponseWriter, r *http.Request) error {
	var b roleBody
	if err := httpserver.DecodeJSON(r, &b); err != nil {
		return err
	}
	role, err := a.Projects.CreateRole(r.Context(), r.PathValue("projectId"), b.input())
	return writeRole(w, r, role, err)
}

func (a *API) listRoles(w http.ResponseWriter, r *http.Request) error {
	rs, err := a.Projects.ListRoles(r.Context(), r.PathValue("projectId"))
	if err != nil {
		return err
	}
	out := make([]wireProjectRole, len(rs))
	for i, role := range rs {
		out[i] = toProjectRole(role)
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]any{"roles": out})
	return nil
}

func (a *API) getRoleBySlug(w http.ResponseWriter, r *http.Request) error {
	role, err := a.Projects.FindRoleBySlug(r.Context(), r.PathValue("projectId"), r.PathValue("roleSlug"))
	return writeRole(w, r, role, err)
}

// bySlug runs f with the path value projectId set to the id of the project named by the path
// value projectSlug, in the actor's organization.
func (a *API) bySlug(f httpserver.HandlerFunc) httpserver.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := a.Projects.ProjectIDBySlug(r.Context(), r.PathValue("projectSlug"))
		if err != nil {
			return err
		}
		r.SetPathValue("projectId", id)
		return f(w, r)
	}
}

func (a *API) getRole(w http.ResponseWriter, r *http.Request) error {
	role, err := a.Projects.FindRole(r.Context(), r.PathValue("roleId"))
	return writeRole(w, r, role, err)
}

func (a *API) updateRole(w http.ResponseWriter, r *http.Request) error {
	var b roleBody
	if err := httpserver.DecodeJSON(r, &b); err != nil {
		return err
	}
	role, err := a.Projects.UpdateRole(r.Context(), r.PathValue("projectId"), r.PathValue("roleId"), b.input())
	return writeRole(w, r, role, err)
}

func (a *API) deleteRole(w http.ResponseWriter, r *http.Request) error {
	role, err := a.Projects.DeleteRole(r.Context(), r.PathValue("projectId"), r.PathValue("roleId"))
	return writeRole(w, r, role, err)
}
