package members

import (
	"context"
	"strings"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/identity"
	"github.com/cofferhq/coffer/internal/store"
)

// Invited is a new invitation. Link is set only when e-mail is not configured: the inviting
// admin then hands the link over themselves.
type Invited struct {
	Invitation *store.Invitation
	Link       string
}

// Invite invites an e-mail address into the organization with a role, by an e-mailed link
// that works once within InvitationTTL. Admins may; only owners may invite owners.
func (s *Service) Invite(ctx context.Context, orgID, email, role string) (*Invited, error) {
	email, err := normalizeEmail("email", email)
	if err != nil {
		return nil, err
	}
	if role == "" {
		role = coffer.RoleMember
	}
	if !validOrgRole(role) {
		return nil, coffer.Errorf(coffer.EVALIDATION, "role: must be one of owner, admin, member, no-access")
	}
	a, myRole, err := s.requireMember(ctx, orgID, true)
	if err != nil {
		return nil, err
	}
	if role == coffer.RoleOwner && myRole != coffer.RoleOwner {
		return nil, coffer.Errorf(coffer.EFORBIDDEN, "only owners may invite owners")
	}
	org, err := s.db.FindOrganization(ctx, orgID)
	if err != nil {
		return nil, err
	}
	inviter := a.ID
	inviterName := "An administrator"
	if a.Kind == coffer.ActorUser {
		if u, err := s.db.FindUserByID(ctx, a.ID); err == nil {
			inviterName = u.Email
		}
	}
	token, hash := newToken()
	now := s.now()
	inv := &store.Invitation{ID: store.NewID(), OrgID: orgID, Email: email, Role: role, TokenHash: hash, InvitedBy: inviter,
		ExpiresAt: now.Add(InvitationTTL), CreatedAt: now}
	link := s.opt.PublicURL + "/invitations/accept?token=" + token
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if u, err := tx.FindUserByEmail(ctx, email); err == nil {
			if _, err := tx.FindMembership(ctx, store.ScopeOrg, orgID, coffer.ActorUser, u.ID); err == nil {
				return coffer.Errorf(coffer.ECONFLICT, "%s is already a member of this organization", email)
			}
		}
		if err := tx.CreateInvitation(ctx, inv); err != nil {
			return err
		}
		if err := s.record(ctx, tx, coffer.ActionMemberInvite, orgID, map[string]any{"invitationId": inv.ID, "email": email, "role": role}); err != nil {
			return err
		}
		if s.opt.Mail == nil {
			return nil
		}
		return s.opt.Mail.Enqueue(ctx, tx, email, MailInvitation, map[string]string{
			"OrgName": org.Name, "InviterEmail": inviterName, "Role": role, "Link": link, "ExpiresIn": "7 days",
		})
	})
	if err != nil {
		return nil, err
	}
	out := &Invited{Invitation: inv}
	if s.opt.Mail == nil {
		out.Link = link
	}
	return out, nil
}

// ListInvitations returns the organization's pending invitations. Admins may.
func (s *Service) ListInvitations(ctx context.Context, orgID string) ([]*store.Invitation, error) {
	if _, _, err := s.requireMember(ctx, orgID, true); err != nil {
		return nil, err
	}
	invs, err := s.db.ListInvitations(ctx, orgID, s.now())
	if invs == nil && err == nil {
		invs = []*store.Invitation{}
	}
	return invs, err
}

// RevokeInvitation deletes an invitation. Admins may.
func (s *Service) RevokeInvitation(ctx context.Context, orgID, invitationID string) error {
	if _, _, err := s.requireMember(ctx, orgID, true); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteInvitation(ctx, orgID, invitationID); err != nil {
			return err
		}
		return s.record(ctx, tx, coffer.ActionInvitationRevoke, orgID, map[string]any{"invitationId": invitationID})
	})
}

var errBadInvitation = coffer.Errorf(coffer.EINVALID, "This invitation is invalid, used or expired")

// AcceptInvitation accepts an invitation: a new user gets an account with name and password; an
// existing user proves the address with their password. The user becomes a member with the
// invited role and is signed in (subject to the usual second-factor rules).
func (s *Service) AcceptInvitation(ctx context.Context, token, name, password string, in identity.LoginInput) (*identity.LoginResult, error) {
	if strings.TrimSpace(token) == "" {
		return nil, coffer.Errorf(coffer.EVALIDATION, "token: required")
	}
	inv, err := s.db.FindInvitationByHash(ctx, hashToken(token))
	if coffer.ErrorCode(err) == coffer.ENOTFOUND {
		return nil, errBadInvitation
	} else if err != nil {
		return nil, err
	}
	now := s.now()
	if !inv.AcceptedAt.IsZero() || !now.Before(inv.ExpiresAt) {
		return nil, errBadInvitation
	}
	var newUser *coffer.User
	existing, err := s.db.FindUserByEmail(ctx, inv.Email)
	switch {
	case err == nil:
		if !identity.CheckPassword(existing.PasswordHash, password) {
			return nil, coffer.Errorf(coffer.EUNAUTHORIZED, "An account with this e-mail exists: give its password to accept")
		}
	case coffer.ErrorCode(err) == coffer.ENOTFOUND:
		name = strings.TrimSpace(name)
		if name == "" || len(name) > 200 {
			return nil, coffer.Errorf(coffer.EVALIDATION, "name: required, at most 200 characters")
		}
		if err := identity.ValidatePassword("password", password); err != nil {
			return nil, err
		}
		hash, err := s.ids.PasswordParams().Hash(password)
		if err != nil {
			return nil, err
		}
		newUser = &coffer.User{ID: store.NewID(), Email: inv.Email, Name: name, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	default:
		return nil, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		ok, err := tx.AcceptInvitation(ctx, inv.ID, now)
		if err != nil {
			return err
		} else if !ok {
			return errBadInvitation
		}
		userID := ""
		if newUser != nil {
			if err := tx.CreateUser(ctx, newUser); err != nil {
				if store.IsConflict(err) {
					return coffer.Errorf(coffer.ECONFLICT, "an account with this e-mail was just created: accept again with its password")
				}
				return err
			}
			userID = newUser.ID
		} else {
			userID = existing.ID
		}
		if err := tx.PutMembership(ctx, store.ScopeOrg, &coffer.Membership{ScopeID: inv.OrgID, ActorKind: coffer.ActorUser, ActorID: userID, Role: inv.Role}, now); err != nil {
			return err
		}
		return s.Audit.Record(ctx, tx, coffer.AuditEvent{Action: coffer.ActionInvitationAccept, ActorType: coffer.AuditActorUser,
			ActorID: userID, ActorName: inv.Email, OrgID: inv.OrgID,
			Metadata: map[string]any{"invitationId": inv.ID, "role": inv.Role, "newUser": newUser != nil}})
	})
	if err != nil {
		return nil, err
	}
	in.Email, in.Password = inv.Email, password
	return s.ids.SignIn(ctx, in)
}

// Signup creates an account and an organization it owns, when sign-up is open
// (COFFER_SIGNUP=open), and signs it in.
func (s *Service) Signup(ctx context.Context, email, name, password, orgName string, in identity.LoginInput) (*identity.LoginResult, error) {
	if !s.opt.OpenSignup {
		return nil, coffer.Errorf(coffer.EFORBIDDEN, "Sign-up is by invitation only")
	}
	email, err := normalizeEmail("email", email)
	if err != nil {
		return nil, err
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 {
		return nil, coffer.Errorf(coffer.EVALIDATION, "name: required, at most 200 characters")
	}
	if err := identity.ValidatePassword("password", password); err != nil {
		return nil, err
	}
	orgName = strings.TrimSpace(orgName)
	if err := coffer.ValidateName("organizationName", orgName); err != nil {
		return nil, err
	}
	hash, err := s.ids.PasswordParams().Hash(password)
	if err != nil {
		return nil, err
	}
	now := s.now()
	u := &coffer.User{ID: store.NewID(), Email: email, Name: name, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	slug := coffer.Slugify(orgName)
	if slug == "" {
		slug = "org"
	}
	suffix, _ := newToken()
	org := &coffer.Organization{ID: store.NewID(), Name: orgName, Slug: slug + "-" + suffix[:6], CreatedAt: now, UpdatedAt: now}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			if store.IsConflict(err) {
				return coffer.Errorf(coffer.ECONFLICT, "An account with this e-mail already exists: sign in, or reset the password")
			}
			return err
		}
		if err := tx.CreateOrganization(ctx, org); err != nil {
			return err
		}
		if err := tx.PutMembership(ctx, store.ScopeOrg, &coffer.Membership{ScopeID: org.ID, ActorKind: coffer.ActorUser, ActorID: u.ID, Role: coffer.RoleOwner}, now); err != nil {
			return err
		}
		return s.Audit.Record(ctx, tx, coffer.AuditEvent{Action: coffer.ActionUserSignup, ActorType: coffer.AuditActorUser,
			ActorID: u.ID, ActorName: u.Email, OrgID: org.ID, Metadata: map[string]any{"organizationName": org.Name}})
	})
	if err != nil {
		return nil, err
	}
	in.Email, in.Password = email, password
	return s.ids.SignIn(ctx, in)
}
