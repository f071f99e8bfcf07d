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

// countSignIn clears the user's counted attempts when one signed in. An attempt that stops to
// ask for the second factor stays counted until the code is given: it cannot be used to clear
// the count between guesses of the code.
func (s *Service) countSignIn(ctx context.Context, e SignInEvent) {
	if e.Outcome == "success" {
		s.userLogins.Succeeded(ctx, e.Email)
	}
}
