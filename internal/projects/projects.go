package projects

import (
	"context"
	"strings"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/store"
)

// CreateProject creates a project in orgID (empty: the actor's organization) with the default
// environments, each with its root folder, and the project's first data key. Organization
// owners, admins and members may; an actor that is not an organization admin becomes the
// project's admin. slug is optional: without it one is made from the name. It returns
// EFORBIDDEN for another organization or a no-access actor, EVALIDATION for a bad name or
// slug, and ECONFLICT when the slug is taken in the organization.
func (s *Service) CreateProject(ctx context.Context, orgID, name, slug string) (*coffer.Project, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if orgID == "" {
		orgID = a.OrgID
	} else if orgID != a.OrgID {
		return nil, coffer.Errorf(coffer.EFORBIDDEN, "you are not a member of organization %s", orgID)
	}
	orgRole, err := s.authz.OrgRole(ctx, a)
	if err != nil {
		return nil, err
	}
	switch orgRole {
	case coffer.RoleOwner, coffer.RoleAdmin, coffer.RoleMember:
	default:
		return nil, coffer.Errorf(coffer.EFORBIDDEN, "you are not allowed to create projects in this organization")
	}
	name = strings.TrimSpace(name)
	if err := coffer.ValidateName("projectName", name); err != nil {
		return nil, err
	}
	if slug == "" {
		slug = generateSlug(name)
	} else if err := coffer.ValidateSlug("slug", slug); err != nil {
		return nil, err
	}
	if err := s.slugFree(ctx, orgID, slug, ""); err != nil {
		return nil, err
	}

	now := s.now()
	p := &coffer.Project{ID: store.NewID(), OrgID: orgID, Name: name, Slug: slug, CreatedAt: now, UpdatedAt: now}
	for _, e := range coffer.DefaultEnvironments() { // copies: the defaults are shared
		e.ID, e.CreatedAt, e.UpdatedAt = store.NewID(), now, now
		p.Environments = append(p.Environments, e)
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateProject(ctx, p); err != nil {
			return conflict(err, "a project with slug %s already exists", slug)
		}
		key, err := s.keys.NewProjectKey(p.ID, 1)
		if err != nil {
			return err
		}
		if err := tx.CreateProjectKey(ctx, key, now.UnixMilli()); err != nil {
			return err
		}
		if orgRole == coffer.RoleMember {
			m := &coffer.Membership{ScopeID: p.ID, ActorKind: a.Kind, ActorID: a.ID, Role: coffer.RoleAdmin}
			if err := tx.PutMembership(ctx, store.ScopeProject, m, now); err != nil {
				return err
			}
		}
		return s.record(ctx, tx, coffer.ActionProjectCreate, p.OrgID, p.ID, map[string]any{"name": p.Name, "slug": p.Slug})
	})
	if err != nil {
		s.keys.Forget(p.ID)
		return nil, err
	}
	return p, nil
}

// slugFree returns ECONFLICT when another project than exceptID has slug in orgID.
func (s *Service) slugFree(ctx context.Context, orgID, slug, exceptID string) error {
	other, err := s.db.FindProjectBySlug(ctx, orgID, slug)
	switch {
	case coffer.ErrorCode(err) == coffer.ENOTFOUND:
		return nil
	case err != nil:
		return err
	case other.ID != exceptID:
		return coffer.Errorf(coffer.ECONFLICT, "a project with slug %s already exists", slug)
	}
	return nil
}

// GetProject returns a project with its environments to any actor with a role in it.
func (s *Service) GetProject(ctx context.Context, id string) (*coffer.Project, error) {
	g, err := s.grant(ctx, id, authz.Read, authz.Settings)
	if err != nil {
		return nil, err
	}
	return g.Project, nil
}

// GetProjectBySlug returns a project of the actor's organization by slug.
func (s *Service) GetProjectBySlug(ctx context.Context, slug string) (*coffer.Project, error) {
	if slug == "" {
		return nil, coffer.Errorf(coffer.EVALIDATION, "slug: required")
	}
	g, err := s.authz.ProjectBySlug(ctx, slug)
	if err != nil {
		return nil, err
	}
	if err := g.Require(authz.Read, authz.Settings, "", ""); err != nil {
		return nil, err
	}
	return g.Project, nil
}

// ListProjects returns the projects of the actor's organization that the actor may read: all
// of them for organization owners and admins, those it holds a project role in (other than
// no-access) for members, none for no-access actors.
func (s *Service) ListProjects(ctx context.Context) ([]*coffer.Project, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	orgRole, err := s.authz.OrgRole(ctx, a)
	if err != nil {
		return nil, err
	}
	out := []*coffer.Project{}
	switch orgRole {
	case coffer.RoleOwner, coffer.RoleAdmin:
		all, err := s.db.ListProjects(ctx, a.OrgID)
		if err != nil {
			return nil, err
		}
		return append(out, all...), nil
	case "":
		return out, nil // not in the organization
	}
	// Any other organization role (identities are usually no-access there) sees the projects
	// it holds a role in, as authz grants them.
	roles, err := s.db.ListActorProjectRoles(ctx, a.OrgID, a.Kind, a.ID)
	if err != nil || len(roles) == 0 {
		return out, err
	}
	all, err := s.db.ListProjects(ctx, a.OrgID)
	if err != nil {
		return nil, err
	}
	for _, p := range all {
		if r, ok := roles[p.ID]; ok && r != coffer.RoleNoAccess {
			out = append(out, p)
		}
	}
	return out, nil
}

// UpdateProject renames a project or changes its slug (nil: unchanged). Project admins may.
func (s *Service) UpdateProject(ctx context.Context, id string, name, slug *string) (*coffer.Project, error) {
	g, err := s.grant(ctx, id, authz.Edit, authz.Settings)
	if err != nil {
		return nil, err
	}
	if name != nil {
		n := strings.TrimSpace(*name)
		if err := coffer.ValidateName("name", n); err != nil {
			return nil, err
		}
		name = &n
	}
	if slug != nil {
		if err := coffer.ValidateSlug("slug", *slug); err != nil {
			return nil, err
		}
		if err := s.slugFree(ctx, g.Project.OrgID, *slug, g.Project.ID); err != nil {
			return nil, err
		}
	}
	var p *coffer.Project
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.LockProject(ctx, id); err != nil {
			return err
		}
		if p, err = tx.FindProject(ctx, id); err != nil { // the latest, so that a concurrent change is not undone
			return err
		}
		if name == nil && slug == nil {
			return nil
		}
		if name != nil {
			p.Name = *name
		}
		if slug != nil {
			p.Slug = *slug
		}
		p.UpdatedAt = s.now()
		if err := conflict(tx.UpdateProject(ctx, p), "a project with slug %s already exists", p.Slug); err != nil {
			return err
		}
		return s.record(ctx, tx, coffer.ActionProjectUpdate, p.OrgID, p.ID, map[string]any{"name": p.Name, "slug": p.Slug})
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// DeleteProject deletes a project with everything in it, and drops its data keys from the
// keyring. Project admins may.
func (s *Service) DeleteProject(ctx context.Context, id string) (*coffer.Project, error) {
	g, err := s.grant(ctx, id, authz.Delete, authz.Settings)
	if err != nil {
		return nil, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteProject(ctx, g.Project.ID); err != nil {
			return err
		}
		return s.record(ctx, tx, coffer.ActionProjectDelete, g.Project.OrgID, g.Project.ID,
			map[string]any{"name": g.Project.Name, "slug": g.Project.Slug})
	})
	if err != nil {
		return nil, err
	}
	s.keys.Forget(g.Project.ID)
	return g.Project, nil
}
