package identity

import (
	"context"
	"net/netip"

	"github.com/cofferhq/coffer"
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

// verifyPassword checks a signed-in user's password (to change it, or to turn the second factor
// off) under the same limits as signing in: a stolen session must not become an unlimited
// oracle for the password, nor a way to make the server run argon2 without bound.
func (s *Service) verifyPassword(ctx context.Context, email, hash, password string) (bool, error) {
	var ip netip.Addr
	if a := coffer.ActorFromContext(ctx); a != nil {
		ip = a.IP
	}
	if err := s.userLogins.Allow(ctx, ip, email); err != nil {
		return false, err
	}
	if !CheckPassword(hash, password) {
		return false, nil
	}
	s.userLogins.Succeeded(ctx, email)
	return true, nil
}
