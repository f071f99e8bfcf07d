package identity

import (
	"context"
	"net/netip"
	"time"

	"github.com/cofferhq/coffer/internal/store"
)

// Users configures how users sign in. The zero value works: default argon2id parameters, no
// TOTP (enrolment fails without Keys), no e-mail.
type Users struct {
	// Password are the argon2id parameters of new hashes; a user whose hash was made with other
	// parameters is rehashed at their next sign-in. Zero: DefaultPasswordParams.
	Password PasswordParams
	// Keys seals TOTP secrets at rest (internal/keyring).
	Keys Sealer
	// Mail queues e-mail (password reset, new-device alerts) in the caller's transaction.
	Mail Mailer
	// PublicURL is the base of links sent by e-mail, without a trailing slash.
	PublicURL string
	// OnSignIn, when set, is told of every sign-in attempt, successful or not (the audit log
	// hooks here). It must not fail the sign-in.
	OnSignIn func(ctx context.Context, e SignInEvent)
}

// SignInEvent describes one sign-in attempt. It never carries a password or a code.
type SignInEvent struct {
	Email     string // as given, normalized
	UserID    string // "" when no user has that e-mail
	OrgID     string
	TokenID   string // the session issued, when one was
	IP        netip.Addr
	UserAgent string
	// Outcome is "success", "failure" (wrong password, wrong or replayed code), "mfa-required",
	// "mfa-enrollment-required" or "rate-limited" (refused before any check; see LimitLogins).
	Outcome string
	// Reason is, for a failure: "password", "totp", "no-organization"; for a refusal the limit
	// (ratelimit.LimitIP or LimitAccount).
	Reason     string
	RetryAfter time.Duration // of a refusal
}

// Sealer seals small values that belong to no project (internal/keyring.Keyring).
type Sealer interface {
	SealSystem(purpose string, aad, plaintext []byte) ([]byte, error)
	OpenSystem(purpose string, aad, ciphertext []byte) ([]byte, error)
}

// Mailer queues an e-mail rendered from a named template (internal/mail), in the caller's
// transaction so that the mail leaves if and only if the change commits.
type Mailer interface {
	Enqueue(ctx context.Context, tx *store.Tx, to, template string, data map[string]string) error
}

// Mail templates this package sends.
const (
	MailPasswordReset = "password-reset"
	MailNewDevice     = "new-device"
)

// ConfigureUsers sets how users sign in. Call it before use.
func (s *Service) ConfigureUsers(u Users) {
	if u.Password == (PasswordParams{}) {
		u.Password = DefaultPasswordParams
	}
	s.users = u
}

// PasswordParams returns the argon2id parameters of new hashes.
func (s *Service) PasswordParams() PasswordParams {
	if s.users.Password == (PasswordParams{}) {
		return DefaultPasswordParams
	}
	return s.users.Password
}

func (s *Service) signInEvent(ctx context.Context, e SignInEvent) {
	s.auditSignIn(ctx, e)
	if s.users.OnSignIn != nil {
		s.users.OnSignIn(ctx, e)
	}
}
