package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/cofferhq/coffer"
)

// CreateIdentity inserts a machine identity. Its organization role is a membership.
func (c conn) CreateIdentity(ctx context.Context, i *coffer.Identity) error {
	_, err := c.exec(ctx, `INSERT INTO identities (id, org_id, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
		i.ID, i.OrgID, i.Name, ms(i.CreatedAt), ms(i.UpdatedAt))
	return err
}

const identitySelect = `SELECT i.id, i.org_id, i.name, COALESCE(m.role, ''), (SELECT COUNT(*) FROM identity_universal_auths ua WHERE ua.identity_id = i.id),
 i.created_at, i.updated_at FROM identities i
 LEFT JOIN org_memberships m ON m.org_id = i.org_id AND m.actor_kind = 'identity' AND m.actor_id = i.id `

func scanIdentity(sc interface{ Scan(...any) error }) (*coffer.Identity, error) {
	var i coffer.Identity
	var ua int
	var created, updated int64
	if err := sc.Scan(&i.ID, &i.OrgID, &i.Name, &i.OrgRole, &ua, &created, &updated); err != nil {
		return nil, err
	}
	i.AuthMethods = []string{}
	if ua > 0 {
		i.AuthMethods = append(i.AuthMethods, coffer.AuthUniversal)
	}
	i.CreatedAt, i.UpdatedAt = fromMS(created), fromMS(updated)
	return &i, nil
}

// FindIdentity returns an identity with its organization role and auth methods.
func (c conn) FindIdentity(ctx context.Context, id string) (*coffer.Identity, error) {
	i, err := scanIdentity(c.queryRow(ctx, identitySelect+`WHERE i.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("identity")
	}
	return i, err
}

// ListIdentities returns the identities of an organization by name.
func (c conn) ListIdentities(ctx context.Context, orgID string) ([]*coffer.Identity, error) {
	rows, err := c.query(ctx, identitySelect+`WHERE i.org_id = ? ORDER BY i.name, i.id`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*coffer.Identity
	for rows.Next() {
		i, err := scanIdentity(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, i)
	}
	return out, rows.Err()
}

// DeleteIdentity deletes an identity with its credentials, tokens and memberships.
func (c conn) DeleteIdentity(ctx context.Context, id string) error {
	for _, q := range []string{
		`DELETE FROM access_tokens WHERE actor_kind = 'identity' AND actor_id = ?`,
		`DELETE FROM project_memberships WHERE actor_kind = 'identity' AND actor_id = ?`,
		`DELETE FROM org_memberships WHERE actor_kind = 'identity' AND actor_id = ?`,
	} {
		if _, err := c.exec(ctx, q, id); err != nil {
			return err
		}
	}
	res, err := c.exec(ctx, `DELETE FROM identities WHERE id = ?`, id)
	return expectRow(res, err, "identity")
}

const uaColumns = `id, identity_id, client_id, access_token_ttl, access_token_max_ttl, access_token_num_uses_limit,
 client_secret_trusted_ips, access_token_trusted_ips, trusted_vpc_endpoint_ids, created_at, updated_at`

// PutUniversalAuth creates or replaces an identity's universal-auth configuration.
func (c conn) PutUniversalAuth(ctx context.Context, ua *coffer.UniversalAuth) error {
	csIPs, _ := json.Marshal(ua.ClientSecretTrustedIPs)
	atIPs, _ := json.Marshal(ua.AccessTokenTrustedIPs)
	vpces := vpceJSON(ua.TrustedVPCEndpointIDs)
	res, err := c.exec(ctx, `UPDATE identity_universal_auths SET access_token_ttl = ?, access_token_max_ttl = ?, access_token_num_uses_limit = ?,
 client_secret_trusted_ips = ?, access_token_trusted_ips = ?, trusted_vpc_endpoint_ids = ?, updated_at = ? WHERE identity_id = ?`,
		ua.AccessTokenTTL, ua.AccessTokenMaxTTL, ua.AccessTokenNumUsesLimit, string(csIPs), string(atIPs), vpces, ms(ua.UpdatedAt), ua.IdentityID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return nil
	}
	_, err = c.exec(ctx, `INSERT INTO identity_universal_auths (`+uaColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ua.ID, ua.IdentityID, ua.ClientID, ua.AccessTokenTTL, ua.AccessTokenMaxTTL, ua.AccessTokenNumUsesLimit,
		string(csIPs), string(atIPs), vpces, ms(ua.CreatedAt), ms(ua.UpdatedAt))
	return err
}

// FindUniversalAuth returns an identity's universal-auth configuration.
func (c conn) FindUniversalAuth(ctx context.Context, identityID string) (*coffer.UniversalAuth, error) {
	return c.findUA(ctx, `identity_id = ?`, identityID)
}

// FindUniversalAuthByClientID returns the universal-auth configuration with a client id.
func (c conn) FindUniversalAuthByClientID(ctx context.Context, clientID string) (*coffer.UniversalAuth, error) {
	return c.findUA(ctx, `client_id = ?`, clientID)
}

func (c conn) findUA(ctx context.Context, where string, arg any) (*coffer.UniversalAuth, error) {
	var ua coffer.UniversalAuth
	var csIPs, atIPs, vpces string
	var created, updated int64
	err := c.queryRow(ctx, `SELECT `+uaColumns+` FROM identity_universal_auths WHERE `+where, arg).Scan(&ua.ID, &ua.IdentityID, &ua.ClientID,
		&ua.AccessTokenTTL, &ua.AccessTokenMaxTTL, &ua.AccessTokenNumUsesLimit, &csIPs, &atIPs, &vpces, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("universal auth")
	} else if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(csIPs), &ua.ClientSecretTrustedIPs); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(atIPs), &ua.AccessTokenTrustedIPs); err != nil {
		return nil, err
	}
	if ua.TrustedVPCEndpointIDs, err = parseVPCEJSON(vpces); err != nil {
		return nil, err
	}
	ua.CreatedAt, ua.UpdatedAt = fromMS(created), fromMS(updated)
	return &ua, nil
}

// DeleteUniversalAuth removes an identity's universal-auth configuration and client secrets.
func (c conn) DeleteUniversalAuth(ctx context.Context, identityID string) error {
	if _, err := c.exec(ctx, `DELETE FROM identity_client_secrets WHERE identity_id = ?`, identityID); err != nil {
		return err
	}
	res, err := c.exec(ctx, `DELETE FROM identity_universal_auths WHERE identity_id = ?`, identityID)
	return expectRow(res, err, "universal auth")
}

const clientSecretColumns = `id, identity_id, description, prefix, hash, ttl, num_uses_limit, num_uses, revoked, created_at, updated_at`

func scanClientSecret(sc interface{ Scan(...any) error }) (*coffer.ClientSecret, error) {
	var s coffer.ClientSecret
	var created, updated int64
	if err := sc.Scan(&s.ID, &s.IdentityID, &s.Description, &s.Prefix, &s.Hash, &s.TTL, &s.NumUsesLimit, &s.NumUses, &s.Revoked, &created, &updated); err != nil {
		return nil, err
	}
	s.CreatedAt, s.UpdatedAt = fromMS(created), fromMS(updated)
	return &s, nil
}

// CreateClientSecret inserts a client secret (its hash only).
func (c conn) CreateClientSecret(ctx context.Context, s *coffer.ClientSecret) error {
	_, err := c.exec(ctx, `INSERT INTO identity_client_secrets (`+clientSecretColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.IdentityID, s.Description, s.Prefix, s.Hash, s.TTL, s.NumUsesLimit, s.NumUses, s.Revoked, ms(s.CreatedAt), ms(s.UpdatedAt))
	return err
}

// ListClientSecrets returns an identity's client secrets, newest first; revoked ones only when
// asked.
func (c conn) ListClientSecrets(ctx context.Context, identityID string, includeRevoked bool) ([]*coffer.ClientSecret, error) {
	q := `SELECT ` + clientSecretColumns + ` FROM identity_client_secrets WHERE identity_id = ?`
	if !includeRevoked {
		q += ` AND revoked = FALSE`
	}
	rows, err := c.query(ctx, q+` ORDER BY created_at DESC, id`, identityID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*coffer.ClientSecret
	for rows.Next() {
		s, err := scanClientSecret(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// FindClientSecret returns one client secret of an identity.
func (c conn) FindClientSecret(ctx context.Context, identityID, id string) (*coffer.ClientSecret, error) {
	s, err := scanClientSecret(c.queryRow(ctx, `SELECT `+clientSecretColumns+` FROM identity_client_secrets WHERE identity_id = ? AND id = ?`, identityID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("client secret")
	}
	return s, err
}

// RevokeClientSecret marks a client secret revoked.
func (c conn) RevokeClientSecret(ctx context.Context, identityID, id string, now time.Time) error {
	res, err := c.exec(ctx, `UPDATE identity_client_secrets SET revoked = TRUE, updated_at = ? WHERE identity_id = ? AND id = ?`, ms(now), identityID, id)
	return expectRow(res, err, "client secret")
}

// UseClientSecret counts one use of a client secret. It reports false, changing nothing, when
// the secret has reached its use limit, so that concurrent logins cannot overspend it.
func (c conn) UseClientSecret(ctx context.Context, id string) (bool, error) {
	res, err := c.exec(ctx, `UPDATE identity_client_secrets SET num_uses = num_uses + 1
 WHERE id = ? AND revoked = FALSE AND (num_uses_limit = 0 OR num_uses < num_uses_limit)`, id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
