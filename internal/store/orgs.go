package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/cofferhq/coffer"
)

// CountUsers returns how many users exist.
func (c conn) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := c.queryRow(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	return n, err
}

// CreateUser inserts a user. ID and times are set by the caller.
func (c conn) CreateUser(ctx context.Context, u *coffer.User) error {
	_, err := c.exec(ctx, `INSERT INTO users (id, email, name, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
		u.ID, u.Email, u.Name, u.PasswordHash, ms(u.CreatedAt), ms(u.UpdatedAt))
	return err
}

// FindUserByEmail returns the user with the given (lowercased) e-mail address.
func (c conn) FindUserByEmail(ctx context.Context, email string) (*coffer.User, error) {
	return c.findUser(ctx, `email = ?`, email)
}

// FindUserByID returns a user.
func (c conn) FindUserByID(ctx context.Context, id string) (*coffer.User, error) {
	return c.findUser(ctx, `id = ?`, id)
}

func (c conn) findUser(ctx context.Context, where string, arg any) (*coffer.User, error) {
	var u coffer.User
	var created, updated int64
	err := c.queryRow(ctx, `SELECT id, email, name, password_hash, created_at, updated_at FROM users WHERE `+where, arg).
		Scan(&u.ID, &u.Email, &u.Name, &u.PasswordHash, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("user")
	} else if err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt = fromMS(created), fromMS(updated)
	return &u, nil
}

// CreateOrganization inserts an organization.
func (c conn) CreateOrganization(ctx context.Context, o *coffer.Organization) error {
	_, err := c.exec(ctx, `INSERT INTO organizations (id, name, slug, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
		o.ID, o.Name, o.Slug, ms(o.CreatedAt), ms(o.UpdatedAt))
	return err
}

// FindOrganization returns an organization by id.
func (c conn) FindOrganization(ctx context.Context, id string) (*coffer.Organization, error) {
	var o coffer.Organization
	var created, updated int64
	err := c.replica().queryRow(ctx, `SELECT id, name, slug, created_at, updated_at FROM organizations WHERE id = ?`, id).
		Scan(&o.ID, &o.Name, &o.Slug, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("organization")
	} else if err != nil {
		return nil, err
	}
	o.CreatedAt, o.UpdatedAt = fromMS(created), fromMS(updated)
	return &o, nil
}

// Membership scopes.
const (
	ScopeOrg     = "org_memberships"
	ScopeProject = "project_memberships"
)

func scopeColumn(scope string) string {
	if scope == ScopeOrg {
		return "org_id"
	}
	return "project_id"
}

// PutMembership creates the membership of an actor in a scope (ScopeOrg or ScopeProject), or
// changes its role when it exists. It fills m.ID and the times.
func (c conn) PutMembership(ctx context.Context, scope string, m *coffer.Membership, now time.Time) error {
	col := scopeColumn(scope)
	res, err := c.exec(ctx, `UPDATE `+scope+` SET role = ?, updated_at = ? WHERE `+col+` = ? AND actor_kind = ? AND actor_id = ?`,
		m.Role, ms(now), m.ScopeID, m.ActorKind, m.ActorID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n > 0 {
		found, err := c.FindMembership(ctx, scope, m.ScopeID, m.ActorKind, m.ActorID)
		if err == nil {
			*m = *found
		}
		return err
	}
	m.ID, m.CreatedAt, m.UpdatedAt = NewID(), now, now
	_, err = c.exec(ctx, `INSERT INTO `+scope+` (id, `+col+`, actor_kind, actor_id, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		m.ID, m.ScopeID, m.ActorKind, m.ActorID, m.Role, ms(now), ms(now))
	return err
}

// FindMembership returns an actor's membership in a scope.
func (c conn) FindMembership(ctx context.Context, scope, scopeID string, kind coffer.ActorKind, actorID string) (*coffer.Membership, error) {
	var m coffer.Membership
	var created, updated int64
	err := c.replica().queryRow(ctx, `SELECT id, `+scopeColumn(scope)+`, actor_kind, actor_id, role, created_at, updated_at FROM `+scope+
		` WHERE `+scopeColumn(scope)+` = ? AND actor_kind = ? AND actor_id = ?`, scopeID, kind, actorID).
		Scan(&m.ID, &m.ScopeID, &m.ActorKind, &m.ActorID, &m.Role, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("membership")
	} else if err != nil {
		return nil, err
	}
	m.CreatedAt, m.UpdatedAt = fromMS(created), fromMS(updated)
	return &m, nil
}

// ListMemberships returns the memberships of a scope, oldest first.
func (c conn) ListMemberships(ctx context.Context, scope, scopeID string) ([]*coffer.Membership, error) {
	rows, err := c.replica().query(ctx, `SELECT id, `+scopeColumn(scope)+`, actor_kind, actor_id, role, created_at, updated_at FROM `+scope+
		` WHERE `+scopeColumn(scope)+` = ? ORDER BY created_at, id`, scopeID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*coffer.Membership
	for rows.Next() {
		var m coffer.Membership
		var created, updated int64
		if err := rows.Scan(&m.ID, &m.ScopeID, &m.ActorKind, &m.ActorID, &m.Role, &created, &updated); err != nil {
			return nil, err
		}
		m.CreatedAt, m.UpdatedAt = fromMS(created), fromMS(updated)
		out = append(out, &m)
	}
	return out, rows.Err()
}

// DeleteMembership removes an actor's membership of a scope.
func (c conn) DeleteMembership(ctx context.Context, scope, scopeID string, kind coffer.ActorKind, actorID string) error {
	res, err := c.exec(ctx, `DELETE FROM `+scope+` WHERE `+scopeColumn(scope)+` = ? AND actor_kind = ? AND actor_id = ?`, scopeID, kind, actorID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("membership")
	}
	return nil
}

// FirstOrgOf returns the id of the oldest organization membership of an actor.
func (c conn) FirstOrgOf(ctx context.Context, kind coffer.ActorKind, actorID string) (string, error) {
	var id string
	err := c.queryRow(ctx, `SELECT org_id FROM org_memberships WHERE actor_kind = ? AND actor_id = ? ORDER BY created_at, id LIMIT 1`, kind, actorID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", notFound("organization membership")
	}
	return id, err
}
