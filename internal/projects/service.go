// Package projects manages organizations, projects, environments and project memberships, and
// bootstraps a fresh instance.
//
// Authorization is enforced here through internal/authz, never only in handlers. Every change
// is one store transaction. A project's first data key is made by internal/keyring and stored
// in the transaction that creates the project; this package never sees key bytes, and no
// password or token ever reaches an error message.
package projects

import (
	"context"
	"crypto/rand"
	"time"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/audit"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/identity"
	"github.com/cofferhq/coffer/internal/keyring"
	"github.com/cofferhq/coffer/internal/store"
)

// Service manages organizations, projects, environments and project memberships.
type Service struct {
	db    *store.DB
	keys  *keyring.Keyring
	authz *authz.Authorizer
	ids   *identity.Service
	now   func() time.Time
	// Audit records every change, in its transaction.
	Audit *audit.Log
	// RetireDelay is how long a rotated project key is kept after its data is re-sealed
	// (COFFER_KEY_RETIRE_DELAY): requests under way and lagging read replicas may still return
	// rows sealed with it. 0 destroys it at once.
	RetireDelay time.Duration
}

// New returns a Service. now defaults to time.Now; its readings are used in UTC, truncated to
// the millisecond the store keeps.
func New(db *store.DB, keys *keyring.Keyring, az *authz.Authorizer, ids *identity.Service, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, keys: keys, authz: az, ids: ids, now: func() time.Time { return now().UTC().Truncate(time.Millisecond) }}
}

// actor returns the request's actor, or EUNAUTHORIZED.
func actor(ctx context.Context) (*coffer.Actor, error) {
	a := coffer.ActorFromContext(ctx)
	if a == nil {
		return nil, coffer.Errorf(coffer.EUNAUTHORIZED, "authentication required")
	}
	return a, nil
}

// grant resolves the actor's grant in a project and requires action on subject.
func (s *Service) grant(ctx context.Context, projectID string, action authz.Action, subject authz.Subject) (*authz.Grant, error) {
	if projectID == "" {
		return nil, coffer.Errorf(coffer.EVALIDATION, "projectId: required")
	}
	g, err := s.authz.Project(ctx, projectID)
	if err != nil {
		return nil, err
	}
	if err := g.Require(action, subject, "", ""); err != nil {
		return nil, err
	}
	return g, nil
}

// randomSuffix returns n random lowercase letters and digits.
func randomSuffix(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	const limit = 256 - 256%len(alphabet) // reject bytes that would bias the choice
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			panic("crypto/rand failed: " + err.Error())
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out)
}

// generateSlug returns Slugify(name) with a random suffix, or the suffix alone when the name
// has no letters or digits.
func generateSlug(name string) string {
	if base := coffer.Slugify(name); base != "" {
		return base + "-" + randomSuffix(6)
	}
	return randomSuffix(6)
}

// conflict turns a unique-constraint violation (a race lost after the checks) into a clear
// ECONFLICT; other errors pass through.
func conflict(err error, format string, args ...any) error {
	if store.IsConflict(err) {
		return coffer.Errorf(coffer.ECONFLICT, format, args...)
	}
	return err
}
