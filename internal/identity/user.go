package identity

import (
	"context"
	"strings"
	"time"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/store"
)

// UserSessionTTL is how long a user's bearer token from LoginPassword lasts.
const UserSessionTTL = 24 * time.Hour

// NormalizeEmail returns the canonical form of an e-mail address (trimmed, lowercased).
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// LoginPassword exchanges a user's e-mail and password for a bearer token of the user's first
// organization. An unknown e-mail and a wrong password take the same time and give the same
// answer.
func (s *Service) LoginPassword(ctx context.Context, email, password string) (*Issued, error) {
	if email == "" || password == "" {
		return nil, coffer.Errorf(coffer.EVALIDATION, "email and password are required")
	}
	u, err := s.db.FindUserByEmail(ctx, NormalizeEmail(email))
	if coffer.ErrorCode(err) == coffer.ENOTFOUND {
		CheckPassword(dummyHash(), password)
		return nil, errBadCredentials
	} else if err != nil {
		return nil, err
	}
	if !CheckPassword(u.PasswordHash, password) {
		return nil, errBadCredentials
	}
	orgID, err := s.db.FirstOrgOf(ctx, coffer.ActorUser, u.ID)
	if coffer.ErrorCode(err) == coffer.ENOTFOUND {
		return nil, coffer.Errorf(coffer.EFORBIDDEN, "You are not a member of any organization")
	} else if err != nil {
		return nil, err
	}
	var issued *Issued
	err = s.db.InTx(ctx, func(tx *store.Tx) (err error) {
		issued, err = s.issue(ctx, tx, &coffer.AccessToken{ActorKind: coffer.ActorUser, ActorID: u.ID, OrgID: orgID,
			AuthMethod: coffer.AuthPassword, TTL: int(UserSessionTTL / time.Second), MaxTTL: int(UserSessionTTL / time.Second)})
		return err
	})
	return issued, err
}

// Me describes the actor of a request and the token it used.
type Me struct {
	Actor      *coffer.Actor
	Name       string
	Email      string
	AuthMethod string
	ExpiresIn  int // seconds; 0: never
}

// Whoami describes the request's actor.
func (s *Service) Whoami(ctx context.Context) (*Me, error) {
	a := coffer.ActorFromContext(ctx)
	if a == nil {
		return nil, coffer.Errorf(coffer.EUNAUTHORIZED, "authentication required")
	}
	me := &Me{Actor: a}
	switch a.Kind {
	case coffer.ActorUser:
		u, err := s.db.FindUserByID(ctx, a.ID)
		if err != nil {
			return nil, err
		}
		me.Name, me.Email = u.Email, u.Email
	case coffer.ActorIdentity:
		i, err := s.db.FindIdentity(ctx, a.ID)
		if err != nil {
			return nil, err
		}
		me.Name = i.Name
	}
	rec, err := s.db.FindAccessToken(ctx, a.TokenID)
	if err != nil {
		return nil, err
	}
	me.AuthMethod = rec.AuthMethod
	me.ExpiresIn = (&Issued{Record: rec}).ExpiresIn(s.now())
	return me, nil
}
