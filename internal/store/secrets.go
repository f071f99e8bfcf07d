package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cofferhq/coffer"
)

// ErrStale is wrapped by an update whose row was changed by another transaction since it was
// read (its version moved on): the caller may retry on fresh state.
var ErrStale = errors.New("store: row changed since it was read")

// SealedSecret is a secret as stored: Value and Comment of the embedded Secret are empty and
// their sealed forms are beside them.
type SealedSecret struct {
	coffer.Secret
	SealedValue   []byte
	SealedComment []byte
}

// SealedVersion is a kept version of a secret as stored.
type SealedVersion struct {
	coffer.SecretVersion
	SealedValue   []byte
	SealedComment []byte
}

// SecretFilter selects secrets. FolderIDs is required.
type SecretFilter struct {
	FolderIDs []string
	// OwnerID adds the personal secrets of this user to the shared ones.
	OwnerID string
	// Key, when set, selects one name.
	Key string
	// Type, when set, selects shared or personal secrets only.
	Type coffer.SecretType
}

const secretColumns = `s.id, s.project_id, s.environment_id, e.slug, s.folder_id, f.path, s.name, s.type, s.owner_id,
 s.version, s.value, s.comment, s.reminder_note, s.reminder_repeat_days, s.skip_multiline, s.metadata, s.created_at, s.updated_at`

const secretFrom = ` FROM secrets s JOIN folders f ON f.id = s.folder_id JOIN environments e ON e.id = s.environment_id `

func scanSecret(sc interface{ Scan(...any) error }) (*SealedSecret, error) {
	var s SealedSecret
	var meta string
	var created, updated int64
	if err := sc.Scan(&s.ID, &s.ProjectID, &s.EnvironmentID, &s.Environment, &s.FolderID, &s.Path, &s.Key, &s.Type, &s.OwnerID,
		&s.Version, &s.SealedValue, &s.SealedComment, &s.ReminderNote, &s.ReminderRepeatDays, &s.SkipMultilineEncoding, &meta, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(meta), &s.Metadata); err != nil {
		return nil, fmt.Errorf("secret %s metadata: %w", s.ID, err)
	}
	s.CreatedAt, s.UpdatedAt = fromMS(created), fromMS(updated)
	return &s, nil
}

// FindSecrets returns the secrets of the given folders, with their tags, ordered by path, key
// and type (shared before personal).
func (c conn) FindSecrets(ctx context.Context, f SecretFilter) ([]*SealedSecret, error) {
	if len(f.FolderIDs) == 0 {
		return nil, nil
	}
	where, args := secretWhere(f)
	rows, err := c.replica().query(ctx, `SELECT `+secretColumns+secretFrom+`WHERE `+where+` ORDER BY f.path, s.name, s.type DESC`, args...)
	if err != nil {
		return nil, err
	}
	var out []*SealedSecret
	for rows.Next() {
		s, err := scanSecret(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	return out, c.loadTags(ctx, out, where, args)
}

func secretWhere(f SecretFilter) (string, []any) {
	where := `s.folder_id IN (` + placeholders(len(f.FolderIDs)) + `)`
	args := make([]any, 0, len(f.FolderIDs)+4)
	for _, id := range f.FolderIDs {
		args = append(args, id)
	}
	switch f.Type {
	case coffer.SecretShared:
		where += ` AND s.type = 'shared'`
	case coffer.SecretPersonal:
		where += ` AND s.type = 'personal' AND s.owner_id = ?`
		args = append(args, f.OwnerID)
	default:
		where += ` AND (s.type = 'shared' OR s.owner_id = ?)`
		args = append(args, f.OwnerID)
	}
	if f.Key != "" {
		where += ` AND s.name = ?`
		args = append(args, f.Key)
	}
	return where, args
}

// loadTags fills the Tags of the secrets selected by where.
func (c conn) loadTags(ctx context.Context, secrets []*SealedSecret, where string, args []any) error {
	rows, err := c.replica().query(ctx, `SELECT st.secret_id, t.id, t.project_id, t.slug, t.name, t.color, t.created_at, t.updated_at
 FROM secret_tags st JOIN tags t ON t.id = st.tag_id JOIN secrets s ON s.id = st.secret_id WHERE `+where+` ORDER BY t.slug`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	byID := make(map[string]*SealedSecret, len(secrets))
	for _, s := range secrets {
		byID[s.ID] = s
	}
	for rows.Next() {
		var secretID string
		t, err := scanTagWith(rows, &secretID)
		if err != nil {
			return err
		}
		if s := byID[secretID]; s != nil {
			s.Tags = append(s.Tags, *t)
		}
	}
	return rows.Err()
}

// FindSecret returns one secret of a folder by type, owner and key. Inside a transaction on
// PostgreSQL the row is locked until the transaction ends.
func (c conn) FindSecret(ctx context.Context, folderID string, typ coffer.SecretType, ownerID, key string) (*SealedSecret, error) {
	if typ == coffer.SecretShared {
		ownerID = ""
	}
	s, err := scanSecret(c.replica().queryRow(ctx, `SELECT `+secretColumns+secretFrom+
		`WHERE s.folder_id = ? AND s.type = ? AND s.owner_id = ? AND s.name = ?`+c.forUpdateOf("s"), folderID, typ, ownerID, key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("secret")
	} else if err != nil {
		return nil, err
	}
	ss := []*SealedSecret{s}
	return s, c.loadTags(ctx, ss, `s.id = ?`, []any{s.ID})
}

// forUpdateOf locks only the rows of the named table (PostgreSQL refuses FOR UPDATE on the
// nullable side of an outer join, and locking the joined folder would serialize a folder).
func (c conn) forUpdateOf(table string) string {
	if s := c.forUpdate(); s != "" {
		return s + " OF " + table
	}
	return ""
}

// CreateSecret inserts a secret, its first version and its tags.
func (c conn) CreateSecret(ctx context.Context, s *SealedSecret, by *coffer.Actor) error {
	meta, err := marshalMetadata(s.Metadata)
	if err != nil {
		return err
	}
	if _, err := c.exec(ctx, `INSERT INTO secrets (id, project_id, environment_id, folder_id, name, type, owner_id, version, value, comment,
 reminder_note, reminder_repeat_days, skip_multiline, metadata, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.ProjectID, s.EnvironmentID, s.FolderID, s.Key, s.Type, s.OwnerID, s.Version, s.SealedValue, s.SealedComment,
		s.ReminderNote, s.ReminderRepeatDays, s.SkipMultilineEncoding, meta, ms(s.CreatedAt), ms(s.UpdatedAt)); err != nil {
		return err
	}
	if err := c.insertVersion(ctx, s, by); err != nil {
		return err
	}
	return c.setSecretTags(ctx, s.ID, s.Tags, false)
}

// UpdateSecret saves a secret whose Version the caller has raised by one, keeps the new
// version, and replaces its tags.
func (c conn) UpdateSecret(ctx context.Context, s *SealedSecret, by *coffer.Actor) error {
	meta, err := marshalMetadata(s.Metadata)
	if err != nil {
		return err
	}
	res, err := c.exec(ctx, `UPDATE secrets SET name = ?, version = ?, value = ?, comment = ?, reminder_note = ?, reminder_repeat_days = ?,
 skip_multiline = ?, metadata = ?, updated_at = ? WHERE id = ? AND version = ?`,
		s.Key, s.Version, s.SealedValue, s.SealedComment, s.ReminderNote, s.ReminderRepeatDays, s.SkipMultilineEncoding, meta, ms(s.UpdatedAt),
		s.ID, s.Version-1)
	if err != nil {
		return err
	} else if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return errors.Join(ErrStale, coffer.Errorf(coffer.ECONFLICT, "secret %s was changed by another request; retry", s.Key))
	}
	if err := c.insertVersion(ctx, s, by); err != nil {
		return err
	}
	return c.setSecretTags(ctx, s.ID, s.Tags, true)
}

func (c conn) insertVersion(ctx context.Context, s *SealedSecret, by *coffer.Actor) error {
	var kind coffer.ActorKind
	var id string
	if by != nil {
		kind, id = by.Kind, by.ID
	}
	_, err := c.exec(ctx, `INSERT INTO secret_versions (id, secret_id, version, name, value, comment, skip_multiline, actor_kind, actor_id, created_at)
 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		NewID(), s.ID, s.Version, s.Key, s.SealedValue, s.SealedComment, s.SkipMultilineEncoding, kind, id, ms(s.UpdatedAt))
	return err
}

func (c conn) setSecretTags(ctx context.Context, secretID string, tags []coffer.Tag, replace bool) error {
	if replace {
		if _, err := c.exec(ctx, `DELETE FROM secret_tags WHERE secret_id = ?`, secretID); err != nil {
			return err
		}
	}
	for _, t := range tags {
		if _, err := c.exec(ctx, `INSERT INTO secret_tags (secret_id, tag_id) VALUES (?, ?)`, secretID, t.ID); err != nil {
			return err
		}
	}
	return nil
}

// DeleteSecret deletes a secret with its versions and tag links.
func (c conn) DeleteSecret(ctx context.Context, id string) error {
	res, err := c.exec(ctx, `DELETE FROM secrets WHERE id = ?`, id)
	return expectRow(res, err, "secret")
}

const versionColumns = `id, secret_id, version, name, value, comment, skip_multiline, actor_kind, actor_id, created_at`

func scanVersion(sc interface{ Scan(...any) error }) (*SealedVersion, error) {
	var v SealedVersion
	var created int64
	if err := sc.Scan(&v.ID, &v.SecretID, &v.Version, &v.Key, &v.SealedValue, &v.SealedComment, &v.SkipMultilineEncoding,
		&v.ActorKind, &v.ActorID, &created); err != nil {
		return nil, err
	}
	v.CreatedAt = fromMS(created)
	return &v, nil
}

// ListSecretVersions returns a secret's kept versions, newest first.
func (c conn) ListSecretVersions(ctx context.Context, secretID string, offset, limit int) ([]*SealedVersion, error) {
	rows, err := c.replica().query(ctx, `SELECT `+versionColumns+` FROM secret_versions WHERE secret_id = ? ORDER BY version DESC LIMIT ? OFFSET ?`,
		secretID, limit, offset)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*SealedVersion
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// FindSecretVersion returns one kept version of a secret.
func (c conn) FindSecretVersion(ctx context.Context, secretID string, version int) (*SealedVersion, error) {
	v, err := scanVersion(c.replica().queryRow(ctx, `SELECT `+versionColumns+` FROM secret_versions WHERE secret_id = ? AND version = ?`, secretID, version))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("secret version")
	}
	return v, err
}

func marshalMetadata(m []coffer.SecretMetadata) (string, error) {
	if len(m) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(m)
	return string(b), err
}
