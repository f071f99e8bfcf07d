package identity

import (
	"context"
	"strings"

	"github.com/cofferhq/coffer"
)

// NormalizeEmail returns the canonical form of an e-mail address (trimmed, lowercased).
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// LoginPassword is SignIn without a second factor (a user with TOTP gets EUNAUTHORIZED asking
// for the code); in.TOTPCode is ignored.
func (s *Service) LoginPassword(ctx context.Context, in LoginInput) (*Issued, error) {
	in.TOTPCode = ""
	res, err := s.SignIn(ctx, in)
	if err != nil {
		return nil, err
	}
	if res.Session == nil {
		return nil, coffer.Errorf(coffer.EUNAUTHORIZED, "Two-factor authentication is required: sign in with POST /api/v1/auth/login and totpCode")
	}
	return res.Session, nil
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
		if u.Name != "" {
			me.Name = u.Name
		}
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
