package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/keyring"
)

// CreateProject inserts a project and its environments (each with its root folder).
func (c conn) CreateProject(ctx context.Context, p *coffer.Project) error {
	if _, err := c.exec(ctx, `INSERT INTO projects (id, org_id, name, slug, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
		p.ID, p.OrgID, p.Name, p.Slug, ms(p.CreatedAt), ms(p.UpdatedAt)); err != nil {
		return err
	}
	for i := range p.Environments {
		p.Environments[i].ProjectID = p.ID
		if err := c.CreateEnvironment(ctx, &p.Environments[i]); err != nil {
			return err
		}
	}
	return nil
}

// CreateProjectKey stores a wrapped project data key.
func (c conn) CreateProjectKey(ctx context.Context, k keyring.WrappedKey, now int64) error {
	_, err := c.exec(ctx, `INSERT INTO project_keys (project_id, term, wrapped, created_at) VALUES (?, ?, ?, ?)`,
		k.ProjectID, k.Term, k.Wrapped, now)
	return err
}

// ProjectKeys returns the wrapped data keys of a project, lowest term first. It implements
// keyring.KeyStore.
func (c conn) ProjectKeys(ctx context.Context, projectID string) ([]keyring.WrappedKey, error) {
	rows, err := c.query(ctx, `SELECT term, wrapped FROM project_keys WHERE project_id = ? AND retired_at IS NULL ORDER BY term`, projectID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []keyring.WrappedKey
	for rows.Next() {
		k := keyring.WrappedKey{ProjectID: projectID}
		if err := rows.Scan(&k.Term, &k.Wrapped); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

const projectColumns = `id, org_id, name, slug, created_at, updated_at`

func scanProject(s interface{ Scan(...any) error }) (*coffer.Project, error) {
	var p coffer.Project
	var created, updated int64
	if err := s.Scan(&p.ID, &p.OrgID, &p.Name, &p.Slug, &created, &updated); err != nil {
		return nil, err
	}
	p.CreatedAt, p.UpdatedAt = fromMS(created), fromMS(updated)
	return &p, nil
}

// FindProject returns a project with its environments.
func (c conn) FindProject(ctx context.Context, id string) (*coffer.Project, error) {
	return c.findProject(ctx, `id = ?`, id)
}

// FindProjectBySlug returns a project of an organization by slug, with its environments.
func (c conn) FindProjectBySlug(ctx context.Context, orgID, slug string) (*coffer.Project, error) {
	return c.findProject(ctx, `org_id = ? AND slug = ?`, orgID, slug)
}

func (c conn) findProject(ctx context.Context, where string, args ...any) (*coffer.Project, error) {
	p, err := scanProject(c.replica().queryRow(ctx, `SELECT `+projectColumns+` FROM projects WHERE `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("project")
	} else if err != nil {
		return nil, err
	}
	if p.Environments, err = c.ListEnvironments(ctx, p.ID); err != nil {
		return nil, err
	}
	return p, nil
}

// ListProjects returns the projects of an organization, by name, with their environments.
func (c conn) ListProjects(ctx context.Context, orgID string) ([]*coffer.Project, error) {
	rows, err := c.replica().query(ctx, `SELECT `+projectColumns+` FROM projects WHERE org_id = ? ORDER BY name, id`, orgID)
	if err != nil {
		return nil, err
	}
	var out []*coffer.Project
	for rows.Next() {
		p, err := scanProject(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	envs, err := c.environments(ctx, `project_id IN (SELECT id FROM projects WHERE org_id = ?)`, orgID)
	if err != nil {
		return nil, err
	}
	byProject := map[string][]coffer.Environment{}
	for _, e := range envs {
		byProject[e.ProjectID] = append(byProject[e.ProjectID], e)
	}
	for _, p := range out {
		p.Environments = byProject[p.ID]
	}
	return out, nil
}

// UpdateProject saves a project's name and slug.
func (c conn) UpdateProject(ctx context.Context, p *coffer.Project) error {
	res, err := c.exec(ctx, `UPDATE projects SET name = ?, slug = ?, updated_at = ? WHERE id = ?`, p.Name, p.Slug, ms(p.UpdatedAt), p.ID)
	return expectRow(res, err, "project")
}

// DeleteProject deletes a project and, by cascade, everything in it.
func (c conn) DeleteProject(ctx context.Context, id string) error {
	// Secrets reference environments and folders; delete them first so that the cascade does
	// not depend on the order in which the engine walks the foreign keys.
	if _, err := c.exec(ctx, `DELETE FROM secrets WHERE project_id = ?`, id); err != nil {
		return err
	}
	res, err := c.exec(ctx, `DELETE FROM projects WHERE id = ?`, id)
	return expectRow(res, err, "project")
}

// CreateEnvironment inserts an environment and its root folder.
func (c conn) CreateEnvironment(ctx context.Context, e *coffer.Environment) error {
	if e.ID == "" {
		e.ID = NewID()
	}
	if _, err := c.exec(ctx, `INSERT INTO environments (id, project_id, name, slug, position, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		e.ID, e.ProjectID, e.Name, e.Slug, e.Position, ms(e.CreatedAt), ms(e.UpdatedAt)); err != nil {
		return err
	}
	return c.CreateFolder(ctx, &coffer.Folder{ID: NewID(), EnvironmentID: e.ID, Name: "root", Path: "/", Version: 1, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt})
}

// ListEnvironments returns a project's environments by position.
func (c conn) ListEnvironments(ctx context.Context, projectID string) ([]coffer.Environment, error) {
	return c.environments(ctx, `project_id = ?`, projectID)
}

func (c conn) environments(ctx context.Context, where string, args ...any) ([]coffer.Environment, error) {
	rows, err := c.replica().query(ctx, `SELECT id, project_id, name, slug, position, created_at, updated_at FROM environments WHERE `+where+` ORDER BY position, created_at`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []coffer.Environment
	for rows.Next() {
		var e coffer.Environment
		var created, updated int64
		if err := rows.Scan(&e.ID, &e.ProjectID, &e.Name, &e.Slug, &e.Position, &created, &updated); err != nil {
			return nil, err
		}
		e.CreatedAt, e.UpdatedAt = fromMS(created), fromMS(updated)
		out = append(out, e)
	}
	return out, rows.Err()
}

// UpdateEnvironment saves an environment's name, slug and position.
func (c conn) UpdateEnvironment(ctx context.Context, e *coffer.Environment) error {
	res, err := c.exec(ctx, `UPDATE environments SET name = ?, slug = ?, position = ?, updated_at = ? WHERE id = ?`,
		e.Name, e.Slug, e.Position, ms(e.UpdatedAt), e.ID)
	return expectRow(res, err, "environment")
}

// DeleteEnvironment deletes an environment with its folders, secrets and imports.
func (c conn) DeleteEnvironment(ctx context.Context, id string) error {
	if _, err := c.exec(ctx, `DELETE FROM secrets WHERE environment_id = ?`, id); err != nil {
		return err
	}
	res, err := c.exec(ctx, `DELETE FROM environments WHERE id = ?`, id)
	return expectRow(res, err, "environment")
}

// expectRow turns "no row changed" into ENOTFOUND.
func expectRow(res sql.Result, err error, what string) error {
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return notFound(what)
	}
	return nil
}
