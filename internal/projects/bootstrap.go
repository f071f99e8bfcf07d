package projects

import (
	"context"
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/identity"
	"github.com/cofferhq/coffer/internal/store"
)

// Limits of the bootstrap credentials.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 1024
	maxEmailLen    = 254
)

// BootstrapAdminName is the name of the identity Bootstrap creates.
const BootstrapAdminName = "bootstrap-admin"

// settingBootstrapped is the one-time marker Bootstrap claims.
const settingBootstrapped = "bootstrapped"

// BootstrapResult is what Bootstrap created. Token is the admin identity's access token: it is
// shown to the caller once and never logged.
type BootstrapResult struct {
	User     *coffer.User
	Org      *coffer.Organization
	Identity *coffer.Identity
	Token    *identity.Issued
}

// Bootstrap sets up a fresh instance: the first user (owner of a new organization) and an
// identity "bootstrap-admin", admin of that organization, with an access token that does not
// expire. Everything is written in one transaction that claims the "bootstrapped" setting, so
// it works once per instance however many requests race for it; later calls return EINVALID.
// Bad input returns EVALIDATION naming the field, and nothing is written.
func (s *Service) Bootstrap(ctx context.Context, email, password, orgName string) (*BootstrapResult, error) {
	email, err := normalizeEmail(email)
	if err != nil {
		return nil, err
	}
	if err := validatePassword(password); err != nil {
		return nil, err
	}
	orgName = strings.TrimSpace(orgName)
	if err := coffer.ValidateName("organization", orgName); err != nil {
		return nil, err
	}
	hash, err := identity.HashPassword(password) // slow: before the transaction, not inside it
	if err != nil {
		return nil, err
	}

	now := s.now()
	res := &BootstrapResult{
		User: &coffer.User{ID: store.NewID(), Email: email, PasswordHash: hash, CreatedAt: now, UpdatedAt: now},
		Org:  &coffer.Organization{ID: store.NewID(), Name: orgName, Slug: generateSlug(orgName), CreatedAt: now, UpdatedAt: now},
	}
	res.Identity = &coffer.Identity{ID: store.NewID(), OrgID: res.Org.ID, Name: BootstrapAdminName, OrgRole: coffer.RoleAdmin,
		AuthMethods: []string{}, CreatedAt: now, UpdatedAt: now}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		claimed, err := tx.ClaimSetting(ctx, settingBootstrapped, now.Format("2006-01-02T15:04:05.000Z"), now)
		if err != nil {
			return err
		}
		users, err := tx.CountUsers(ctx)
		if err != nil {
			return err
		}
		if !claimed || users > 0 {
			return coffer.Errorf(coffer.EINVALID, "This instance has already been set up")
		}
		if err := tx.CreateUser(ctx, res.User); err != nil {
			return err
		}
		if err := tx.CreateOrganization(ctx, res.Org); err != nil {
			return err
		}
		owner := &coffer.Membership{ScopeID: res.Org.ID, ActorKind: coffer.ActorUser, ActorID: res.User.ID, Role: coffer.RoleOwner}
		if err := tx.PutMembership(ctx, store.ScopeOrg, owner, now); err != nil {
			return err
		}
		if err := s.ids.CreateIdentityTx(ctx, tx, res.Identity); err != nil {
			return err
		}
		if res.Token, err = s.ids.IssueTokenAuth(ctx, tx, res.Identity); err != nil {
			return err
		}
		return s.Audit.Record(ctx, tx, coffer.AuditEvent{Action: coffer.ActionBootstrap, ActorType: coffer.AuditActorUser,
			ActorID: res.User.ID, ActorName: res.User.Email, OrgID: res.Org.ID,
			Metadata: map[string]any{"organizationName": res.Org.Name, "identityId": res.Identity.ID}})
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// normalizeEmail trims and lowercases an e-mail address and checks that it is a bare address.
func normalizeEmail(email string) (string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return "", coffer.Errorf(coffer.EVALIDATION, "email: required")
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || len(email) > maxEmailLen {
		return "", coffer.Errorf(coffer.EVALIDATION, "email: must be a valid e-mail address")
	}
	return email, nil
}

// validatePassword checks a password's length; the message never includes the password.
func validatePassword(password string) error {
	if !utf8.ValidString(password) {
		return coffer.Errorf(coffer.EVALIDATION, "password: must be valid UTF-8 text")
	}
	n := utf8.RuneCountInString(password)
	if n < MinPasswordLen {
		return coffer.Errorf(coffer.EVALIDATION, "password: must be at least %d characters", MinPasswordLen)
	}
	if n > MaxPasswordLen {
		return coffer.Errorf(coffer.EVALIDATION, "password: must be at most %d characters", MaxPasswordLen)
	}
	return nil
}
