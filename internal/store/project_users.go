package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/cofferhq/coffer"
)

// ProjectUser is a user's membership of a project with the user's details.
type ProjectUser struct {
	coffer.Membership
	Email string
	Name  string
}

const projectUserColumns = `SELECT m.id, m.project_id, m.actor_kind, m.actor_id, m.role, m.created_at, m.updated_at, u.email, u.name
 FROM project_memberships m JOIN users u ON u.id = m.actor_id WHERE m.actor_kind = 'user' AND m.project_id = ?`

// ListProjectUsers returns the user memberships of a project, oldest first.
func (c conn) ListProjectUsers(ctx context.Context, projectID string) ([]*ProjectUser, error) {
	rows, err := c.replica().query(ctx, projectUserColumns+` ORDER BY m.created_at, m.id`, projectID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*ProjectUser
	for rows.Next() {
		m, err := scanProjectUser(rows.Scan)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// FindProjectUser returns the user membership of a project with the given membership id.
func (c conn) FindProjectUser(ctx context.Context, projectID, membershipID string) (*ProjectUser, error) {
	m, err := scanProjectUser(c.queryRow(ctx, projectUserColumns+` AND m.id = ?`, projectID, membershipID).Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("membership")
	}
	return m, err
}

func scanProjectUser(scan func(...any) error) (*ProjectUser, error) {
	var m ProjectUser
	var created, updated int64
	if err := scan(&m.ID, &m.ScopeID, &m.ActorKind, &m.ActorID, &m.Role, &created, &updated, &m.Email, &m.Name); err != nil {
		return nil, err
	}
	m.CreatedAt, m.UpdatedAt = fromMS(created), fromMS(updated)
	return &m, nil
}
