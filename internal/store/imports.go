package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/cofferhq/coffer"
)

const importSelect = `SELECT i.id, i.folder_id, f.environment_id, i.import_path, i.position, i.created_at, i.updated_at,
 e.id, e.project_id, e.name, e.slug, e.position, e.created_at, e.updated_at
 FROM secret_imports i JOIN folders f ON f.id = i.folder_id JOIN environments e ON e.id = i.import_env_id `

func scanImport(sc interface{ Scan(...any) error }) (*coffer.SecretImport, error) {
	var i coffer.SecretImport
	var created, updated, ecreated, eupdated int64
	e := &i.ImportEnv
	if err := sc.Scan(&i.ID, &i.FolderID, &i.EnvironmentID, &i.ImportPath, &i.Position, &created, &updated,
		&e.ID, &e.ProjectID, &e.Name, &e.Slug, &e.Position, &ecreated, &eupdated); err != nil {
		return nil, err
	}
	i.CreatedAt, i.UpdatedAt, e.CreatedAt, e.UpdatedAt = fromMS(created), fromMS(updated), fromMS(ecreated), fromMS(eupdated)
	return &i, nil
}

// ListSecretImports returns the imports of a folder by position.
func (c conn) ListSecretImports(ctx context.Context, folderID string) ([]*coffer.SecretImport, error) {
	rows, err := c.replica().query(ctx, importSelect+`WHERE i.folder_id = ? ORDER BY i.position, i.created_at`, folderID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*coffer.SecretImport
	for rows.Next() {
		i, err := scanImport(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, i)
	}
	return out, rows.Err()
}

// FindSecretImport returns an import by id.
func (c conn) FindSecretImport(ctx context.Context, id string) (*coffer.SecretImport, error) {
	i, err := scanImport(c.replica().queryRow(ctx, importSelect+`WHERE i.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("secret import")
	}
	return i, err
}

// CreateSecretImport inserts an import at its Position.
func (c conn) CreateSecretImport(ctx context.Context, i *coffer.SecretImport) error {
	_, err := c.exec(ctx, `INSERT INTO secret_imports (id, folder_id, import_env_id, import_path, position, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		i.ID, i.FolderID, i.ImportEnv.ID, i.ImportPath, i.Position, ms(i.CreatedAt), ms(i.UpdatedAt))
	return err
}

// UpdateSecretImport saves an import's source and position.
func (c conn) UpdateSecretImport(ctx context.Context, i *coffer.SecretImport) error {
	res, err := c.exec(ctx, `UPDATE secret_imports SET import_env_id = ?, import_path = ?, position = ?, updated_at = ? WHERE id = ?`,
		i.ImportEnv.ID, i.ImportPath, i.Position, ms(i.UpdatedAt), i.ID)
	return expectRow(res, err, "secret import")
}

// DeleteSecretImport deletes an import.
func (c conn) DeleteSecretImport(ctx context.Context, id string) error {
	res, err := c.exec(ctx, `DELETE FROM secret_imports WHERE id = ?`, id)
	return expectRow(res, err, "secret import")
}
