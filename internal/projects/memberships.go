package projects

import (
	"context"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/store"
)

// SetIdentityMembership gives an identity of the project's organization a role in the project
// (admin, member, viewer, no-access or the slug of one of the project's custom roles), or
// changes the role it has. Actors that may edit members may, when they hold themselves every
// right of the role given and of the role replaced. It returns ENOTFOUND for an identity of
// another organization and EVALIDATION for an unknown role.
func (s *Service) SetIdentityMembership(ctx context.Context, projectID, identityID, role string) (*coffer.Membership, error) {
	g, err := s.grant(ctx, projectID, authz.Edit, authz.Members)
	if err != nil {
		return nil, err
	}
	m := &coffer.Membership{ScopeID: g.Project.ID, ActorKind: coffer.ActorIdentity, ActorID: identityID, Role: role}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := s.requireConfer(ctx, tx, g, role, true); err != nil {
			return err
		}
		ident, err := tx.FindIdentity(ctx, identityID)
		if coffer.ErrorCode(err) == coffer.ENOTFOUND || err == nil && ident.OrgID != g.Project.OrgID {
			return coffer.Errorf(coffer.ENOTFOUND, "identity %s not found", identityID)
		} else if err != nil {
			return err
		}
		if cur, err := tx.FindMembership(ctx, store.ScopeProject, g.Project.ID, coffer.ActorIdentity, identityID); err == nil {
			if err := s.requireConfer(ctx, tx, g, cur.Role, false); err != nil {
				return err
			}
		} else if coffer.ErrorCode(err) != coffer.ENOTFOUND {
			return err
		}
		if err := tx.PutMembership(ctx, store.ScopeProject, m, s.now()); err != nil {
			return err
		}
		return s.record(ctx, tx, coffer.ActionMemberAdd, g.Project.OrgID, g.Project.ID,
			map[string]any{"memberType": string(m.ActorKind), "memberId": identityID, "role": role})
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// DeleteIdentityMembership removes an identity's membership of a project. Actors that may
// delete members may, when they hold themselves every right of the member's role.
func (s *Service) DeleteIdentityMembership(ctx context.Context, projectID, identityID string) (*coffer.Membership, error) {
	g, err := s.grant(ctx, projectID, authz.Delete, authz.Members)
	if err != nil {
		return nil, err
	}
	var m *coffer.Membership
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		found, err := tx.FindMembership(ctx, store.ScopeProject, g.Project.ID, coffer.ActorIdentity, identityID)
		if coffer.ErrorCode(err) == coffer.ENOTFOUND {
			return coffer.Errorf(coffer.ENOTFOUND, "identity %s is not a member of project %s", identityID, g.Project.ID)
		} else if err != nil {
			return err
		}
		if err := s.requireConfer(ctx, tx, g, found.Role, false); err != nil {
			return err
		}
		m = found
		if err := tx.DeleteMembership(ctx, store.ScopeProject, g.Project.ID, coffer.ActorIdentity, identityID); err != nil {
			return err
		}
		return s.record(ctx, tx, coffer.ActionMemberRemove, g.Project.OrgID, g.Project.ID,
			map[string]any{"memberType": string(coffer.ActorIdentity), "memberId": identityID, "role": found.Role})
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// ListMemberships returns the memberships (users and identities) of a project, oldest first.
// Any actor with a role that may read members may.
func (s *Service) ListMemberships(ctx context.Context, projectID string) ([]*coffer.Membership, error) {
	g, err := s.grant(ctx, projectID, authz.Read, authz.Members)
	if err != nil {
		return nil, err
	}
	ms, err := s.db.ListMemberships(ctx, store.ScopeProject, g.Project.ID)
	if err != nil {
		return nil, err
	}
	if ms == nil {
		ms = []*coffer.Membership{}
	}
	return ms, nil
}

// requireConfer returns EFORBIDDEN unless the grant may confer role (built-in or custom; an
// unknown custom role is EVALIDATION when given, and confers nothing when held).
func (s *Service) requireConfer(ctx context.Context, tx *store.Tx, g *authz.Grant, role string, given bool) error {
	if authz.ValidProjectRole(role) {
		return g.RequireConfer(role, nil)
	}
	cr, err := tx.FindProjectRoleBySlug(ctx, g.Project.ID, role)
	if coffer.ErrorCode(err) == coffer.ENOTFOUND {
		if given {
			return coffer.Errorf(coffer.EVALIDATION, "role: must be one of admin, member, viewer, no-access or the slug of a custom role of the project")
		}
		return nil
	} else if err != nil {
		return err
	}
	p, err := authz.Compile(cr.Permissions)
	if err != nil {
		return err
	}
	return g.RequireConfer(role, p)
}
