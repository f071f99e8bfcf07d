package projects

import (
	"context"
	"strings"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/store"
)

// maxUsersPerCall bounds the e-mail addresses one call adds or removes.
const maxUsersPerCall = 100

// ListUserMemberships returns the user memberships of a project with the users' e-mail
// addresses, oldest first. Any actor with a role that may read members may.
func (s *Service) ListUserMemberships(ctx context.Context, projectID string) ([]*store.ProjectUser, error) {
	g, err := s.grant(ctx, projectID, authz.Read, authz.Members)
	if err != nil {
		return nil, err
	}
	ms, err := s.db.ListProjectUsers(ctx, g.Project.ID)
	if err != nil {
		return nil, err
	}
	if ms == nil {
		ms = []*store.ProjectUser{}
	}
	return ms, nil
}

// AddUsers gives users, named by e-mail, a role in a project (member when role is ""). Every
// user must be a member of the project's organization and not yet of the project: unknown
// addresses are ENOTFOUND naming them, current members ECONFLICT, and then nothing is added.
// Actors that may create members may, when they hold themselves every right of the role.
func (s *Service) AddUsers(ctx context.Context, projectID string, emails []string, role string) ([]*store.ProjectUser, error) {
	g, err := s.grant(ctx, projectID, authz.Create, authz.Members)
	if err != nil {
		return nil, err
	}
	if role == "" {
		role = coffer.RoleMember
	}
	emails, err = cleanEmails(emails)
	if err != nil {
		return nil, err
	}
	var out []*store.ProjectUser
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := s.requireConfer(ctx, tx, g, role, true); err != nil {
			return err
		}
		users, err := orgUsers(ctx, tx, g.Project.OrgID, emails)
		if err != nil {
			return err
		}
		var present []string
		for _, u := range users {
			if _, err := tx.FindMembership(ctx, store.ScopeProject, g.Project.ID, coffer.ActorUser, u.ID); err == nil {
				present = append(present, u.Email)
			} else if coffer.ErrorCode(err) != coffer.ENOTFOUND {
				return err
			}
		}
		if len(present) > 0 {
			return coffer.Errorf(coffer.ECONFLICT, "usernames: already members of the project: %s", strings.Join(present, ", "))
		}
		for _, u := range users {
			m := &coffer.Membership{ScopeID: g.Project.ID, ActorKind: coffer.ActorUser, ActorID: u.ID, Role: role}
			if err := tx.PutMembership(ctx, store.ScopeProject, m, s.now()); err != nil {
				return conflict(err, "usernames: %s is already a member of the project", u.Email)
			}
			if err := s.record(ctx, tx, coffer.ActionMemberAdd, g.Project.OrgID, g.Project.ID,
				map[string]any{"memberType": string(coffer.ActorUser), "memberId": u.ID, "email": u.Email, "role": role}); err != nil {
				return err
			}
			out = append(out, &store.ProjectUser{Membership: *m, Email: u.Email, Name: u.Name})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateUserMembership changes the role of a user's membership of a project. Actors that may
// edit members may, when they hold themselves every right of the role given and of the role
// replaced.
func (s *Service) UpdateUserMembership(ctx context.Context, projectID, membershipID, role string) (*store.ProjectUser, error) {
	g, err := s.grant(ctx, projectID, authz.Edit, authz.Members)
	if err != nil {
		return nil, err
	}
	if role == "" {
		return nil, coffer.Errorf(coffer.EVALIDATION, "roles: required")
	}
	var out *store.ProjectUser
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		cur, err := tx.FindProjectUser(ctx, g.Project.ID, membershipID)
		if coffer.ErrorCode(err) == coffer.ENOTFOUND {
			return coffer.Errorf(coffer.ENOTFOUND, "membership %s not found in project %s", membershipID, g.Project.ID)
		} else if err != nil {
			return err
		}
		if err := s.requireConfer(ctx, tx, g, role, true); err != nil {
			return err
		}
		if err := s.requireConfer(ctx, tx, g, cur.Role, false); err != nil {
			return err
		}
		m := cur.Membership
		m.Role = role
		if err := tx.PutMembership(ctx, store.ScopeProject, &m, s.now()); err != nil {
			return err
		}
		out = &store.ProjectUser{Membership: m, Email: cur.Email, Name: cur.Name}
		return s.record(ctx, tx, coffer.ActionMemberUpdate, g.Project.OrgID, g.Project.ID,
			map[string]any{"memberType": string(coffer.ActorUser), "memberId": cur.ActorID, "email": cur.Email, "role": role, "previousRole": cur.Role})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RemoveUsers removes users, named by e-mail, from a project. Every address must name a user
// member of the project, or nothing is removed (ENOTFOUND naming them). Actors that may delete
// members may, when they hold themselves every right of each member's role.
func (s *Service) RemoveUsers(ctx context.Context, projectID string, emails []string) ([]*store.ProjectUser, error) {
	g, err := s.grant(ctx, projectID, authz.Delete, authz.Members)
	if err != nil {
		return nil, err
	}
	emails, err = cleanEmails(emails)
	if err != nil {
		return nil, err
	}
	var out []*store.ProjectUser
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		var missing []string
		var found []*store.ProjectUser
		for _, e := range emails {
			u, err := tx.FindUserByEmail(ctx, e)
			if coffer.ErrorCode(err) == coffer.ENOTFOUND {
				missing = append(missing, e)
				continue
			} else if err != nil {
				return err
			}
			m, err := tx.FindMembership(ctx, store.ScopeProject, g.Project.ID, coffer.ActorUser, u.ID)
			if coffer.ErrorCode(err) == coffer.ENOTFOUND {
				missing = append(missing, e)
				continue
			} else if err != nil {
				return err
			}
			found = append(found, &store.ProjectUser{Membership: *m, Email: u.Email, Name: u.Name})
		}
		if len(missing) > 0 {
			return coffer.Errorf(coffer.ENOTFOUND, "usernames: not members of the project: %s", strings.Join(missing, ", "))
		}
		for _, m := range found {
			if err := s.requireConfer(ctx, tx, g, m.Role, false); err != nil {
				return err
			}
			if err := tx.DeleteMembership(ctx, store.ScopeProject, g.Project.ID, coffer.ActorUser, m.ActorID); err != nil {
				return err
			}
			if err := s.record(ctx, tx, coffer.ActionMemberRemove, g.Project.OrgID, g.Project.ID,
				map[string]any{"memberType": string(coffer.ActorUser), "memberId": m.ActorID, "email": m.Email, "role": m.Role}); err != nil {
				return err
			}
		}
		out = found
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// cleanEmails lowercases and trims the addresses, drops repeats, and requires at least one.
func cleanEmails(emails []string) ([]string, error) {
	if len(emails) == 0 {
		return nil, coffer.Errorf(coffer.EVALIDATION, "usernames: required, at least one e-mail address")
	}
	if len(emails) > maxUsersPerCall {
		return nil, coffer.Errorf(coffer.EVALIDATION, "usernames: at most %d per request", maxUsersPerCall)
	}
	seen := map[string]bool{}
	out := make([]string, 0, len(emails))
	for _, e := range emails {
		e = strings.ToLower(strings.TrimSpace(e))
		if e == "" {
			return nil, coffer.Errorf(coffer.EVALIDATION, "usernames: an e-mail address is empty")
		}
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	return out, nil
}

// orgUsers returns the users with the addresses, all members of the organization, or
// ENOTFOUND naming the others.
func orgUsers(ctx context.Context, tx *store.Tx, orgID string, emails []string) ([]*coffer.User, error) {
	var users []*coffer.User
	var missing []string
	for _, e := range emails {
		u, err := tx.FindUserByEmail(ctx, e)
		if err == nil {
			_, err = tx.FindMembership(ctx, store.ScopeOrg, orgID, coffer.ActorUser, u.ID)
		}
		if coffer.ErrorCode(err) == coffer.ENOTFOUND {
			missing = append(missing, e)
			continue
		} else if err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	if len(missing) > 0 {
		return nil, coffer.Errorf(coffer.ENOTFOUND, "usernames: no member of the organization has the e-mail address %s", strings.Join(missing, ", "))
	}
	return users, nil
}
