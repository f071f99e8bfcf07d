package identity

import (
	"context"
	"strings"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/store"
)

// validOrgRole reports whether role may be given to an identity in an organization.
func validOrgRole(role string) bool {
	return role == coffer.RoleAdmin || role == coffer.RoleMember || role == coffer.RoleNoAccess
}

// CreateIdentity creates a machine identity in an organization with an organization role.
// Only organization admins may.
func (s *Service) CreateIdentity(ctx context.Context, orgID, name, role string) (*coffer.Identity, error) {
	if orgID == "" {
		return nil, coffer.Errorf(coffer.EVALIDATION, "organizationId: required")
	}
	if err := coffer.ValidateName("name", name); err != nil {
		return nil, err
	}
	if role == "" {
		role = coffer.RoleNoAccess
	}
	if !validOrgRole(role) {
		return nil, coffer.Errorf(coffer.EVALIDATION, "role: must be one of admin, member, no-access")
	}
	if _, err := s.authz.RequireOrgAdmin(ctx, orgID); err != nil {
		return nil, err
	}
	now := s.now()
	ident := &coffer.Identity{ID: store.NewID(), OrgID: orgID, Name: strings.TrimSpace(name), OrgRole: role, AuthMethods: []string{}, CreatedAt: now, UpdatedAt: now}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := s.createIdentity(ctx, tx, ident); err != nil {
			return err
		}
		return s.record(ctx, tx, coffer.ActionIdentityCreate, ident, map[string]any{"name": ident.Name, "role": ident.OrgRole})
	})
	return ident, err
}

func (s *Service) createIdentity(ctx context.Context, tx *store.Tx, ident *coffer.Identity) error {
	if err := tx.CreateIdentity(ctx, ident); err != nil {
		return err
	}
	return tx.PutMembership(ctx, store.ScopeOrg, &coffer.Membership{ScopeID: ident.OrgID, ActorKind: coffer.ActorIdentity, ActorID: ident.ID, Role: ident.OrgRole}, ident.CreatedAt)
}

// orgIdentity returns an identity of the actor's organization, if the actor is an org admin.
func (s *Service) orgIdentity(ctx context.Context, identityID string) (*coffer.Identity, error) {
	if coffer.ActorFromContext(ctx) == nil { // an anonymous request is 401, not "not found"
		return nil, coffer.Errorf(coffer.EUNAUTHORIZED, "authentication required")
	}
	ident, err := s.db.FindIdentity(ctx, identityID)
	if coffer.ErrorCode(err) == coffer.ENOTFOUND {
		return nil, coffer.Errorf(coffer.ENOTFOUND, "identity %s not found", identityID)
	} else if err != nil {
		return nil, err
	}
	if a := coffer.ActorFromContext(ctx); a == nil || a.OrgID != ident.OrgID {
		return nil, coffer.Errorf(coffer.ENOTFOUND, "identity %s not found", identityID)
	}
	if _, err := s.authz.RequireOrgAdmin(ctx, ident.OrgID); err != nil {
		return nil, err
	}
	return ident, nil
}

// GetIdentity returns an identity of the actor's organization.
func (s *Service) GetIdentity(ctx context.Context, identityID string) (*coffer.Identity, error) {
	return s.orgIdentity(ctx, identityID)
}

// ListIdentities returns the identities of the actor's organization.
func (s *Service) ListIdentities(ctx context.Context, orgID string) ([]*coffer.Identity, error) {
	if _, err := s.authz.RequireOrgAdmin(ctx, orgID); err != nil {
		return nil, err
	}
	return s.db.ListIdentities(ctx, orgID)
}

// DeleteIdentity deletes an identity, its credentials and its tokens.
func (s *Service) DeleteIdentity(ctx context.Context, identityID string) (*coffer.Identity, error) {
	ident, err := s.orgIdentity(ctx, identityID)
	if err != nil {
		return nil, err
	}
	return ident, s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteIdentity(ctx, ident.ID); err != nil {
			return err
		}
		return s.record(ctx, tx, coffer.ActionIdentityDelete, ident, map[string]any{"name": ident.Name})
	})
}

// UniversalAuthInput configures universal auth. Nil fields keep their current value (or the
// default on attach).
type UniversalAuthInput struct {
	AccessTokenTTL          *int
	AccessTokenMaxTTL       *int
	AccessTokenNumUsesLimit *int
	ClientSecretTrustedIPs  *[]string
	AccessTokenTrustedIPs   *[]string
	// TrustedVPCEndpointIDs limits login and tokens to these AWS VPC endpoints; empty: any.
	TrustedVPCEndpointIDs *[]string
}

func (in UniversalAuthInput) apply(ua *coffer.UniversalAuth) error {
	for _, f := range []struct {
		name string
		v    *int
		dst  *int
		max  int
	}{
		{"accessTokenTTL", in.AccessTokenTTL, &ua.AccessTokenTTL, MaxTTLSeconds},
		{"accessTokenMaxTTL", in.AccessTokenMaxTTL, &ua.AccessTokenMaxTTL, MaxTTLSeconds},
		{"accessTokenNumUsesLimit", in.AccessTokenNumUsesLimit, &ua.AccessTokenNumUsesLimit, 1 << 30},
	} {
		if f.v == nil {
			continue
		}
		if *f.v < 0 || *f.v > f.max {
			return coffer.Errorf(coffer.EVALIDATION, "%s: must be between 0 and %d", f.name, f.max)
		}
		*f.dst = *f.v
	}
	if ua.AccessTokenMaxTTL > 0 && ua.AccessTokenTTL > ua.AccessTokenMaxTTL {
		return coffer.Errorf(coffer.EVALIDATION, "accessTokenTTL: must not exceed accessTokenMaxTTL")
	}
	var err error
	if in.ClientSecretTrustedIPs != nil {
		if ua.ClientSecretTrustedIPs, err = ParseTrustedIPs("clientSecretTrustedIps", *in.ClientSecretTrustedIPs); err != nil {
			return err
		}
	}
	if in.AccessTokenTrustedIPs != nil {
		if ua.AccessTokenTrustedIPs, err = ParseTrustedIPs("accessTokenTrustedIps", *in.AccessTokenTrustedIPs); err != nil {
			return err
		}
	}
	if in.TrustedVPCEndpointIDs != nil {
		if ua.TrustedVPCEndpointIDs, err = ParseVPCEndpointIDs("trustedVpcEndpointIds", *in.TrustedVPCEndpointIDs); err != nil {
			return err
		}
	}
	return nil
}

// AttachUniversalAuth gives an identity a universal-auth configuration with a new client id.
func (s *Service) AttachUniversalAuth(ctx context.Context, identityID string, in UniversalAuthInput) (*coffer.UniversalAuth, error) {
	ident, err := s.orgIdentity(ctx, identityID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	ua := &coffer.UniversalAuth{
		ID: store.NewID(), IdentityID: ident.ID, ClientID: store.NewID(),
		AccessTokenTTL: DefaultAccessTokenTTL, AccessTokenMaxTTL: DefaultAccessTokenTTL,
		ClientSecretTrustedIPs: DefaultTrustedIPs, AccessTokenTrustedIPs: DefaultTrustedIPs,
		CreatedAt: now, UpdatedAt: now,
	}
	if err := in.apply(ua); err != nil {
		return nil, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.FindUniversalAuth(ctx, ident.ID); err == nil {
			return coffer.Errorf(coffer.ECONFLICT, "identity %s already has universal auth", ident.ID)
		}
		if err := tx.PutUniversalAuth(ctx, ua); err != nil {
			return err
		}
		return s.record(ctx, tx, coffer.ActionUniversalAuthAttach, ident, map[string]any{"clientId": ua.ClientID})
	})
	return ua, err
}

// GetUniversalAuth returns an identity's universal-auth configuration.
func (s *Service) GetUniversalAuth(ctx context.Context, identityID string) (*coffer.UniversalAuth, error) {
	ident, err := s.orgIdentity(ctx, identityID)
	if err != nil {
		return nil, err
	}
	return s.db.FindUniversalAuth(ctx, ident.ID)
}

// UpdateUniversalAuth changes an identity's universal-auth configuration.
func (s *Service) UpdateUniversalAuth(ctx context.Context, identityID string, in UniversalAuthInput) (*coffer.UniversalAuth, error) {
	ident, err := s.orgIdentity(ctx, identityID)
	if err != nil {
		return nil, err
	}
	var ua *coffer.UniversalAuth
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if ua, err = tx.FindUniversalAuth(ctx, ident.ID); err != nil {
			return err
		}
		if err := in.apply(ua); err != nil {
			return err
		}
		ua.UpdatedAt = s.now()
		if err := tx.PutUniversalAuth(ctx, ua); err != nil {
			return err
		}
		return s.record(ctx, tx, coffer.ActionUniversalAuthUpdate, ident, map[string]any{"clientId": ua.ClientID,
			"accessTokenTTL": ua.AccessTokenTTL, "accessTokenMaxTTL": ua.AccessTokenMaxTTL, "accessTokenNumUsesLimit": ua.AccessTokenNumUsesLimit})
	})
	return ua, err
}

// CreateClientSecret makes a new client secret for an identity with universal auth. The
// secret is returned only here; the store keeps its hash.
func (s *Service) CreateClientSecret(ctx context.Context, identityID, description string, numUsesLimit, ttl int) (string, *coffer.ClientSecret, error) {
	if numUsesLimit < 0 {
		return "", nil, coffer.Errorf(coffer.EVALIDATION, "numUsesLimit: must not be negative")
	}
	if ttl < 0 || ttl > MaxTTLSeconds {
		return "", nil, coffer.Errorf(coffer.EVALIDATION, "ttl: must be between 0 and %d", MaxTTLSeconds)
	}
	if len(description) > 1024 {
		return "", nil, coffer.Errorf(coffer.EVALIDATION, "description: must be at most 1024 characters")
	}
	ident, err := s.orgIdentity(ctx, identityID)
	if err != nil {
		return "", nil, err
	}
	if _, err := s.db.FindUniversalAuth(ctx, ident.ID); err != nil {
		if coffer.ErrorCode(err) == coffer.ENOTFOUND {
			return "", nil, coffer.Errorf(coffer.EINVALID, "identity %s has no universal auth; attach it first", ident.ID)
		}
		return "", nil, err
	}
	secret := randomHex(32)
	now := s.now()
	cs := &coffer.ClientSecret{ID: store.NewID(), IdentityID: ident.ID, Description: description, Prefix: secret[:4],
		Hash: hashSecret(secret), TTL: ttl, NumUsesLimit: numUsesLimit, CreatedAt: now, UpdatedAt: now}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateClientSecret(ctx, cs); err != nil {
			return err
		}
		return s.record(ctx, tx, coffer.ActionClientSecretCreate, ident,
			map[string]any{"clientSecretId": cs.ID, "prefix": cs.Prefix, "ttl": ttl, "numUsesLimit": numUsesLimit})
	})
	if err != nil {
		return "", nil, err
	}
	return secret, cs, nil
}

// ListClientSecrets returns the active client secrets of an identity (never the secrets).
func (s *Service) ListClientSecrets(ctx context.Context, identityID string) ([]*coffer.ClientSecret, error) {
	ident, err := s.orgIdentity(ctx, identityID)
	if err != nil {
		return nil, err
	}
	return s.db.ListClientSecrets(ctx, ident.ID, false)
}

// RevokeClientSecret revokes one client secret of an identity.
func (s *Service) RevokeClientSecret(ctx context.Context, identityID, secretID string) (*coffer.ClientSecret, error) {
	ident, err := s.orgIdentity(ctx, identityID)
	if err != nil {
		return nil, err
	}
	var cs *coffer.ClientSecret
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.RevokeClientSecret(ctx, ident.ID, secretID, s.now()); err != nil {
			return err
		}
		if cs, err = tx.FindClientSecret(ctx, ident.ID, secretID); err != nil {
			return err
		}
		return s.record(ctx, tx, coffer.ActionClientSecretRevoke, ident, map[string]any{"clientSecretId": cs.ID, "prefix": cs.Prefix})
	})
	return cs, err
}

// IssueTokenAuth gives a token that does not expire to an identity (used by bootstrap) inside
// the caller's transaction.
func (s *Service) IssueTokenAuth(ctx context.Context, tx *store.Tx, ident *coffer.Identity) (*Issued, error) {
	return s.issue(ctx, tx, &coffer.AccessToken{ActorKind: coffer.ActorIdentity, ActorID: ident.ID, OrgID: ident.OrgID, AuthMethod: coffer.AuthToken})
}

// CreateIdentityTx creates an identity with its organization membership inside the caller's
// transaction, without an authorization check (bootstrap).
func (s *Service) CreateIdentityTx(ctx context.Context, tx *store.Tx, ident *coffer.Identity) error {
	return s.createIdentity(ctx, tx, ident)
}
