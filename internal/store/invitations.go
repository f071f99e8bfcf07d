package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/cofferhq/coffer"
)

// Invitation invites an e-mail address into an organization with a role. Only the hash of its
// token is stored.
type Invitation struct {
	ID         string
	OrgID      string
	Email      string
	Role       string
	TokenHash  []byte
	InvitedBy  string
	ExpiresAt  time.Time
	AcceptedAt time.Time // zero while pending
	CreatedAt  time.Time
}

const invitationColumns = `id, org_id, email, role, token_hash, invited_by, expires_at, accepted_at, created_at`

// CreateInvitation inserts an invitation.
func (c conn) CreateInvitation(ctx context.Context, inv *Invitation) error {
	_, err := c.exec(ctx, `INSERT INTO invitations (`+invitationColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)`,
		inv.ID, inv.OrgID, inv.Email, inv.Role, inv.TokenHash, inv.InvitedBy, ms(inv.ExpiresAt), ms(inv.CreatedAt))
	return err
}

func scanInvitation(sc interface{ Scan(...any) error }) (*Invitation, error) {
	var inv Invitation
	var exp, acc, created int64
	if err := sc.Scan(&inv.ID, &inv.OrgID, &inv.Email, &inv.Role, &inv.TokenHash, &inv.InvitedBy, &exp, &acc, &created); err != nil {
		return nil, err
	}
	inv.ExpiresAt, inv.CreatedAt = fromMS(exp), fromMS(created)
	if acc != 0 {
		inv.AcceptedAt = fromMS(acc)
	}
	return &inv, nil
}

// FindInvitationByHash returns the invitation whose token has this hash.
func (c conn) FindInvitationByHash(ctx context.Context, hash []byte) (*Invitation, error) {
	inv, err := scanInvitation(c.queryRow(ctx, `SELECT `+invitationColumns+` FROM invitations WHERE token_hash = ?`+c.forUpdate(), hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("invitation")
	}
	return inv, err
}

// ListInvitations returns the pending (unaccepted, unexpired at now) invitations of an
// organization, oldest first.
func (c conn) ListInvitations(ctx context.Context, orgID string, now time.Time) ([]*Invitation, error) {
	rows, err := c.query(ctx, `SELECT `+invitationColumns+` FROM invitations WHERE org_id = ? AND accepted_at = 0 AND expires_at > ?
 ORDER BY created_at, id`, orgID, ms(now))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Invitation
	for rows.Next() {
		inv, err := scanInvitation(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, inv)
	}
	return out, rows.Err()
}

// AcceptInvitation marks a pending invitation accepted. It reports false when it was accepted
// already (single use).
func (c conn) AcceptInvitation(ctx context.Context, id string, now time.Time) (bool, error) {
	res, err := c.exec(ctx, `UPDATE invitations SET accepted_at = ? WHERE id = ? AND accepted_at = 0`, ms(now), id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// DeleteInvitation deletes an invitation of an organization.
func (c conn) DeleteInvitation(ctx context.Context, orgID, id string) error {
	res, err := c.exec(ctx, `DELETE FROM invitations WHERE org_id = ? AND id = ?`, orgID, id)
	return expectRow(res, err, "invitation")
}

// OrgMember is a user's membership of an organization with the user's details.
type OrgMember struct {
	coffer.Membership
	Email      string
	Name       string
	MFAEnabled bool
}

// ListOrgUsers returns the user members of an organization, oldest first.
func (c conn) ListOrgUsers(ctx context.Context, orgID string) ([]*OrgMember, error) {
	rows, err := c.query(ctx, `SELECT m.id, m.org_id, m.actor_kind, m.actor_id, m.role, m.created_at, m.updated_at, u.email, u.name,
 CASE WHEN t.confirmed THEN 1 ELSE 0 END
 FROM org_memberships m JOIN users u ON u.id = m.actor_id LEFT JOIN user_totp t ON t.user_id = u.id
 WHERE m.org_id = ? AND m.actor_kind = 'user' ORDER BY m.created_at, m.id`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*OrgMember
	for rows.Next() {
		var m OrgMember
		var created, updated int64
		var mfa int
		if err := rows.Scan(&m.ID, &m.ScopeID, &m.ActorKind, &m.ActorID, &m.Role, &created, &updated, &m.Email, &m.Name, &mfa); err != nil {
			return nil, err
		}
		m.CreatedAt, m.UpdatedAt, m.MFAEnabled = fromMS(created), fromMS(updated), mfa == 1
		out = append(out, &m)
	}
	return out, rows.Err()
}

// CountOrgOwners returns how many owners an organization has.
func (c conn) CountOrgOwners(ctx context.Context, orgID string) (int, error) {
	var n int
	err := c.queryRow(ctx, `SELECT COUNT(*) FROM org_memberships WHERE org_id = ? AND role = 'owner'`, orgID).Scan(&n)
	return n, err
}

// DeleteProjectMembershipsInOrg removes an actor's memberships of every project of an
// organization.
func (c conn) DeleteProjectMembershipsInOrg(ctx context.Context, orgID string, kind coffer.ActorKind, actorID string) error {
	_, err := c.exec(ctx, `DELETE FROM project_memberships WHERE actor_kind = ? AND actor_id = ?
 AND project_id IN (SELECT id FROM projects WHERE org_id = ?)`, kind, actorID, orgID)
	return err
}
