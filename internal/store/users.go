package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/cofferhq/coffer"
)

// SetUserPassword replaces a user's password hash.
func (c conn) SetUserPassword(ctx context.Context, userID, hash string, now time.Time) error {
	res, err := c.exec(ctx, `UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?`, hash, ms(now), userID)
	return expectRow(res, err, "user")
}

// OrgEnforcesMFA reports whether an organization requires its members to sign in with a second
// factor.
func (c conn) OrgEnforcesMFA(ctx context.Context, orgID string) (bool, error) {
	var v bool
	err := c.queryRow(ctx, `SELECT enforce_mfa FROM organizations WHERE id = ?`, orgID).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return false, notFound("organization")
	}
	return v, err
}

// SetOrgEnforceMFA sets an organization's enforceMfa setting.
func (c conn) SetOrgEnforceMFA(ctx context.Context, orgID string, on bool, now time.Time) error {
	res, err := c.exec(ctx, `UPDATE organizations SET enforce_mfa = ?, updated_at = ? WHERE id = ?`, on, ms(now), orgID)
	return expectRow(res, err, "organization")
}

// ListUserTokens returns the unrevoked token records of a user, newest first. The caller
// drops the expired ones.
func (c conn) ListUserTokens(ctx context.Context, userID string) ([]*coffer.AccessToken, error) {
	rows, err := c.query(ctx, `SELECT id, actor_kind, actor_id, org_id, auth_method, ttl, max_ttl, created_at, renewed_at, ip, user_agent
 FROM access_tokens WHERE actor_kind = 'user' AND actor_id = ? AND revoked = FALSE ORDER BY created_at DESC, id DESC`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*coffer.AccessToken
	for rows.Next() {
		var t coffer.AccessToken
		var created, renewed int64
		if err := rows.Scan(&t.ID, &t.ActorKind, &t.ActorID, &t.OrgID, &t.AuthMethod, &t.TTL, &t.MaxTTL, &created, &renewed, &t.IP, &t.UserAgent); err != nil {
			return nil, err
		}
		t.CreatedAt, t.RenewedAt = fromMS(created), fromMS(renewed)
		out = append(out, &t)
	}
	return out, rows.Err()
}

// RevokeActorTokens revokes every unrevoked token of an actor, of one organization when orgID
// is not empty, except the token exceptID (may be empty). It returns the ids it revoked.
func (c conn) RevokeActorTokens(ctx context.Context, kind coffer.ActorKind, actorID, orgID, exceptID string) ([]string, error) {
	q := `SELECT id FROM access_tokens WHERE actor_kind = ? AND actor_id = ? AND revoked = FALSE AND id <> ?`
	args := []any{kind, actorID, exceptID}
	if orgID != "" {
		q += ` AND org_id = ?`
		args = append(args, orgID)
	}
	rows, err := c.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, id := range ids {
		if _, err := c.exec(ctx, `UPDATE access_tokens SET revoked = TRUE WHERE id = ?`, id); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// TOTP is a user's TOTP enrollment; Secret is sealed by internal/keyring.
type TOTP struct {
	UserID    string
	Secret    []byte
	Confirmed bool
	LastStep  int64
}

// PutTOTP stores an unconfirmed TOTP enrollment, replacing an unconfirmed one. It returns
// ECONFLICT when a confirmed one exists.
func (c conn) PutTOTP(ctx context.Context, userID string, sealed []byte, now time.Time) error {
	if _, err := c.exec(ctx, `DELETE FROM user_totp WHERE user_id = ? AND confirmed = FALSE`, userID); err != nil {
		return err
	}
	_, err := c.exec(ctx, `INSERT INTO user_totp (user_id, secret, created_at, updated_at) VALUES (?, ?, ?, ?)`, userID, sealed, ms(now), ms(now))
	if IsConflict(err) {
		return coffer.Errorf(coffer.ECONFLICT, "two-factor authentication is already enabled")
	}
	return err
}

// FindTOTP returns a user's TOTP enrollment (ENOTFOUND when none).
func (c conn) FindTOTP(ctx context.Context, userID string) (*TOTP, error) {
	t := TOTP{UserID: userID}
	err := c.queryRow(ctx, `SELECT secret, confirmed, last_step FROM user_totp WHERE user_id = ?`, userID).Scan(&t.Secret, &t.Confirmed, &t.LastStep)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("two-factor enrollment")
	} else if err != nil {
		return nil, err
	}
	return &t, nil
}

// UseTOTPStep records that a code of time step step was accepted, and confirms the
// enrollment. It reports false, changing nothing, when a code of that step or a later one was
// accepted before (a replay).
func (c conn) UseTOTPStep(ctx context.Context, userID string, step int64, now time.Time) (bool, error) {
	res, err := c.exec(ctx, `UPDATE user_totp SET last_step = ?, confirmed = TRUE, updated_at = ? WHERE user_id = ? AND last_step < ?`,
		step, ms(now), userID, step)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// DeleteTOTP removes a user's TOTP enrollment and recovery codes.
func (c conn) DeleteTOTP(ctx context.Context, userID string) error {
	if _, err := c.exec(ctx, `DELETE FROM user_recovery_codes WHERE user_id = ?`, userID); err != nil {
		return err
	}
	_, err := c.exec(ctx, `DELETE FROM user_totp WHERE user_id = ?`, userID)
	return err
}

// ReplaceRecoveryCodes replaces a user's recovery codes by the given hashes.
func (c conn) ReplaceRecoveryCodes(ctx context.Context, userID string, hashes [][]byte, now time.Time) error {
	if _, err := c.exec(ctx, `DELETE FROM user_recovery_codes WHERE user_id = ?`, userID); err != nil {
		return err
	}
	for _, h := range hashes {
		if _, err := c.exec(ctx, `INSERT INTO user_recovery_codes (id, user_id, hash, created_at) VALUES (?, ?, ?, ?)`, NewID(), userID, h, ms(now)); err != nil {
			return err
		}
	}
	return nil
}

// UseRecoveryCode spends the unused recovery code with this hash. It reports false when there
// is none.
func (c conn) UseRecoveryCode(ctx context.Context, userID string, hash []byte, now time.Time) (bool, error) {
	res, err := c.exec(ctx, `UPDATE user_recovery_codes SET used_at = ? WHERE user_id = ? AND hash = ? AND used_at = 0`, ms(now), userID, hash)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n >= 1, err
}

// CountRecoveryCodes returns how many unused recovery codes a user has.
func (c conn) CountRecoveryCodes(ctx context.Context, userID string) (int, error) {
	var n int
	err := c.queryRow(ctx, `SELECT COUNT(*) FROM user_recovery_codes WHERE user_id = ? AND used_at = 0`, userID).Scan(&n)
	return n, err
}

// CreateUserToken stores the hash of a one-time token of a kind (e.g. "password-reset").
func (c conn) CreateUserToken(ctx context.Context, hash []byte, kind, userID string, expires, now time.Time) error {
	_, err := c.exec(ctx, `INSERT INTO user_tokens (hash, kind, user_id, expires_at, created_at) VALUES (?, ?, ?, ?, ?)`,
		hash, kind, userID, ms(expires), ms(now))
	return err
}

// UseUserToken spends a one-time token: it returns the user id when the token exists, is of
// kind, is unused and unexpired at now; ENOTFOUND otherwise.
func (c conn) UseUserToken(ctx context.Context, hash []byte, kind string, now time.Time) (string, error) {
	res, err := c.exec(ctx, `UPDATE user_tokens SET used_at = ? WHERE hash = ? AND kind = ? AND used_at = 0 AND expires_at > ?`,
		ms(now), hash, kind, ms(now))
	if err := expectRow(res, err, "token"); err != nil {
		return "", err
	}
	var userID string
	err = c.queryRow(ctx, `SELECT user_id FROM user_tokens WHERE hash = ?`, hash).Scan(&userID)
	return userID, err
}

// AddUserDevice records a device a user signed in from. It reports whether the device is new.
func (c conn) AddUserDevice(ctx context.Context, userID, device string, now time.Time) (bool, error) {
	res, err := c.exec(ctx, `INSERT INTO user_devices (user_id, device, created_at) VALUES (?, ?, ?) ON CONFLICT (user_id, device) DO NOTHING`,
		userID, device, ms(now))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// CountUserDevices returns how many devices a user has signed in from.
func (c conn) CountUserDevices(ctx context.Context, userID string) (int, error) {
	var n int
	err := c.queryRow(ctx, `SELECT COUNT(*) FROM user_devices WHERE user_id = ?`, userID).Scan(&n)
	return n, err
}

// AllTOTP returns every TOTP enrollment (for re-sealing under a new root key).
func (c conn) AllTOTP(ctx context.Context) ([]*TOTP, error) {
	rows, err := c.query(ctx, `SELECT user_id, secret, confirmed, last_step FROM user_totp ORDER BY user_id`+c.forUpdate())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*TOTP
	for rows.Next() {
		var t TOTP
		if err := rows.Scan(&t.UserID, &t.Secret, &t.Confirmed, &t.LastStep); err != nil {
			return nil, err
		}
		out = append(out, &t)
	}
	return out, rows.Err()
}

// SetTOTPSecret replaces the sealed secret of a user's TOTP enrollment.
func (c conn) SetTOTPSecret(ctx context.Context, userID string, sealed []byte) error {
	res, err := c.exec(ctx, `UPDATE user_totp SET secret = ? WHERE user_id = ?`, sealed, userID)
	return expectRow(res, err, "two-factor enrollment")
}
