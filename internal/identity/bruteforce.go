package identity

import (
	"context"

	"github.com/cofferhq/coffer/internal/ratelimit"
)

// LimitLogins makes SignIn follow users and Login follow machines (internal/ratelimit): the
// attempts per client address and the lockout of an account after repeated failures. Either
// may be nil (no limit). Call it before use.
func (s *Service) LimitLogins(users, machines *ratelimit.Login) {
	s.userLogins, s.machineLogins = users, machines
}

// countSignIn tells the user sign-in limiter how an attempt that was allowed ended: wrong
// credentials (password or second factor) count towards a lockout, a session clears them.
// A step towards a second factor counts for neither.
func (s *Service) countSignIn(ctx context.Context, e SignInEvent) {
	switch {
	case e.Outcome == "success":
		s.userLogins.Succeeded(ctx, e.Email)
	case e.Outcome == "failure" && (e.Reason == "password" || e.Reason == "totp"):
		s.userLogins.Failed(ctx, e.Email)
	}
}

// countLogin is countSignIn for a universal-auth login: an unknown client id or a wrong or
// expired secret counts; a refused address or an exhausted secret does not (no guess was made).
func (s *Service) countLogin(ctx context.Context, clientID string, err error) {
	switch {
	case clientID == "":
	case err == nil:
		s.machineLogins.Succeeded(ctx, clientID)
	case err == errBadCredentials:
		s.machineLogins.Failed(ctx, clientID)
	}
}
