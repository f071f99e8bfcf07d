// Package members manages who belongs to an organization: user memberships and their roles
// (owner, admin, member, no-access), invitations by e-mail, open sign-up, and the
// organization's sign-in policy (enforceMfa).
//
// Authorization is enforced here. Invitation tokens are random, shown only in the e-mail, and
// stored as SHA-256 hashes; they expire and work once. Removing a member revokes the member's
// tokens of the organization in the same transaction (identity.RevokeTokensTx), so the next
// request with them fails on every node.
package members

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/mail"
	"strings"
	"time"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/audit"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/identity"
	"github.com/cofferhq/coffer/internal/store"
)

// InvitationTTL is how long an invitation link works.
const InvitationTTL = 7 * 24 * time.Hour

// MailInvitation is the template of an invitation e-mail.
const MailInvitation = "invitation"

// Service manages organization members and invitations.
type Service struct {
	db    *store.DB
	authz *authz.Authorizer
	ids   *identity.Service
	now   func() time.Time
	opt   Options
	// Audit records every change, in its transaction.
	Audit *audit.Log
}

// Options configure a Service.
type Options struct {
	// OpenSignup lets anyone create an account with an organization of their own
	// (COFFER_SIGNUP=open); otherwise accounts come from invitations only.
	OpenSignup bool
	// Mail queues e-mail; nil: invitations are created and their link is returned to the
	// inviting admin instead.
	Mail identity.Mailer
	// PublicURL is the base of the links sent by e-mail.
	PublicURL string
}

// New returns a Service.
func New(db *store.DB, az *authz.Authorizer, ids *identity.Service, opt Options, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, authz: az, ids: ids, opt: opt, now: func() time.Time { return now().UTC().Truncate(time.Millisecond) }}
}

// OpenSignup reports whether anyone may sign up.
func (s *Service) OpenSignup() bool { return s.opt.OpenSignup }

func validOrgRole(role string) bool {
	switch role {
	case coffer.RoleOwner, coffer.RoleAdmin, coffer.RoleMember, coffer.RoleNoAccess:
		return true
	}
	return false
}

// Member is a user member of an organization, with the user's e-mail, name and whether the
// user has a second factor.
type Member = store.OrgMember

// requireMember returns the actor and its role in orgID; EFORBIDDEN unless it is a member with a
// role other than no-access (an owner or admin when admin is true).
func (s *Service) requireMember(ctx context.Context, orgID string, admin bool) (*coffer.Actor, string, error) {
	a := coffer.ActorFromContext(ctx)
	if a == nil {
		return nil, "", coffer.Errorf(coffer.EUNAUTHORIZED, "authentication required")
	}
	if orgID == "" {
		return nil, "", coffer.Errorf(coffer.EVALIDATION, "organizationId: required")
	}
	if orgID != a.OrgID {
		return nil, "", coffer.Errorf(coffer.EFORBIDDEN, "you are not a member of organization %s", orgID)
	}
	role, err := s.authz.OrgRole(ctx, a)
	if err != nil {
		return nil, "", err
	}
	switch {
	case role == "" || role == coffer.RoleNoAccess:
		return nil, "", coffer.Errorf(coffer.EFORBIDDEN, "you are not a member of organization %s", orgID)
	case admin && role != coffer.RoleOwner && role != coffer.RoleAdmin:
		return nil, "", coffer.Errorf(coffer.EFORBIDDEN, "only organization admins may do this")
	}
	return a, role, nil
}

// ListMembers returns the user members of an organization. Any member may.
func (s *Service) ListMembers(ctx context.Context, orgID string) ([]*Member, error) {
	if _, _, err := s.requireMember(ctx, orgID, false); err != nil {
		return nil, err
	}
	ms, err := s.db.ListOrgUsers(ctx, orgID)
	if ms == nil && err == nil {
		ms = []*Member{}
	}
	return ms, err
}

// SetRole changes a user member's role. Admins may; only owners may make or unmake owners; the
// last owner stays an owner.
func (s *Service) SetRole(ctx context.Context, orgID, userID, role string) (*coffer.Membership, error) {
	if !validOrgRole(role) {
		return nil, coffer.Errorf(coffer.EVALIDATION, "role: must be one of owner, admin, member, no-access")
	}
	_, myRole, err := s.requireMember(ctx, orgID, true)
	if err != nil {
		return nil, err
	}
	var m *coffer.Membership
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		cur, err := tx.FindMembership(ctx, store.ScopeOrg, orgID, coffer.ActorUser, userID)
		if coffer.ErrorCode(err) == coffer.ENOTFOUND {
			return coffer.Errorf(coffer.ENOTFOUND, "user %s is not a member of organization %s", userID, orgID)
		} else if err != nil {
			return err
		}
		if (role == coffer.RoleOwner || cur.Role == coffer.RoleOwner) && myRole != coffer.RoleOwner {
			return coffer.Errorf(coffer.EFORBIDDEN, "only owners may make or unmake owners")
		}
		if cur.Role == coffer.RoleOwner && role != coffer.RoleOwner {
			if err := lastOwner(ctx, tx, orgID); err != nil {
				return err
			}
		}
		m = &coffer.Membership{ScopeID: orgID, ActorKind: coffer.ActorUser, ActorID: userID, Role: role}
		if err := tx.PutMembership(ctx, store.ScopeOrg, m, s.now()); err != nil {
			return err
		}
		return s.record(ctx, tx, coffer.ActionMemberUpdate, orgID, map[string]any{"memberType": "user", "memberId": userID,
			"role": role, "previousRole": cur.Role})
	})
	return m, err
}

func lastOwner(ctx context.Context, tx *store.Tx, orgID string) error {
	n, err := tx.CountOrgOwners(ctx, orgID)
	if err != nil {
		return err
	}
	if n <= 1 {
		return coffer.Errorf(coffer.EINVALID, "an organization must keep at least one owner")
	}
	return nil
}

// RemoveMember removes a user from an organization and its projects, and revokes every token
// the user holds for the organization, at once. Admins may (owners only for owners); a user may
// also leave. The last owner cannot be removed.
func (s *Service) RemoveMember(ctx context.Context, orgID, userID string) (*coffer.Membership, error) {
	a := coffer.ActorFromContext(ctx)
	self := a != nil && a.Kind == coffer.ActorUser && a.ID == userID
	_, myRole, err := s.requireMember(ctx, orgID, !self)
	if err != nil {
		return nil, err
	}
	var m *coffer.Membership
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		cur, err := tx.FindMembership(ctx, store.ScopeOrg, orgID, coffer.ActorUser, userID)
		if coffer.ErrorCode(err) == coffer.ENOTFOUND {
			return coffer.Errorf(coffer.ENOTFOUND, "user %s is not a member of organization %s", userID, orgID)
		} else if err != nil {
			return err
		}
		if cur.Role == coffer.RoleOwner {
			if myRole != coffer.RoleOwner {
				return coffer.Errorf(coffer.EFORBIDDEN, "only owners may remove an owner")
			}
			if err := lastOwner(ctx, tx, orgID); err != nil {
				return err
			}
		}
		m = cur
		if err := tx.DeleteProjectMembershipsInOrg(ctx, orgID, coffer.ActorUser, userID); err != nil {
			return err
		}
		if err := tx.DeleteMembership(ctx, store.ScopeOrg, orgID, coffer.ActorUser, userID); err != nil {
			return err
		}
		ids, err := identity.RevokeTokensTx(ctx, tx, coffer.ActorUser, userID, orgID, "")
		if err != nil {
			return err
		}
		return s.record(ctx, tx, coffer.ActionMemberRemove, orgID, map[string]any{"memberType": "user", "memberId": userID,
			"role": cur.Role, "tokensRevoked": len(ids)})
	})
	return m, err
}

// Settings are an organization's settings.
type Settings struct {
	Org        *coffer.Organization
	EnforceMFA bool
}

// GetSettings returns an organization with its settings. Any member may.
func (s *Service) GetSettings(ctx context.Context, orgID string) (*Settings, error) {
	if _, _, err := s.requireMember(ctx, orgID, false); err != nil {
		return nil, err
	}
	o, err := s.db.FindOrganization(ctx, orgID)
	if err != nil {
		return nil, err
	}
	on, err := s.db.OrgEnforcesMFA(ctx, orgID)
	return &Settings{Org: o, EnforceMFA: on}, err
}

// SetEnforceMFA turns the organization's MFA requirement on or off. Admins may. From then on, a
// member without TOTP signs in only to enrol; turning it on signs such members out at once
// (except the session of the admin doing it).
func (s *Service) SetEnforceMFA(ctx context.Context, orgID string, on bool) (*Settings, error) {
	a, _, err := s.requireMember(ctx, orgID, true)
	if err != nil {
		return nil, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.SetOrgEnforceMFA(ctx, orgID, on, s.now()); err != nil {
			return err
		}
		if on {
			if _, err := signOutMembersWithoutMFA(ctx, tx, orgID, a.TokenID); err != nil {
				return err
			}
		}
		return s.record(ctx, tx, coffer.ActionOrgSettingsUpdate, orgID, map[string]any{"enforceMfa": on})
	})
	if err != nil {
		return nil, err
	}
	return s.GetSettings(ctx, orgID)
}

// normalizeEmail trims and lowercases an address and checks that it is a bare address.
func normalizeEmail(field, email string) (string, error) {
	email = identity.NormalizeEmail(email)
	if email == "" {
		return "", coffer.Errorf(coffer.EVALIDATION, "%s: required", field)
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || len(email) > 254 {
		return "", coffer.Errorf(coffer.EVALIDATION, "%s: must be a valid e-mail address", field)
	}
	return email, nil
}

func newToken() (token string, hash []byte) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	token = hex.EncodeToString(b)
	h := sha256.Sum256([]byte(token))
	return token, h[:]
}

func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(strings.TrimSpace(token)))
	return h[:]
}
