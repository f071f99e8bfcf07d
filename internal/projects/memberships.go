package projects

import (
	"context"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/store"
)

// SetIdentityMembership gives an identity of the project's organization a role in the project
// (admin, member, viewer or no-access), or changes the role it has. Project admins may. It
// returns ENOTFOUND for an identity of another organization and EVALIDATION for another role.
func (s *Service) SetIdentityMembership(ctx context.Context, projectID, identityID, role string) (*coffer.Membership, error) {
	g, err := s.grant(ctx, projectID, authz.Edit, authz.Members)
	if err != nil {
		return nil, err
	}
	if !authz.ValidProjectRole(role) {
		return nil, coffer.Errorf(coffer.EVALIDATION, "role: must be one of admin, member, viewer, no-access")
	}
	m := &coffer.Membership{ScopeID: g.Project.ID, ActorKind: coffer.ActorIdentity, ActorID: identityID, Role: role}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		ident, err := tx.FindIdentity(ctx, identityID)
		if coffer.ErrorCode(err) == coffer.ENOTFOUND || err == nil && ident.OrgID != g.Project.OrgID {
			return coffer.Errorf(coffer.ENOTFOUND, "identity %s not found", identityID)
		} else if err != nil {
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

// DeleteIdentityMembership removes an identity's membership of a project. Project admins may.
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
