package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/cofferhq/coffer"
)

const folderColumns = `id, environment_id, COALESCE(parent_id, ''), name, path, version, created_at, updated_at`

func scanFolder(s interface{ Scan(...any) error }) (*coffer.Folder, error) {
	var f coffer.Folder
	var created, updated int64
	if err := s.Scan(&f.ID, &f.EnvironmentID, &f.ParentID, &f.Name, &f.Path, &f.Version, &created, &updated); err != nil {
		return nil, err
	}
	f.CreatedAt, f.UpdatedAt = fromMS(created), fromMS(updated)
	return &f, nil
}

func (c conn) folders(ctx context.Context, where string, args ...any) ([]*coffer.Folder, error) {
	rows, err := c.replica().query(ctx, `SELECT `+folderColumns+` FROM folders WHERE `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*coffer.Folder
	for rows.Next() {
		f, err := scanFolder(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// CreateFolder inserts a folder. Its Path must be set and its parent must exist.
func (c conn) CreateFolder(ctx context.Context, f *coffer.Folder) error {
	var parent any
	if f.ParentID != "" {
		parent = f.ParentID
	}
	_, err := c.exec(ctx, `INSERT INTO folders (id, environment_id, parent_id, name, path, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		f.ID, f.EnvironmentID, parent, f.Name, f.Path, f.Version, ms(f.CreatedAt), ms(f.UpdatedAt))
	return err
}

// FindFolderByPath returns the folder at a canonical path of an environment.
func (c conn) FindFolderByPath(ctx context.Context, envID, path string) (*coffer.Folder, error) {
	f, err := scanFolder(c.replica().queryRow(ctx, `SELECT `+folderColumns+` FROM folders WHERE environment_id = ? AND path = ?`+c.forUpdate(), envID, path))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("folder")
	}
	return f, err
}

// FindFolder returns a folder by id.
func (c conn) FindFolder(ctx context.Context, id string) (*coffer.Folder, error) {
	f, err := scanFolder(c.replica().queryRow(ctx, `SELECT `+folderColumns+` FROM folders WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("folder")
	}
	return f, err
}

// ListChildFolders returns the folders directly inside a folder, by name.
func (c conn) ListChildFolders(ctx context.Context, parentID string) ([]*coffer.Folder, error) {
	return c.folders(ctx, `parent_id = ? ORDER BY name`, parentID)
}

// ListFolderTree returns the folder at path and every folder below it, parents before
// children.
func (c conn) ListFolderTree(ctx context.Context, envID, path string) ([]*coffer.Folder, error) {
	prefix := path + "/"
	if path == "/" {
		prefix = "/"
	}
	return c.folders(ctx, `environment_id = ? AND (path = ? OR substr(path, 1, ?) = ?) ORDER BY path`, envID, path, len(prefix), prefix)
}

// RenameFolder gives a folder a new name, moving the paths of everything below it.
func (c conn) RenameFolder(ctx context.Context, f *coffer.Folder, name string, now time.Time) error {
	parent, _ := coffer.SplitPath(f.Path)
	newPath := coffer.JoinPath(parent, name)
	oldPrefix := f.Path + "/"
	if _, err := c.exec(ctx, `UPDATE folders SET path = CAST(? AS TEXT) || substr(path, ?), updated_at = ? WHERE environment_id = ? AND substr(path, 1, ?) = ?`,
		newPath+"/", len(oldPrefix)+1, ms(now), f.EnvironmentID, len(oldPrefix), oldPrefix); err != nil {
		return err
	}
	res, err := c.exec(ctx, `UPDATE folders SET name = ?, path = ?, version = version + 1, updated_at = ? WHERE id = ?`, name, newPath, ms(now), f.ID)
	if err := expectRow(res, err, "folder"); err != nil {
		return err
	}
	f.Name, f.Path, f.Version, f.UpdatedAt = name, newPath, f.Version+1, now
	return nil
}

// DeleteFolder deletes a folder and everything below it.
func (c conn) DeleteFolder(ctx context.Context, f *coffer.Folder) error {
	prefix := f.Path + "/"
	if _, err := c.exec(ctx, `DELETE FROM secrets WHERE folder_id IN (SELECT id FROM folders WHERE environment_id = ? AND (id = ? OR substr(path, 1, ?) = ?))`,
		f.EnvironmentID, f.ID, len(prefix), prefix); err != nil {
		return err
	}
	res, err := c.exec(ctx, `DELETE FROM folders WHERE id = ?`, f.ID)
	return expectRow(res, err, "folder")
}
