package projects

import (
	"context"
	"strings"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/store"
)

// CreateEnvironment adds an environment, with its root folder, to a project. position 0 puts
// it after the others. Project admins may. It returns ECONFLICT when the slug is taken in the
// project.
func (s *Service) CreateEnvironment(ctx context.Context, projectID, name, slug string, position int) (*coffer.Environment, error) {
	g, err := s.grant(ctx, projectID, authz.Create, authz.Settings)
	if err != nil {
		return nil, err
	}
	name = strings.TrimSpace(name)
	if err := validateEnv(name, slug, position); err != nil {
		return nil, err
	}
	now := s.now()
	e := &coffer.Environment{ID: store.NewID(), ProjectID: g.Project.ID, Name: name, Slug: slug, Position: position, CreatedAt: now, UpdatedAt: now}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		envs, err := lockedEnvironments(ctx, tx, g.Project.ID)
		if err != nil {
			return err
		}
		if e.Position == 0 {
			e.Position = 1
			for _, o := range envs {
				e.Position = max(e.Position, o.Position+1)
			}
		}
		if err := slugTaken(envs, slug, ""); err != nil {
			return err
		}
		if err := conflict(tx.CreateEnvironment(ctx, e), "environment with slug %s already exists in this project", slug); err != nil {
			return err
		}
		return s.recordEnv(ctx, tx, coffer.ActionEnvironmentCreate, g.Project, e)
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// UpdateEnvironment changes an environment's name, slug or position (nil: unchanged). Project
// admins may.
func (s *Service) UpdateEnvironment(ctx context.Context, projectID, envID string, name, slug *string, position *int) (*coffer.Environment, error) {
	g, err := s.grant(ctx, projectID, authz.Edit, authz.Settings)
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
	}
	if position != nil && *position < 1 {
		return nil, coffer.Errorf(coffer.EVALIDATION, "position: must be at least 1")
	}
	var e *coffer.Environment
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		envs, err := lockedEnvironments(ctx, tx, g.Project.ID)
		if err != nil {
			return err
		}
		if e, err = findEnv(envs, envID); err != nil {
			return err
		}
		if name != nil {
			e.Name = *name
		}
		if slug != nil {
			e.Slug = *slug
		}
		if position != nil {
			e.Position = *position
		}
		if err := slugTaken(envs, e.Slug, e.ID); err != nil {
			return err
		}
		e.UpdatedAt = s.now()
		if err := conflict(tx.UpdateEnvironment(ctx, e), "environment with slug %s already exists in this project", e.Slug); err != nil {
			return err
		}
		return s.recordEnv(ctx, tx, coffer.ActionEnvironmentUpdate, g.Project, e)
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// DeleteEnvironment deletes an environment with its folders and secrets. Project admins may;
// the last environment of a project cannot be deleted (EINVALID).
func (s *Service) DeleteEnvironment(ctx context.Context, projectID, envID string) (*coffer.Environment, error) {
	g, err := s.grant(ctx, projectID, authz.Delete, authz.Settings)
	if err != nil {
		return nil, err
	}
	var e *coffer.Environment
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		envs, err := lockedEnvironments(ctx, tx, g.Project.ID)
		if err != nil {
			return err
		}
		if e, err = findEnv(envs, envID); err != nil {
			return err
		}
		if len(envs) == 1 {
			return coffer.Errorf(coffer.EINVALID, "cannot delete the last environment of a project")
		}
		if err := tx.DeleteEnvironment(ctx, e.ID); err != nil {
			return err
		}
		return s.recordEnv(ctx, tx, coffer.ActionEnvironmentDelete, g.Project, e)
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// lockedEnvironments locks a project for the rest of the transaction and returns its
// environments as they are now, so that concurrent changes cannot both pass a check (two
// deletes of the last two environments, two creates of one slug).
func lockedEnvironments(ctx context.Context, tx *store.Tx, projectID string) ([]coffer.Environment, error) {
	if err := tx.LockProject(ctx, projectID); err != nil {
		if coffer.ErrorCode(err) == coffer.ENOTFOUND {
			return nil, coffer.Errorf(coffer.ENOTFOUND, "project %s not found", projectID)
		}
		return nil, err
	}
	return tx.ListEnvironments(ctx, projectID)
}

// validateEnv checks the fields of a new environment.
func validateEnv(name, slug string, position int) error {
	if err := coffer.ValidateName("name", name); err != nil {
		return err
	}
	if err := coffer.ValidateSlug("slug", slug); err != nil {
		return err
	}
	if position < 0 {
		return coffer.Errorf(coffer.EVALIDATION, "position: must be at least 1")
	}
	return nil
}

// findEnv returns a copy of the environment with id, or ENOTFOUND.
func findEnv(envs []coffer.Environment, id string) (*coffer.Environment, error) {
	for i := range envs {
		if envs[i].ID == id {
			e := envs[i]
			return &e, nil
		}
	}
	return nil, coffer.Errorf(coffer.ENOTFOUND, "environment %s not found", id)
}

// slugTaken returns ECONFLICT when an environment other than exceptID has slug.
func slugTaken(envs []coffer.Environment, slug, exceptID string) error {
	for _, o := range envs {
		if o.Slug == slug && o.ID != exceptID {
			return coffer.Errorf(coffer.ECONFLICT, "environment with slug %s already exists in this project", slug)
		}
	}
	return nil
}
