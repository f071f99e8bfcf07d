package client

import (
	"context"
	"net/http"
	"net/url"
)

// MembershipRole is the role a project membership holds: a built-in role (admin, member,
// viewer, no-access), or Role "custom" with the custom role's slug, as Infisical answers.
type MembershipRole struct {
	ID             string `json:"id"`
	Role           string `json:"role"`
	CustomRoleSlug string `json:"customRoleSlug,omitempty"`
}

// Slug is the role's slug: the built-in role's name, or the custom role's slug.
func (r MembershipRole) Slug() string {
	if r.Role == "custom" && r.CustomRoleSlug != "" {
		return r.CustomRoleSlug
	}
	return r.Role
}

// roleSlug returns the slug of the first role ("" when there is none).
func roleSlug(roles []MembershipRole) string {
	if len(roles) == 0 {
		return ""
	}
	return roles[0].Slug()
}

// ProjectUser is a user's membership of a project.
type ProjectUser struct {
	ID        string `json:"id"` // the membership's id
	UserID    string `json:"userId"`
	ProjectID string `json:"projectId"`
	User      struct {
		ID       string `json:"id"`
		Email    string `json:"email"`
		Username string `json:"username"`
		Name     string `json:"name"`
	} `json:"user"`
	Roles     []MembershipRole `json:"roles"`
	CreatedAt string           `json:"createdAt"`
	UpdatedAt string           `json:"updatedAt"`
}

// Role returns the slug of the user's role in the project.
func (m ProjectUser) Role() string { return roleSlug(m.Roles) }

// ListProjectUsers lists the users who are members of a project, with their roles.
func (c *Client) ListProjectUsers(ctx context.Context, projectID string) ([]ProjectUser, error) {
	var r struct {
		Memberships []ProjectUser `json:"memberships"`
	}
	return r.Memberships, c.Do(ctx, http.MethodGet, "/api/v1/workspace/"+url.PathEscape(projectID)+"/memberships", nil, nil, &r)
}

// AddProjectUsers gives users of the project's organization, named by e-mail, a role in the
// project: a built-in role or the slug of a custom role of the project (the server's default,
// member, when role is empty). It is all or nothing: an address that names no member of the
// organization is a 404, one of a user already in the project a 400, and then no one is added.
func (c *Client) AddProjectUsers(ctx context.Context, projectID string, emails []string, role string) ([]ProjectUser, error) {
	body := map[string]any{"usernames": emails}
	if role != "" {
		body["roleSlugs"] = []string{role}
	}
	var r struct {
		Memberships []ProjectUser `json:"memberships"`
	}
	return r.Memberships, c.Do(ctx, http.MethodPost, "/api/v2/workspace/"+url.PathEscape(projectID)+"/memberships", nil, body, &r)
}

// SetProjectUserRole changes the role of a user's membership of a project (membershipID is
// ProjectUser.ID).
func (c *Client) SetProjectUserRole(ctx context.Context, projectID, membershipID, role string) (*ProjectUser, error) {
	var r struct {
		Membership ProjectUser `json:"membership"`
	}
	body := map[string]any{"roles": []map[string]string{{"role": role}}}
	return &r.Membership, c.Do(ctx, http.MethodPatch, "/api/v1/workspace/"+url.PathEscape(projectID)+"/memberships/"+url.PathEscape(membershipID), nil, body, &r)
}

// RemoveProjectUsers removes users, named by e-mail, from a project and returns the memberships
// removed. It is all or nothing: an address that names no user member of the project is a 404,
// and then no one is removed.
func (c *Client) RemoveProjectUsers(ctx context.Context, projectID string, emails []string) ([]ProjectUser, error) {
	var r struct {
		Memberships []ProjectUser `json:"memberships"`
	}
	return r.Memberships, c.Do(ctx, http.MethodDelete, "/api/v2/workspace/"+url.PathEscape(projectID)+"/memberships", nil, map[string]any{"usernames": emails}, &r)
}

// IdentityMembership is a machine identity's membership of a project.
type IdentityMembership struct {
	ID         string           `json:"id"` // the membership's id
	ProjectID  string           `json:"projectId"`
	IdentityID string           `json:"identityId"`
	Roles      []MembershipRole `json:"roles"`
	CreatedAt  string           `json:"createdAt"`
	UpdatedAt  string           `json:"updatedAt"`
}

// Role returns the slug of the identity's role in the project.
func (m IdentityMembership) Role() string { return roleSlug(m.Roles) }

// ListIdentityMemberships lists the machine identities that are members of a project.
func (c *Client) ListIdentityMemberships(ctx context.Context, projectID string) ([]IdentityMembership, error) {
	var r struct {
		Memberships []IdentityMembership `json:"identityMemberships"`
	}
	return r.Memberships, c.Do(ctx, http.MethodGet, "/api/v2/workspace/"+url.PathEscape(projectID)+"/identity-memberships", nil, nil, &r)
}

// RemoveIdentityMembership removes a machine identity from a project (404 when it is not a
// member).
func (c *Client) RemoveIdentityMembership(ctx context.Context, projectID, identityID string) error {
	return c.Do(ctx, http.MethodDelete, "/api/v2/workspace/"+url.PathEscape(projectID)+"/identity-memberships/"+url.PathEscape(identityID), nil, nil, nil)
}
