package store

import (
	"context"

	"github.com/cofferhq/coffer/internal/keyring"
)

// AllProjectKeys returns every wrapped project data key (for root-key rotation).
func (c conn) AllProjectKeys(ctx context.Context) ([]keyring.WrappedKey, error) {
	rows, err := c.query(ctx, `SELECT project_id, term, wrapped FROM project_keys ORDER BY project_id, term`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []keyring.WrappedKey
	for rows.Next() {
		var k keyring.WrappedKey
		if err := rows.Scan(&k.ProjectID, &k.Term, &k.Wrapped); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// UpdateProjectKey replaces the wrapped form of a project data key.
func (c conn) UpdateProjectKey(ctx context.Context, k keyring.WrappedKey) error {
	res, err := c.exec(ctx, `UPDATE project_keys SET wrapped = ? WHERE project_id = ? AND term = ?`, k.Wrapped, k.ProjectID, k.Term)
	return expectRow(res, err, "project key")
}
