package members

import (
	"context"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/identity"
	"github.com/cofferhq/coffer/internal/store"
)

// signOutMembersWithoutMFA revokes, inside tx, the organization's sessions of every user member
// who has no second factor, when the organization starts enforcing MFA: their next sign-in
// makes them enrol. The session keepTokenID (the admin turning enforcement on) is kept so that
// the admin can enrol with it. It returns how many tokens it revoked.
func signOutMembersWithoutMFA(ctx context.Context, tx *store.Tx, orgID, keepTokenID string) (int, error) {
	ms, err := tx.ListOrgUsers(ctx, orgID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, m := range ms {
		if m.MFAEnabled {
			continue
		}
		ids, err := identity.RevokeTokensTx(ctx, tx, coffer.ActorUser, m.ActorID, orgID, keepTokenID)
		if err != nil {
			return 0, err
		}
		n += len(ids)
	}
	return n, nil
}
