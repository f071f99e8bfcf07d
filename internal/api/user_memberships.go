package api

import (
	"net/http"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/httpserver"
	"github.com/cofferhq/coffer/internal/store"
)

// wireUserMembership is a user's membership of a project, as Infisical answers it.
type wireUserMembership struct {
	ID        string     `json:"id"`
	UserID    string     `json:"userId"`
	ProjectID string     `json:"projectId"`
	User      wireMember `json:"user"`
	Roles     []wireRole `json:"roles"`
	CreatedAt string     `json:"createdAt"`
	UpdatedAt string     `json:"updatedAt"`
}

type wireMember struct {
	ID       string `json:"id"`
	Email    string `json:"email"`
	Username string `json:"username"`
	Name     string `json:"name"`
}

func toUserMembership(m *store.ProjectUser) wireUserMembership {
	role := wireRole{ID: m.ID, Role: m.Role}
	if !authz.ValidProjectRole(m.Role) {
		role.Role, role.CustomRoleSlug = "custom", m.Role
	}
	return wireUserMembership{ID: m.ID, UserID: m.ActorID, ProjectID: m.ScopeID,
		User:  wireMember{ID: m.ActorID, Email: m.Email, Username: m.Email, Name: m.Name},
		Roles: []wireRole{role}, CreatedAt: isoTime(m.CreatedAt), UpdatedAt: isoTime(m.UpdatedAt)}
}

func toUserMemberships(ms []*store.ProjectUser) []wireUserMembership {
	out := make([]wireUserMembership, len(ms))
	for i, m := range ms {
		out[i] = toUserMembership(m)
	}
	return out
}

func (a *API) listUserMemberships(w http.ResponseWriter, r *http.Request) error {
	ms, err := a.Projects.ListUserMemberships(r.Context(), r.PathValue("projectId"))
	if err != nil {
		return err
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]any{"memberships": toUserMemberships(ms)})
	return nil
}

func (a *API) addUserMemberships(w http.ResponseWriter, r *http.Request) error {
	var b struct {
		Usernames []string `json:"usernames"`
		Emails    []string `json:"emails"`
		RoleSlugs []string `json:"roleSlugs"`
	}
	if err := httpserver.DecodeJSON(r, &b); err != nil {
		return err
	}
	if len(b.RoleSlugs) > 1 {
		return coffer.Errorf(coffer.EVALIDATION, "roleSlugs: only one role per membership is supported")
	}
	role := ""
	if len(b.RoleSlugs) == 1 {
		if role = b.RoleSlugs[0]; role == "" {
			return coffer.Errorf(coffer.EVALIDATION, "roleSlugs: a role slug is empty")
		}
	}
	ms, err := a.Projects.AddUsers(r.Context(), r.PathValue("projectId"), append(b.Usernames, b.Emails...), role)
	if err != nil {
		return err
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]any{"memberships": toUserMemberships(ms)})
	return nil
}

func (a *API) updateUserMembership(w http.ResponseWriter, r *http.Request) error {
	var b struct {
		Roles []struct {
			Role string `json:"role"`
		} `json:"roles"`
	}
	if err := httpserver.DecodeJSON(r, &b); err != nil {
		return err
	}
	switch {
	case len(b.Roles) == 0:
		return coffer.Errorf(coffer.EVALIDATION, "roles: required, one role")
	case len(b.Roles) > 1:
		return coffer.Errorf(coffer.EVALIDATION, "roles: only one role per membership is supported")
	case b.Roles[0].Role == "":
		return coffer.Errorf(coffer.EVALIDATION, "roles[0].role: required")
	}
	m, err := a.Projects.UpdateUserMembership(r.Context(), r.PathValue("projectId"), r.PathValue("membershipId"), b.Roles[0].Role)
	if err != nil {
		return err
	}
	wm := toUserMembership(m)
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]any{"roles": wm.Roles, "membership": wm})
	return nil
}

func (a *API) removeUserMemberships(w http.ResponseWriter, r *http.Request) error {
	var b struct {
		Usernames []string `json:"usernames"`
		Emails    []string `json:"emails"`
	}
	if err := httpserver.DecodeJSON(r, &b); err != nil {
		return err
	}
	ms, err := a.Projects.RemoveUsers(r.Context(), r.PathValue("projectId"), append(b.Usernames, b.Emails...))
	if err != nil {
		return err
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]any{"memberships": toUserMemberships(ms)})
	return nil
}
