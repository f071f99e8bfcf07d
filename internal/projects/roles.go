package projects

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/store"
)

// RoleInput is a custom role to create, or the fields of one to change (nil: unchanged).
type RoleInput struct {
	Slug        *string
	Name        *string
	Description *string
	// Permissions is the rules as JSON, in Coffer's or Infisical's form (authz.ParsePermissions).
	Permissions json.RawMessage
}

// CreateRole creates a custom role in a project. The actor needs create on roles and must
// itself hold, unconditionally, every right the role allows. It returns EVALIDATION for a bad
// field and ECONFLICT for a slug the project already has.
func (s *Service) CreateRole(ctx context.Context, projectID string, in RoleInput) (*coffer.ProjectRole, error) {
	g, err := s.grant(ctx, projectID, authz.Create, authz.Roles)
	if err != nil {
		return nil, err
	}
	r := &coffer.ProjectRole{ProjectID: g.Project.ID}
	if in.Slug == nil {
		return nil, coffer.Errorf(coffer.EVALIDATION, "slug: required")
	}
	if in.Name == nil {
		in.Name = in.Slug
	}
	if in.Permissions == nil {
		return nil, coffer.Errorf(coffer.EVALIDATION, "permissions: required")
	}
	if err := applyRoleInput(r, in); err != nil {
		return nil, err
	}
	if err := confer(g, r); err != nil {
		return nil, err
	}
	r.ID, r.CreatedAt, r.UpdatedAt = store.NewID(), s.now(), s.now()
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateProjectRole(ctx, r); err != nil {
			return conflict(err, "a role with slug %s already exists in this project", r.Slug)
		}
		return s.record(ctx, tx, coffer.ActionRoleCreate, g.Project.OrgID, g.Project.ID, roleFacts(r))
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// ListRoles returns the custom roles of a project, by slug. Actors that may read roles may.
func (s *Service) ListRoles(ctx context.Context, projectID string) ([]*coffer.ProjectRole, error) {
	g, err := s.grant(ctx, projectID, authz.Read, authz.Roles)
	if err != nil {
		return nil, err
	}
	rs, err := s.db.ListProjectRoles(ctx, g.Project.ID)
	if rs == nil && err == nil {
		rs = []*coffer.ProjectRole{}
	}
	return rs, err
}

// FindRoleBySlug returns a custom role of a project by slug.
func (s *Service) FindRoleBySlug(ctx context.Context, projectID, slug string) (*coffer.ProjectRole, error) {
	g, err := s.grant(ctx, projectID, authz.Read, authz.Roles)
	if err != nil {
		return nil, err
	}
	r, err := s.db.FindProjectRoleBySlug(ctx, g.Project.ID, slug)
	if coffer.ErrorCode(err) == coffer.ENOTFOUND {
		return nil, coffer.Errorf(coffer.ENOTFOUND, "role with slug %s not found in project %s", slug, g.Project.ID)
	}
	return r, err
}

// ProjectIDBySlug returns the id of the project of the actor's organization named by slug,
// when the actor holds a role in it (EFORBIDDEN otherwise; ENOTFOUND for no such project).
func (s *Service) ProjectIDBySlug(ctx context.Context, slug string) (string, error) {
	g, err := s.authz.ProjectBySlug(ctx, slug)
	if err != nil {
		return "", err
	}
	return g.Project.ID, nil
}

// FindRole returns a custom role by id, of any project the actor may read the roles of; a
// role of another project is ENOTFOUND to anyone else.
func (s *Service) FindRole(ctx context.Context, roleID string) (*coffer.ProjectRole, error) {
	r, err := s.db.FindProjectRoleByID(ctx, roleID)
	if coffer.ErrorCode(err) == coffer.ENOTFOUND {
		return nil, coffer.Errorf(coffer.ENOTFOUND, "role %s not found", roleID)
	} else if err != nil {
		return nil, err
	}
	if _, err := s.grant(ctx, r.ProjectID, authz.Read, authz.Roles); coffer.ErrorCode(err) == coffer.ENOTFOUND {
		return nil, coffer.Errorf(coffer.ENOTFOUND, "role %s not found", roleID)
	} else if err != nil {
		return nil, err
	}
	return r, nil
}

// UpdateRole changes a custom role. A new slug moves the memberships that hold the role with
// it. The actor needs edit on roles and must hold every right of the role, before and after.
func (s *Service) UpdateRole(ctx context.Context, projectID, roleID string, in RoleInput) (*coffer.ProjectRole, error) {
	g, err := s.grant(ctx, projectID, authz.Edit, authz.Roles)
	if err != nil {
		return nil, err
	}
	var r *coffer.ProjectRole
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		old, err := tx.FindProjectRole(ctx, g.Project.ID, roleID)
		if coffer.ErrorCode(err) == coffer.ENOTFOUND {
			return coffer.Errorf(coffer.ENOTFOUND, "role %s not found in project %s", roleID, g.Project.ID)
		} else if err != nil {
			return err
		}
		if err := confer(g, old); err != nil {
			return err
		}
		upd := *old
		if err := applyRoleInput(&upd, in); err != nil {
			return err
		}
		if err := confer(g, &upd); err != nil {
			return err
		}
		upd.UpdatedAt = s.now()
		if err := tx.UpdateProjectRole(ctx, &upd, old.Slug); err != nil {
			return conflict(err, "a role with slug %s already exists in this project", upd.Slug)
		}
		r = &upd
		return s.record(ctx, tx, coffer.ActionRoleUpdate, g.Project.OrgID, g.Project.ID, roleFacts(r))
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// DeleteRole deletes a custom role that no membership holds (ECONFLICT otherwise). The actor
// needs delete on roles and must hold every right of the role.
func (s *Service) DeleteRole(ctx context.Context, projectID, roleID string) (*coffer.ProjectRole, error) {
	g, err := s.grant(ctx, projectID, authz.Delete, authz.Roles)
	if err != nil {
		return nil, err
	}
	var r *coffer.ProjectRole
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.LockProject(ctx, g.Project.ID); err != nil {
			return err
		}
		found, err := tx.FindProjectRole(ctx, g.Project.ID, roleID)
		if coffer.ErrorCode(err) == coffer.ENOTFOUND {
			return coffer.Errorf(coffer.ENOTFOUND, "role %s not found in project %s", roleID, g.Project.ID)
		} else if err != nil {
			return err
		}
		if err := confer(g, found); err != nil {
			return err
		}
		if n, err := tx.CountRoleMemberships(ctx, g.Project.ID, found.Slug); err != nil {
			return err
		} else if n > 0 {
			return coffer.Errorf(coffer.ECONFLICT, "role %s is held by %d membership(s) of this project: give them another role first", found.Slug, n)
		}
		if err := tx.DeleteProjectRole(ctx, found.ID); err != nil {
			return err
		}
		r = found
		return s.record(ctx, tx, coffer.ActionRoleDelete, g.Project.OrgID, g.Project.ID, roleFacts(r))
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// applyRoleInput validates the given fields into r.
func applyRoleInput(r *coffer.ProjectRole, in RoleInput) error {
	if in.Slug != nil {
		if err := authz.ValidateRoleSlug("slug", *in.Slug); err != nil {
			return err
		}
		r.Slug = *in.Slug
	}
	if in.Name != nil {
		if err := coffer.ValidateName("name", *in.Name); err != nil {
			return err
		}
		r.Name = *in.Name
	}
	if in.Description != nil {
		d := strings.TrimSpace(*in.Description)
		if len(d) > 1024 {
			return coffer.Errorf(coffer.EVALIDATION, "description: at most 1024 characters")
		}
		r.Description = d
	}
	if in.Permissions != nil {
		perms, err := authz.ParsePermissions(in.Permissions)
		if err != nil {
			return err
		}
		r.Permissions = perms
	}
	return nil
}

// confer requires that the grant may confer the rules of r.
func confer(g *authz.Grant, r *coffer.ProjectRole) error {
	p, err := authz.Compile(r.Permissions)
	if err != nil {
		return err
	}
	return g.RequireConfer(r.Slug, p)
}

// roleFacts is what the audit log keeps of a role: its names and the number of its rules.
func roleFacts(r *coffer.ProjectRole) map[string]any {
	return map[string]any{"roleId": r.ID, "slug": r.Slug, "name": r.Name, "permissions": len(r.Permissions)}
}
