package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// ClaimSetting inserts an instance setting that must be set only once. It reports false,
// changing nothing, when the key already exists (another request or node claimed it first).
func (c conn) ClaimSetting(ctx context.Context, key, value string, now time.Time) (bool, error) {
	res, err := c.exec(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING`, key, value, ms(now))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// FindSetting returns an instance setting, and whether it is set.
func (c conn) FindSetting(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := c.queryRow(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return v, err == nil, err
}
