package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/httpserver"
	"github.com/cofferhq/coffer/internal/members"
	"github.com/cofferhq/coffer/internal/store"
)

// A project's members: its users with their roles (added from the organization's members,
// changed and removed here) and, read-only, its machine identities and the organization's
// owners and admins, so that one page answers who can reach the project. The projects service
// decides who may do what; the page only shows its refusals.

type projectMembersData struct {
	Project *coffer.Project
	Base    string
	Me      string // the signed-in user's id
	Users   []projectUser
	// Identities are the project's machine identities with their roles.
	Identities []projectIdentity
	// OrgAdmins are the organization's owners and admins: admins of every project.
	OrgAdmins []*members.Member
	// Roles are the roles a user may be given: the built-in ones, then the project's own.
	Roles []string
	// Candidates are the organization's members without a role in the project, when OrgListed:
	// the user may list the organization's members (a project admin whose organization role is
	// no-access may not, and types an e-mail address instead).
	Candidates []*members.Member
	OrgListed  bool
	// The add form, kept when it is refused.
	Email, Role string
}

type projectUser struct {
	*store.ProjectUser
	Known bool // the role is in Roles (a deleted custom role is not)
}

type projectIdentity struct {
	ID, Name, Role string
}

func projectMembersURL(p *coffer.Project) string { return projectURL(p) + "/members" }

func (wb *Web) projectMembers(w http.ResponseWriter, r *http.Request) error {
	return wb.renderProjectMembers(w, r, http.StatusOK, "", projectMembersData{})
}

func (wb *Web) renderProjectMembers(w http.ResponseWriter, r *http.Request, status int, errMsg string, d projectMembersData) error {
	ctx := r.Context()
	a := coffer.ActorFromContext(ctx)
	p, err := wb.projectOf(r)
	if err != nil {
		return err
	}
	d.Project, d.Base, d.Me = p, projectURL(p), a.ID
	if d.Role == "" {
		d.Role = coffer.RoleViewer
	}
	d.Roles = slices.Clone(projectRoles)
	roles, err := wb.Projects.ListRoles(ctx, p.ID)
	if err != nil && coffer.ErrorCode(err) != coffer.EFORBIDDEN {
		return err
	}
	for _, role := range roles {
		d.Roles = append(d.Roles, role.Slug)
	}
	users, err := wb.Projects.ListUserMemberships(ctx, p.ID)
	if err != nil {
		return err
	}
	inProject := map[string]bool{}
	for _, u := range users {
		inProject[u.ActorID] = true
		d.Users = append(d.Users, projectUser{ProjectUser: u, Known: slices.Contains(d.Roles, u.Role)})
	}
	org, err := wb.Members.ListMembers(ctx, a.OrgID)
	if err != nil && coffer.ErrorCode(err) != coffer.EFORBIDDEN {
		return err
	}
	d.OrgListed = err == nil
	for _, m := range org {
		if !inProject[m.ActorID] {
			d.Candidates = append(d.Candidates, m)
		}
		if m.Role == coffer.RoleOwner || m.Role == coffer.RoleAdmin {
			d.OrgAdmins = append(d.OrgAdmins, m)
		}
	}
	if d.Identities, err = wb.projectIdentities(r, p); err != nil {
		return err
	}
	wb.render(w, r, status, "project_members", &view{Title: p.Name + " members", Nav: "projects", Error: errMsg, D: d})
	return nil
}

// projectIdentities returns the project's machine identities with their roles, named when the
// user may list the organization's identities (its admins may), by id otherwise.
func (wb *Web) projectIdentities(r *http.Request, p *coffer.Project) ([]projectIdentity, error) {
	ctx := r.Context()
	ms, err := wb.Projects.ListMemberships(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	if ids, err := wb.Identity.ListIdentities(ctx, p.OrgID); err == nil {
		for _, ident := range ids {
			names[ident.ID] = ident.Name
		}
	} else if coffer.ErrorCode(err) != coffer.EFORBIDDEN {
		return nil, err
	}
	var out []projectIdentity
	for _, m := range ms {
		if m.ActorKind != coffer.ActorIdentity {
			continue
		}
		name := names[m.ActorID]
		if name == "" {
			name = m.ActorID
		}
		out = append(out, projectIdentity{ID: m.ActorID, Name: name, Role: m.Role})
	}
	return out, nil
}

// projectMembersError shows err next to the forms when the user can fix it, keeping the add
// form's choices; the rest become the error page.
func (wb *Web) projectMembersError(w http.ResponseWriter, r *http.Request, err error, d projectMembersData) error {
	msg, ok := userMessage(err)
	if !ok {
		return err
	}
	return wb.renderProjectMembers(w, r, httpserver.StatusOf(coffer.ErrorCode(err)), msg, d)
}

// addProjectMember gives a member of the organization, chosen by e-mail, a role in the project.
func (wb *Web) addProjectMember(w http.ResponseWriter, r *http.Request) error {
	p, err := wb.projectOf(r)
	if err != nil {
		return err
	}
	d := projectMembersData{Email: strings.TrimSpace(r.PostFormValue("email")), Role: r.PostFormValue("role")}
	if d.Email == "" {
		return wb.projectMembersError(w, r, coffer.Errorf(coffer.EVALIDATION, "email: choose a member of the organization"), d)
	}
	if d.Role == "" {
		return wb.projectMembersError(w, r, coffer.Errorf(coffer.EVALIDATION, "role: required"), d)
	}
	if _, err := wb.Projects.AddUsers(r.Context(), p.ID, []string{d.Email}, d.Role); err != nil {
		return wb.projectMembersError(w, r, err, d)
	}
	return redirect(w, r, projectMembersURL(p))
}

// setProjectMemberRole changes the role of a user's membership of the project.
func (wb *Web) setProjectMemberRole(w http.ResponseWriter, r *http.Request) error {
	p, err := wb.projectOf(r)
	if err != nil {
		return err
	}
	if _, err := wb.Projects.UpdateUserMembership(r.Context(), p.ID, r.PathValue("membershipId"), r.PostFormValue("role")); err != nil {
		return wb.projectMembersError(w, r, err, projectMembersData{})
	}
	return redirect(w, r, projectMembersURL(p))
}

// removeProjectMember takes a user's membership of the project away.
func (wb *Web) removeProjectMember(w http.ResponseWriter, r *http.Request) error {
	p, err := wb.projectOf(r)
	if err != nil {
		return err
	}
	users, err := wb.Projects.ListUserMemberships(r.Context(), p.ID)
	if err != nil {
		return wb.projectMembersError(w, r, err, projectMembersData{})
	}
	id := r.PathValue("membershipId")
	i := slices.IndexFunc(users, func(u *store.ProjectUser) bool { return u.ID == id })
	if i < 0 {
		return wb.projectMembersError(w, r, coffer.Errorf(coffer.ENOTFOUND, "This person is no longer a member of the project: reload the page"), projectMembersData{})
	}
	if _, err := wb.Projects.RemoveUsers(r.Context(), p.ID, []string{users[i].Email}); err != nil {
		return wb.projectMembersError(w, r, err, projectMembersData{})
	}
	return redirect(w, r, projectMembersURL(p))
}
