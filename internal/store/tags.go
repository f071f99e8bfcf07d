package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/cofferhq/coffer"
)

const tagColumns = `id, project_id, slug, name, color, created_at, updated_at`

func scanTagWith(sc interface{ Scan(...any) error }, extra ...any) (*coffer.Tag, error) {
	var t coffer.Tag
	var created, updated int64
	dest := append(extra, &t.ID, &t.ProjectID, &t.Slug, &t.Name, &t.Color, &created, &updated)
	if err := sc.Scan(dest...); err != nil {
		return nil, err
	}
	t.CreatedAt, t.UpdatedAt = fromMS(created), fromMS(updated)
	return &t, nil
}

// CreateTag inserts a tag.
func (c conn) CreateTag(ctx context.Context, t *coffer.Tag) error {
	_, err := c.exec(ctx, `INSERT INTO tags (`+tagColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.ProjectID, t.Slug, t.Name, t.Color, ms(t.CreatedAt), ms(t.UpdatedAt))
	return err
}

// FindTag returns a tag of a project by id.
func (c conn) FindTag(ctx context.Context, projectID, id string) (*coffer.Tag, error) {
	return c.findTag(ctx, `project_id = ? AND id = ?`, projectID, id)
}

// FindTagBySlug returns a tag of a project by slug.
func (c conn) FindTagBySlug(ctx context.Context, projectID, slug string) (*coffer.Tag, error) {
	return c.findTag(ctx, `project_id = ? AND slug = ?`, projectID, slug)
}

func (c conn) findTag(ctx context.Context, where string, args ...any) (*coffer.Tag, error) {
	t, err := scanTagWith(c.replica().queryRow(ctx, `SELECT `+tagColumns+` FROM tags WHERE `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("tag")
	}
	return t, err
}

// ListTags returns a project's tags by slug.
func (c conn) ListTags(ctx context.Context, projectID string) ([]*coffer.Tag, error) {
	rows, err := c.replica().query(ctx, `SELECT `+tagColumns+` FROM tags WHERE project_id = ? ORDER BY slug`, projectID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*coffer.Tag
	for rows.Next() {
		t, err := scanTagWith(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// UpdateTag saves a tag's slug, name and color.
func (c conn) UpdateTag(ctx context.Context, t *coffer.Tag) error {
	res, err := c.exec(ctx, `UPDATE tags SET slug = ?, name = ?, color = ?, updated_at = ? WHERE id = ?`, t.Slug, t.Name, t.Color, ms(t.UpdatedAt), t.ID)
	return expectRow(res, err, "tag")
}

// DeleteTag deletes a tag and its links to secrets.
func (c conn) DeleteTag(ctx context.Context, id string) error {
	res, err := c.exec(ctx, `DELETE FROM tags WHERE id = ?`, id)
	return expectRow(res, err, "tag")
}
