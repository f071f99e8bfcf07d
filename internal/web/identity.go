package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/httpserver"
)

// One identity: its universal auth client ID, client secrets (new ones shown once, old ones
// revoked), its role in each project, and its deletion.

type projectRole struct {
	Project *coffer.Project
	Role    string   // "" : none
	Custom  []string // the project's custom role slugs
}

type identityData struct {
	Identity  *coffer.Identity
	ClientID  string
	Secrets   []*coffer.ClientSecret
	Projects  []projectRole
	NewSecret string // shown once
}

// projectRoles are the built-in project roles.
var projectRoles = []string{coffer.RoleAdmin, coffer.RoleMember, coffer.RoleViewer, coffer.RoleNoAccess}

func identityURL(id string) string { return "/identities/" + url.PathEscape(id) }

func (wb *Web) identityPage(w http.ResponseWriter, r *http.Request) error {
	return wb.renderIdentity(w, r, http.StatusOK, "", "", "")
}

func (wb *Web) renderIdentity(w http.ResponseWriter, r *http.Request, status int, errMsg, notice, newSecret string) error {
	ctx := r.Context()
	ident, err := wb.Identity.GetIdentity(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	d := identityData{Identity: ident, NewSecret: newSecret}
	if ua, err := wb.Identity.GetUniversalAuth(ctx, ident.ID); err == nil {
		d.ClientID = ua.ClientID
		if d.Secrets, err = wb.Identity.ListClientSecrets(ctx, ident.ID); err != nil {
			return err
		}
	} else if coffer.ErrorCode(err) != coffer.ENOTFOUND {
		return err
	}
	ps, err := wb.Projects.ListProjects(ctx)
	if err != nil {
		return err
	}
	for _, p := range ps {
		pr := projectRole{Project: p}
		if roles, err := wb.Projects.ListRoles(ctx, p.ID); err == nil {
			for _, role := range roles {
				pr.Custom = append(pr.Custom, role.Slug)
			}
		}
		ms, err := wb.Projects.ListMemberships(ctx, p.ID)
		if err != nil && coffer.ErrorCode(err) != coffer.EFORBIDDEN {
			return err
		}
		for _, m := range ms {
			if m.ActorKind == coffer.ActorIdentity && m.ActorID == ident.ID {
				pr.Role = m.Role
			}
		}
		d.Projects = append(d.Projects, pr)
	}
	wb.render(w, r, status, "identity", &view{Title: ident.Name, Nav: "identities", Error: errMsg, Notice: notice, D: d})
	return nil
}

func (wb *Web) identityError(w http.ResponseWriter, r *http.Request, err error) error {
	msg, ok := userMessage(err)
	if !ok {
		return err
	}
	return wb.renderIdentity(w, r, httpserver.StatusOf(coffer.ErrorCode(err)), msg, "", "")
}

// newClientSecret makes another client secret and shows it once.
func (wb *Web) newClientSecret(w http.ResponseWriter, r *http.Request) error {
	secret, _, err := wb.Identity.CreateClientSecret(r.Context(), r.PathValue("id"), strings.TrimSpace(r.PostFormValue("description")), 0, 0)
	if err != nil {
		return wb.identityError(w, r, err)
	}
	return wb.renderIdentity(w, r, http.StatusOK, "", "", secret)
}

func (wb *Web) revokeClientSecret(w http.ResponseWriter, r *http.Request) error {
	if _, err := wb.Identity.RevokeClientSecret(r.Context(), r.PathValue("id"), r.PostFormValue("secret")); err != nil {
		return wb.identityError(w, r, err)
	}
	return redirect(w, r, identityURL(r.PathValue("id")))
}

// setIdentityRole gives the identity a role in a project, or takes it away ("none").
func (wb *Web) setIdentityRole(w http.ResponseWriter, r *http.Request) error {
	id, project, role := r.PathValue("id"), r.PostFormValue("project"), r.PostFormValue("role")
	var err error
	if role == "none" {
		_, err = wb.Projects.DeleteIdentityMembership(r.Context(), project, id)
	} else {
		_, err = wb.Projects.SetIdentityMembership(r.Context(), project, id, role)
	}
	if err != nil {
		return wb.identityError(w, r, err)
	}
	return redirect(w, r, identityURL(id))
}

func (wb *Web) deleteIdentity(w http.ResponseWriter, r *http.Request) error {
	ident, err := wb.Identity.GetIdentity(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if r.PostFormValue("confirm") != ident.Name {
		return wb.identityError(w, r, coffer.Errorf(coffer.EVALIDATION, "confirm: type the identity's name to delete it"))
	}
	if _, err := wb.Identity.DeleteIdentity(r.Context(), ident.ID); err != nil {
		return wb.identityError(w, r, err)
	}
	return redirect(w, r, "/identities")
}
