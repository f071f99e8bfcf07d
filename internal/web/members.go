package web

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/httpserver"
	"github.com/cofferhq/coffer/internal/members"
	"github.com/cofferhq/coffer/internal/projects"
	"github.com/cofferhq/coffer/internal/secrets"
	"github.com/cofferhq/coffer/internal/store"
)

type membersData struct {
	EnforceMFA  bool
	Members     []*members.Member
	Invitations []*store.Invitation
	Me          string
	Email, Role string
	// Link is an invitation link to hand over (no e-mail configured); shown once.
	Link string
}

// orgRoles are the roles a user may hold in an organization.
var orgRoles = []string{coffer.RoleOwner, coffer.RoleAdmin, coffer.RoleMember, coffer.RoleNoAccess}

func (wb *Web) membersPage(w http.ResponseWriter, r *http.Request) error {
	return wb.renderMembers(w, r, http.StatusOK, "", "", membersData{})
}

func (wb *Web) renderMembers(w http.ResponseWriter, r *http.Request, status int, errMsg, notice string, d membersData) error {
	a := coffer.ActorFromContext(r.Context())
	ms, err := wb.Members.ListMembers(r.Context(), a.OrgID)
	if err != nil {
		return err
	}
	d.Members, d.Me = ms, a.ID
	set, err := wb.Members.GetSettings(r.Context(), a.OrgID)
	if err != nil {
		return err
	}
	d.EnforceMFA = set.EnforceMFA
	if invs, err := wb.Members.ListInvitations(r.Context(), a.OrgID); err == nil { // admins only
		d.Invitations = invs
	}
	wb.render(w, r, status, "members", &view{Title: "Members", Nav: "members", Error: errMsg, Notice: notice, D: d})
	return nil
}

func (wb *Web) membersError(w http.ResponseWriter, r *http.Request, err error, d membersData) error {
	msg, ok := userMessage(err)
	if !ok {
		return err
	}
	return wb.renderMembers(w, r, httpserver.StatusOf(coffer.ErrorCode(err)), msg, "", d)
}

// invite invites an e-mail address; without e-mail configured the link is shown to hand over.
func (wb *Web) invite(w http.ResponseWriter, r *http.Request) error {
	a := coffer.ActorFromContext(r.Context())
	d := membersData{Email: strings.TrimSpace(r.PostFormValue("email")), Role: r.PostFormValue("role")}
	inv, err := wb.Members.Invite(r.Context(), a.OrgID, d.Email, d.Role)
	if err != nil {
		return wb.membersError(w, r, err, d)
	}
	notice := "Invitation e-mailed to " + inv.Invitation.Email + "."
	if inv.Link != "" {
		notice = "E-mail is not configured: give " + inv.Invitation.Email + " this link (it works once)."
	}
	return wb.renderMembers(w, r, http.StatusOK, "", notice, membersData{Link: inv.Link})
}

// setEnforceMFA turns the organization's two-factor requirement on or off (members without a
// second factor are signed out when it turns on, except the admin's own session).
func (wb *Web) setEnforceMFA(w http.ResponseWriter, r *http.Request) error {
	a := coffer.ActorFromContext(r.Context())
	if _, err := wb.Members.SetEnforceMFA(r.Context(), a.OrgID, r.PostFormValue("enforce") == "on"); err != nil {
		return wb.membersError(w, r, err, membersData{})
	}
	return redirect(w, r, "/members")
}

func (wb *Web) setMemberRole(w http.ResponseWriter, r *http.Request) error {
	a := coffer.ActorFromContext(r.Context())
	if _, err := wb.Members.SetRole(r.Context(), a.OrgID, r.PathValue("userId"), r.PostFormValue("role")); err != nil {
		return wb.membersError(w, r, err, membersData{})
	}
	return redirect(w, r, "/members")
}

func (wb *Web) removeMember(w http.ResponseWriter, r *http.Request) error {
	a := coffer.ActorFromContext(r.Context())
	if _, err := wb.Members.RemoveMember(r.Context(), a.OrgID, r.PathValue("userId")); err != nil {
		return wb.membersError(w, r, err, membersData{})
	}
	return redirect(w, r, "/members")
}

func (wb *Web) revokeInvitation(w http.ResponseWriter, r *http.Request) error {
	a := coffer.ActorFromContext(r.Context())
	if err := wb.Members.RevokeInvitation(r.Context(), a.OrgID, r.PathValue("id")); err != nil {
		return wb.membersError(w, r, err, membersData{})
	}
	return redirect(w, r, "/members")
}

type settingsData struct {
	Project *coffer.Project
	Base    string
	Tags    []*coffer.Tag
	Roles   []roleView
	Keys    *keySection // nil when the user may not read the project's settings
	// The role form, kept when it is refused.
	RoleSlug, RoleName, RoleDescription, RolePermissions string
}

type roleView struct {
	*coffer.ProjectRole
	JSON string // the permissions, indented
}

// projectSettings shows the project's environments, to add, rename, reorder and delete.
func (wb *Web) projectSettings(w http.ResponseWriter, r *http.Request) error {
	return wb.renderSettings(w, r, http.StatusOK, "")
}

func (wb *Web) renderSettings(w http.ResponseWriter, r *http.Request, status int, msg string) error {
	p, err := wb.projectOf(r)
	if err != nil {
		return err
	}
	d := settingsData{Project: p, Base: projectURL(p)}
	if status != http.StatusOK && r.Method == http.MethodPost {
		d.RoleSlug, d.RoleName = r.PostFormValue("role_slug"), r.PostFormValue("role_name")
		d.RoleDescription, d.RolePermissions = r.PostFormValue("role_description"), r.PostFormValue("permissions")
	}
	d.Tags, err = wb.Secrets.ListTags(r.Context(), p.ID)
	if err != nil && coffer.ErrorCode(err) != coffer.EFORBIDDEN {
		return err
	}
	roles, err := wb.Projects.ListRoles(r.Context(), p.ID)
	if err != nil && coffer.ErrorCode(err) != coffer.EFORBIDDEN {
		return err
	}
	for _, role := range roles {
		b, err := json.MarshalIndent(role.Permissions, "", "  ")
		if err != nil {
			return err
		}
		d.Roles = append(d.Roles, roleView{ProjectRole: role, JSON: string(b)})
	}
	if d.Keys, err = wb.keySectionOf(r, p); err != nil {
		return err
	}
	wb.render(w, r, status, "settings", &view{Title: p.Name + " settings", Nav: "projects", Error: msg, D: d})
	return nil
}

// createRole makes a custom project role from its permissions as JSON (Coffer's or
// Infisical's form; the service checks them and refuses any right the user does not hold).
func (wb *Web) createRole(w http.ResponseWriter, r *http.Request) error {
	p, err := wb.projectOf(r)
	if err != nil {
		return err
	}
	slug, name := strings.TrimSpace(r.PostFormValue("role_slug")), strings.TrimSpace(r.PostFormValue("role_name"))
	desc, perms := strings.TrimSpace(r.PostFormValue("role_description")), strings.TrimSpace(r.PostFormValue("permissions"))
	if !json.Valid([]byte(perms)) {
		return wb.settingsError(w, r, coffer.Errorf(coffer.EVALIDATION, "permissions: must be a JSON array of rules"))
	}
	in := projects.RoleInput{Slug: &slug, Description: &desc, Permissions: json.RawMessage(perms)}
	if name != "" {
		in.Name = &name
	}
	if _, err := wb.Projects.CreateRole(r.Context(), p.ID, in); err != nil {
		return wb.settingsError(w, r, err)
	}
	return redirect(w, r, projectURL(p)+"/settings")
}

func (wb *Web) deleteRole(w http.ResponseWriter, r *http.Request) error {
	p, err := wb.projectOf(r)
	if err != nil {
		return err
	}
	if _, err := wb.Projects.DeleteRole(r.Context(), p.ID, r.PathValue("roleId")); err != nil {
		return wb.settingsError(w, r, err)
	}
	return redirect(w, r, projectURL(p)+"/settings")
}

func (wb *Web) settingsError(w http.ResponseWriter, r *http.Request, err error) error {
	msg, ok := userMessage(err)
	if !ok {
		return err
	}
	return wb.renderSettings(w, r, httpserver.StatusOf(coffer.ErrorCode(err)), msg)
}

func (wb *Web) createEnvironment(w http.ResponseWriter, r *http.Request) error {
	p, err := wb.projectOf(r)
	if err != nil {
		return err
	}
	_, err = wb.Projects.CreateEnvironment(r.Context(), p.ID, strings.TrimSpace(r.PostFormValue("name")),
		strings.TrimSpace(r.PostFormValue("slug")), 0)
	if err != nil {
		return wb.settingsError(w, r, err)
	}
	return redirect(w, r, projectURL(p)+"/settings")
}

func (wb *Web) updateEnvironment(w http.ResponseWriter, r *http.Request) error {
	p, err := wb.projectOf(r)
	if err != nil {
		return err
	}
	name, slug := strings.TrimSpace(r.PostFormValue("name")), strings.TrimSpace(r.PostFormValue("slug"))
	var pos *int
	if s := r.PostFormValue("position"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return wb.settingsError(w, r, coffer.Errorf(coffer.EVALIDATION, "position: must be a whole number"))
		}
		pos = &n
	}
	if _, err := wb.Projects.UpdateEnvironment(r.Context(), p.ID, r.PathValue("envId"), &name, &slug, pos); err != nil {
		return wb.settingsError(w, r, err)
	}
	return redirect(w, r, projectURL(p)+"/settings")
}

func (wb *Web) deleteEnvironment(w http.ResponseWriter, r *http.Request) error {
	p, err := wb.projectOf(r)
	if err != nil {
		return err
	}
	if r.PostFormValue("confirm") != r.PostFormValue("slug") || r.PostFormValue("slug") == "" {
		return wb.settingsError(w, r, coffer.Errorf(coffer.EVALIDATION, "confirm: type the environment's slug to delete it"))
	}
	if _, err := wb.Projects.DeleteEnvironment(r.Context(), p.ID, r.PathValue("envId")); err != nil {
		return wb.settingsError(w, r, err)
	}
	return redirect(w, r, projectURL(p)+"/settings")
}

func (wb *Web) createTag(w http.ResponseWriter, r *http.Request) error {
	p, err := wb.projectOf(r)
	if err != nil {
		return err
	}
	name, slug := strings.TrimSpace(r.PostFormValue("name")), strings.TrimSpace(r.PostFormValue("slug"))
	if _, err := wb.Secrets.CreateTag(r.Context(), p.ID, secrets.TagInput{Name: &name, Slug: &slug}); err != nil {
		return wb.settingsError(w, r, err)
	}
	return redirect(w, r, projectURL(p)+"/settings")
}

func (wb *Web) deleteTag(w http.ResponseWriter, r *http.Request) error {
	p, err := wb.projectOf(r)
	if err != nil {
		return err
	}
	if _, err := wb.Secrets.DeleteTag(r.Context(), p.ID, r.PathValue("tagId")); err != nil {
		return wb.settingsError(w, r, err)
	}
	return redirect(w, r, projectURL(p)+"/settings")
}
