package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"time"

	"github.com/cofferhq/coffer/internal/keyring"
)

// AllProjectKeys returns every live (not retired) wrapped project data key (for root-key
// rotation).
func (c conn) AllProjectKeys(ctx context.Context) ([]keyring.WrappedKey, error) {
	rows, err := c.query(ctx, `SELECT project_id, term, wrapped FROM project_keys WHERE retired_at IS NULL ORDER BY project_id, term`)
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

// UpdateProjectKey replaces the wrapped form of a live project data key.
func (c conn) UpdateProjectKey(ctx context.Context, k keyring.WrappedKey) error {
	res, err := c.exec(ctx, `UPDATE project_keys SET wrapped = ? WHERE project_id = ? AND term = ? AND retired_at IS NULL`, k.Wrapped, k.ProjectID, k.Term)
	return expectRow(res, err, "project key")
}

// LockKeyTerm returns the term new ciphertexts of the project are sealed with, and holds the
// project's row lock until the transaction ends (PostgreSQL: FOR NO KEY UPDATE, the lock the
// revision triggers take on the same row when the write reaches them, so writers of one project
// were serialized on it already; SQLite's single writer serializes everything). A key rotation
// (LockProject) waits for it, so no transaction seals with a term older than one a committed
// rotation made: that is what lets the re-seal job finish in one pass and the old keys be
// destroyed. Take it first, before any folder's, secret's or tag's lock: the order of every
// write (internal/secrets inProjectTx).
func (tx *Tx) LockKeyTerm(ctx context.Context, projectID string) (uint32, error) {
	lock := ""
	if tx.forUpdate() != "" {
		lock = " FOR NO KEY UPDATE"
	}
	var term uint32
	err := tx.queryRow(ctx, `SELECT key_term FROM projects WHERE id = ?`+lock, projectID).Scan(&term)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, notFound("project")
	}
	return term, err
}

// KeyTerm returns the project's current key term, without a lock.
func (c conn) KeyTerm(ctx context.Context, projectID string) (uint32, error) {
	var term uint32
	err := c.queryRow(ctx, `SELECT key_term FROM projects WHERE id = ?`, projectID).Scan(&term)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, notFound("project")
	}
	return term, err
}

// AddProjectKeyTerm stores a new data key of the project and makes its term the one new
// ciphertexts are sealed with. The caller holds LockProject.
func (tx *Tx) AddProjectKeyTerm(ctx context.Context, k keyring.WrappedKey, now time.Time) error {
	if err := tx.CreateProjectKey(ctx, k, ms(now)); err != nil {
		return err
	}
	res, err := tx.exec(ctx, `UPDATE projects SET key_term = ? WHERE id = ?`, k.Term, k.ProjectID)
	return expectRow(res, err, "project")
}

// ProjectKeyInfo describes a project data key without its key material.
type ProjectKeyInfo struct {
	Term      uint32
	CreatedAt time.Time
	RetiredAt time.Time // zero while the key is live
}

// ProjectKeyInfos returns the project's data keys, live and retired, lowest term first.
func (c conn) ProjectKeyInfos(ctx context.Context, projectID string) ([]ProjectKeyInfo, error) {
	rows, err := c.query(ctx, `SELECT term, created_at, retired_at FROM project_keys WHERE project_id = ? ORDER BY term`, projectID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ProjectKeyInfo
	for rows.Next() {
		var k ProjectKeyInfo
		var created int64
		var retired sql.NullInt64
		if err := rows.Scan(&k.Term, &created, &retired); err != nil {
			return nil, err
		}
		k.CreatedAt = fromMS(created)
		if retired.Valid {
			k.RetiredAt = fromMS(retired.Int64)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RetireProjectKeys destroys the project's live data keys of terms below term: the wrapped key
// is emptied and retired_at set, so nothing sealed with them can be opened again. The caller
// holds LockProject and has checked that no ciphertext of those terms is left
// (CountStaleCiphertexts). It returns the terms retired.
func (tx *Tx) RetireProjectKeys(ctx context.Context, projectID string, below uint32, now time.Time) ([]uint32, error) {
	rows, err := tx.query(ctx, `SELECT term FROM project_keys WHERE project_id = ? AND term < ? AND retired_at IS NULL ORDER BY term`, projectID, below)
	if err != nil {
		return nil, err
	}
	var terms []uint32
	for rows.Next() {
		var t uint32
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return nil, err
		}
		terms = append(terms, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(terms) == 0 {
		return nil, nil
	}
	_, err = tx.exec(ctx, `UPDATE project_keys SET wrapped = ?, retired_at = ? WHERE project_id = ? AND term < ? AND retired_at IS NULL`,
		[]byte{}, ms(now), projectID, below)
	return terms, err
}

// StaleCiphertext is a stored secret value and comment sealed with an older key term than the
// project's: a row of secrets (IsVersion: of secret_versions) with what its additional
// data is made of.
type StaleCiphertext struct {
	ID            string // the row's id
	IsVersion     bool   // a row of secret_versions, not of secrets
	SecretID      string
	EnvironmentID string
	Version       int
	Value         []byte
	Comment       []byte
}

// termPrefix is the first bytes of a ciphertext of term (keyring: a 4-byte big-endian term
// leads every ciphertext), so that "sealed with an older term" is a byte comparison the same
// in both dialects.
func termPrefix(term uint32) []byte {
	return binary.BigEndian.AppendUint32(nil, term)
}

// staleWhere is the condition "value or comment of the row alias is sealed with a term below
// the parameter" (given twice).
func staleWhere(alias string) string {
	return `(substr(` + alias + `.value, 1, 4) < ? OR substr(` + alias + `.comment, 1, 4) < ?)`
}

// StaleCiphertexts returns up to limit rows of the project (secrets, then secret_versions)
// whose value or comment is sealed with a term below term, with ids after afterID in their
// table (a cursor: pass the last id returned, "" to start; versions follow secrets).
func (c conn) StaleCiphertexts(ctx context.Context, projectID string, term uint32, versions bool, afterID string, limit int) ([]StaleCiphertext, error) {
	p := termPrefix(term)
	var q string
	if versions {
		q = `SELECT v.id, v.secret_id, s.environment_id, v.version, v.value, v.comment FROM secret_versions v JOIN secrets s ON s.id = v.secret_id
 WHERE s.project_id = ? AND v.id > ? AND ` + staleWhere("v") + ` ORDER BY v.id LIMIT ?`
	} else {
		q = `SELECT s.id, s.id, s.environment_id, s.version, s.value, s.comment FROM secrets s
 WHERE s.project_id = ? AND s.id > ? AND ` + staleWhere("s") + ` ORDER BY s.id LIMIT ?`
	}
	rows, err := c.query(ctx, q, projectID, afterID, p, p, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []StaleCiphertext
	for rows.Next() {
		sc := StaleCiphertext{IsVersion: versions}
		if err := rows.Scan(&sc.ID, &sc.SecretID, &sc.EnvironmentID, &sc.Version, &sc.Value, &sc.Comment); err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	return out, rows.Err()
}

// CountStaleCiphertexts counts the project's rows (secrets and secret_versions) with a value or
// comment sealed with a term below term.
func (c conn) CountStaleCiphertexts(ctx context.Context, projectID string, term uint32) (int, error) {
	p := termPrefix(term)
	var n int
	err := c.queryRow(ctx, `SELECT
 (SELECT count(*) FROM secrets s WHERE s.project_id = ? AND `+staleWhere("s")+`) +
 (SELECT count(*) FROM secret_versions v JOIN secrets s ON s.id = v.secret_id WHERE s.project_id = ? AND `+staleWhere("v")+`)`,
		projectID, p, p, projectID, p, p).Scan(&n)
	return n, err
}

// ResealCiphertext replaces a stale row's value and comment, only if they are still the ones
// read (old): a write since then sealed them with the current term already. It reports whether
// the row was replaced.
func (c conn) ResealCiphertext(ctx context.Context, old StaleCiphertext, value, comment []byte) (bool, error) {
	table := "secrets"
	if old.IsVersion {
		table = "secret_versions"
	}
	res, err := c.exec(ctx, `UPDATE `+table+` SET value = ?, comment = ? WHERE id = ? AND value = ? AND comment = ?`,
		value, comment, old.ID, old.Value, old.Comment)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
