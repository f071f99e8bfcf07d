package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/cofferhq/coffer"
)

// CreateAccessToken inserts the record of an issued token.
func (c conn) CreateAccessToken(ctx context.Context, t *coffer.AccessToken) error {
	_, err := c.exec(ctx, `INSERT INTO access_tokens (id, actor_kind, actor_id, org_id, auth_method, client_secret_id, ttl, max_ttl,
 num_uses_limit, num_uses, revoked, created_at, renewed_at, ip, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.ActorKind, t.ActorID, t.OrgID, t.AuthMethod, t.ClientSecretID, t.TTL, t.MaxTTL, t.NumUsesLimit, t.NumUses, t.Revoked,
		ms(t.CreatedAt), ms(t.RenewedAt), t.IP, t.UserAgent)
	return err
}

// FindAccessToken returns a token record with its identity's access-token trusted IPs.
func (c conn) FindAccessToken(ctx context.Context, id string) (*coffer.AccessToken, error) {
	t, _, err := c.findAccessToken(ctx, id)
	return t, err
}

// FindAccessTokenRevision is FindAccessToken read from the newest committed data (the primary),
// with the revision of the token's organization read in the same query: what internal/cache
// needs to know when the record it keeps may have changed.
func (db *DB) FindAccessTokenRevision(ctx context.Context, id string) (*coffer.AccessToken, int64, error) {
	return db.latest().findAccessToken(ctx, id)
}

func (c conn) findAccessToken(ctx context.Context, id string) (*coffer.AccessToken, int64, error) {
	var t coffer.AccessToken
	var ips, vpces sql.NullString
	var created, renewed, orgRev int64
	err := c.queryRow(ctx, `SELECT t.id, t.actor_kind, t.actor_id, t.org_id, t.auth_method, t.client_secret_id, t.ttl, t.max_ttl,
 t.num_uses_limit, t.num_uses, t.revoked, t.created_at, t.renewed_at, ua.access_token_trusted_ips, ua.trusted_vpc_endpoint_ids,
 (SELECT o.revision FROM organizations o WHERE o.id = t.org_id)
 FROM access_tokens t LEFT JOIN identity_universal_auths ua ON t.actor_kind = 'identity' AND ua.identity_id = t.actor_id
 WHERE t.id = ?`, id).Scan(&t.ID, &t.ActorKind, &t.ActorID, &t.OrgID, &t.AuthMethod, &t.ClientSecretID, &t.TTL, &t.MaxTTL,
		&t.NumUsesLimit, &t.NumUses, &t.Revoked, &created, &renewed, &ips, &vpces, &orgRev)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, notFound("access token")
	} else if err != nil {
		return nil, 0, err
	}
	if ips.Valid && t.AuthMethod == coffer.AuthUniversal {
		if err := json.Unmarshal([]byte(ips.String), &t.TrustedIPs); err != nil {
			return nil, 0, err
		}
	}
	if vpces.Valid && t.AuthMethod == coffer.AuthUniversal {
		if t.TrustedVPCEndpointIDs, err = parseVPCEJSON(vpces.String); err != nil {
			return nil, 0, err
		}
	}
	t.CreatedAt, t.RenewedAt = fromMS(created), fromMS(renewed)
	return &t, orgRev, nil
}

// RenewAccessToken restarts a token's TTL at now.
func (c conn) RenewAccessToken(ctx context.Context, id string, now time.Time) error {
	res, err := c.exec(ctx, `UPDATE access_tokens SET renewed_at = ? WHERE id = ? AND revoked = FALSE`, ms(now), id)
	return expectRow(res, err, "access token")
}

// RevokeAccessToken marks a token revoked.
func (c conn) RevokeAccessToken(ctx context.Context, id string) error {
	res, err := c.exec(ctx, `UPDATE access_tokens SET revoked = TRUE WHERE id = ?`, id)
	return expectRow(res, err, "access token")
}

// UseAccessToken counts one use of a token with a use limit. It reports false, changing
// nothing, when the limit is reached.
func (c conn) UseAccessToken(ctx context.Context, id string) (bool, error) {
	res, err := c.exec(ctx, `UPDATE access_tokens SET num_uses = num_uses + 1
 WHERE id = ? AND revoked = FALSE AND (num_uses_limit = 0 OR num_uses < num_uses_limit)`, id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
