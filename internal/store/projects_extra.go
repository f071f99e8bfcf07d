package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/cofferhq/coffer"
)

// LockProject takes the write lock on a project's row for the rest of the transaction, so that
// changes to its environments and settings made by concurrent requests happen one after the
// other (PostgreSQL: SELECT … FOR UPDATE; SQLite's single writer already serializes them). It
// returns ENOTFOUND when the project does not exist.
func (c conn) LockProject(ctx context.Context, id string) error {
	var got string
	err := c.queryRow(ctx, `SELECT id FROM projects WHERE id = ?`+c.forUpdate(), id).Scan(&got)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound("project")
	}
	return err
}

// ListActorProjectRoles returns the roles an actor holds through project memberships in the
// projects of an organization, keyed by project id.
func (c conn) ListActorProjectRoles(ctx context.Context, orgID string, kind coffer.ActorKind, actorID string) (map[string]string, error) {
	rows, err := c.replica().query(ctx, `SELECT m.project_id, m.role FROM project_memberships m JOIN projects p ON p.id = m.project_id
 WHERE p.org_id = ? AND m.actor_kind = ? AND m.actor_id = ?`, orgID, kind, actorID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, role string
		if err := rows.Scan(&id, &role); err != nil {
			return nil, err
		}
		out[id] = role
	}
	return out, rows.Err()
}
