package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cofferhq/coffer"
)

const projectRoleColumns = `id, project_id, slug, name, description, permissions, created_at, updated_at`

func scanProjectRole(sc interface{ Scan(...any) error }) (*coffer.ProjectRole, error) {
	var r coffer.ProjectRole
	var perms string
	var created, updated int64
	if err := sc.Scan(&r.ID, &r.ProjectID, &r.Slug, &r.Name, &r.Description, &perms, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(perms), &r.Permissions); err != nil {
		return nil, fmt.Errorf("project role %s: permissions: %w", r.ID, err)
	}
	r.CreatedAt, r.UpdatedAt = fromMS(created), fromMS(updated)
	return &r, nil
}

// CreateProjectRole inserts a custom project role. A slug taken in the project is a conflict.
func (c conn) CreateProjectRole(ctx context.Context, r *coffer.ProjectRole) error {
	perms, err := json.Marshal(r.Permissions)
	if err != nil {
		return err
	}
	_, err = c.exec(ctx, `INSERT INTO project_roles (`+projectRoleColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.ProjectID, r.Slug, r.Name, r.Description, string(perms), ms(r.CreatedAt), ms(r.UpdatedAt))
	return err
}

// FindProjectRole returns a custom role of a project by id.
func (c conn) FindProjectRole(ctx context.Context, projectID, id string) (*coffer.ProjectRole, error) {
	return c.findProjectRole(ctx, `project_id = ? AND id = ?`, projectID, id)
}

// FindProjectRoleByID returns a custom role by id, whatever its project.
func (c conn) FindProjectRoleByID(ctx context.Context, id string) (*coffer.ProjectRole, error) {
	return c.findProjectRole(ctx, `id = ?`, id)
}

// FindProjectRoleBySlug returns a custom role of a project by slug.
func (c conn) FindProjectRoleBySlug(ctx context.Context, projectID, slug string) (*coffer.ProjectRole, error) {
	return c.findProjectRole(ctx, `project_id = ? AND slug = ?`, projectID, slug)
}

func (c conn) findProjectRole(ctx context.Context, where string, args ...any) (*coffer.ProjectRole, error) {
	r, err := scanProjectRole(c.replica().queryRow(ctx, `SELECT `+projectRoleColumns+` FROM project_roles WHERE `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("role")
	}
	return r, err
}

// ListProjectRoles returns the custom roles of a project by slug.
func (c conn) ListProjectRoles(ctx context.Context, projectID string) ([]*coffer.ProjectRole, error) {
	rows, err := c.replica().query(ctx, `SELECT `+projectRoleColumns+` FROM project_roles WHERE project_id = ? ORDER BY slug`, projectID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*coffer.ProjectRole
	for rows.Next() {
		r, err := scanProjectRole(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// UpdateProjectRole saves a custom role's slug, name, description and permissions, and moves
// the memberships that held its old slug to the new one.
func (c conn) UpdateProjectRole(ctx context.Context, r *coffer.ProjectRole, oldSlug string) error {
	perms, err := json.Marshal(r.Permissions)
	if err != nil {
		return err
	}
	res, err := c.exec(ctx, `UPDATE project_roles SET slug = ?, name = ?, description = ?, permissions = ?, updated_at = ? WHERE id = ?`,
		r.Slug, r.Name, r.Description, string(perms), ms(r.UpdatedAt), r.ID)
	if err := expectRow(res, err, "role"); err != nil {
		return err
	}
	if oldSlug == r.Slug {
		return nil
	}
	_, err = c.exec(ctx, `UPDATE project_memberships SET role = ?, updated_at = ? WHERE project_id = ? AND role = ?`,
		r.Slug, ms(r.UpdatedAt), r.ProjectID, oldSlug)
	return err
}

// DeleteProjectRole deletes a custom role.
func (c conn) DeleteProjectRole(ctx context.Context, id string) error {
	res, err := c.exec(ctx, `DELETE FROM project_roles WHERE id = ?`, id)
	return expectRow(res, err, "role")
}

// CountRoleMemberships returns how many memberships of a project hold a role.
func (c conn) CountRoleMemberships(ctx context.Context, projectID, role string) (int, error) {
	var n int
	err := c.queryRow(ctx, `SELECT COUNT(*) FROM project_memberships WHERE project_id = ? AND role = ?`, projectID, role).Scan(&n)
	return n, err
}
