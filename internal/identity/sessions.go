package identity

import (
	"context"
	"time"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/store"
)

// Session is one signed-in session of a user: a user access token.
type Session struct {
	ID        string
	IP        string
	UserAgent string
	CreatedAt time.Time
	ExpiresAt time.Time
	Current   bool // the session of this request
}

// userActor returns the request's actor if it is a user.
func userActor(ctx context.Context) (*coffer.Actor, error) {
	a := coffer.ActorFromContext(ctx)
	if a == nil {
		return nil, coffer.Errorf(coffer.EUNAUTHORIZED, "authentication required")
	}
	if a.Kind != coffer.ActorUser {
		return nil, coffer.Errorf(coffer.EFORBIDDEN, "only users have sessions")
	}
	return a, nil
}

// ListSessions returns the request's user's live sessions, newest first.
func (s *Service) ListSessions(ctx context.Context) ([]Session, error) {
	a, err := userActor(ctx)
	if err != nil {
		return nil, err
	}
	recs, err := s.db.ListUserTokens(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := []Session{}
	for _, r := range recs {
		if r.AuthMethod != coffer.AuthPassword {
			continue
		}
		if exp := r.ExpiresAt(); !exp.IsZero() && !now.Before(exp) {
			continue
		}
		out = append(out, Session{ID: r.ID, IP: r.IP, UserAgent: r.UserAgent, CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt(), Current: r.ID == a.TokenID})
	}
	return out, nil
}

// RevokeSession signs out one of the request's user's sessions (ENOTFOUND for anyone else's).
func (s *Service) RevokeSession(ctx context.Context, sessionID string) error {
	a, err := userActor(ctx)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		rec, err := tx.FindAccessToken(ctx, sessionID)
		if coffer.ErrorCode(err) == coffer.ENOTFOUND || err == nil && (rec.ActorKind != coffer.ActorUser || rec.ActorID != a.ID) {
			return coffer.Errorf(coffer.ENOTFOUND, "session %s not found", sessionID)
		} else if err != nil {
			return err
		}
		if err := tx.RevokeAccessToken(ctx, rec.ID); err != nil {
			return err
		}
		return s.recordUser(ctx, tx, coffer.ActionSessionRevoke, a.ID, map[string]any{"tokenId": rec.ID})
	})
}

// RevokeOtherSessions signs out every session of the request's user but this one. It returns
// how many it revoked.
func (s *Service) RevokeOtherSessions(ctx context.Context) (int, error) {
	a, err := userActor(ctx)
	if err != nil {
		return 0, err
	}
	var ids []string
	err = s.db.InTx(ctx, func(tx *store.Tx) (err error) {
		if ids, err = RevokeTokensTx(ctx, tx, coffer.ActorUser, a.ID, "", a.TokenID); err != nil {
			return err
		}
		return s.recordUser(ctx, tx, coffer.ActionSessionRevoke, a.ID, map[string]any{"others": true, "count": len(ids)})
	})
	return len(ids), err
}

// RevokeTokensTx is the one place that revokes an actor's tokens in bulk (password change and
// reset, member removal, sign-out everywhere): every unrevoked token of the actor, of orgID only
// when it is not empty, except exceptID. It runs in the caller's transaction; the revocation
// reaches every node when it commits (tokens are checked against the database, and the token
// cache is invalidated by the organization revision the UPDATE bumps).
func RevokeTokensTx(ctx context.Context, tx *store.Tx, kind coffer.ActorKind, actorID, orgID, exceptID string) ([]string, error) {
	return tx.RevokeActorTokens(ctx, kind, actorID, orgID, exceptID)
}

// ChangePassword changes the request's user's password given the current one, and signs out
// every other session.
func (s *Service) ChangePassword(ctx context.Context, current, next string) error {
	a, err := userActor(ctx)
	if err != nil {
		return err
	}
	if current == "" {
		return coffer.Errorf(coffer.EVALIDATION, "currentPassword: required")
	}
	if err := ValidatePassword("newPassword", next); err != nil {
		return err
	}
	u, err := s.db.FindUserByID(ctx, a.ID)
	if err != nil {
		return err
	}
	if ok, err := s.verifyPassword(ctx, u.Email, u.PasswordHash, current); err != nil {
		return err
	} else if !ok {
		return coffer.Errorf(coffer.EVALIDATION, "currentPassword: incorrect")
	}
	hash, err := s.PasswordParams().Hash(next)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.SetUserPassword(ctx, u.ID, hash, s.now()); err != nil {
			return err
		}
		ids, err := RevokeTokensTx(ctx, tx, coffer.ActorUser, u.ID, "", a.TokenID)
		if err != nil {
			return err
		}
		return s.recordUser(ctx, tx, coffer.ActionPasswordChange, u.ID, map[string]any{"sessionsRevoked": len(ids)})
	})
}

// Password reset tokens.
const (
	resetTokenKind = "password-reset"
	// ResetTokenTTL is how long a password-reset link works.
	ResetTokenTTL = time.Hour
)

// RequestPasswordReset e-mails a one-time reset link to the address if a user has it. It
// answers the same, and does similar work, whether or not one does.
func (s *Service) RequestPasswordReset(ctx context.Context, email string) error {
	email = NormalizeEmail(email)
	if email == "" {
		return coffer.Errorf(coffer.EVALIDATION, "email: required")
	}
	token := randomHex(32)
	now := s.now()
	u, err := s.db.FindUserByEmail(ctx, email)
	if coffer.ErrorCode(err) == coffer.ENOTFOUND || err == nil && s.users.Mail == nil {
		return nil
	} else if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateUserToken(ctx, hashSecret(token), resetTokenKind, u.ID, now.Add(ResetTokenTTL), now); err != nil {
			return err
		}
		if err := s.recordUser(ctx, tx, coffer.ActionPasswordResetRequest, u.ID, nil); err != nil {
			return err
		}
		return s.users.Mail.Enqueue(ctx, tx, u.Email, MailPasswordReset, map[string]string{
			"Email": u.Email, "Link": s.users.PublicURL + "/reset-password?token=" + token, "ExpiresIn": "1 hour",
		})
	})
}

// ResetPassword sets a new password with a reset token (single use, 1 hour) and signs out
// every session of the user.
func (s *Service) ResetPassword(ctx context.Context, token, next string) error {
	if token == "" {
		return coffer.Errorf(coffer.EVALIDATION, "token: required")
	}
	if err := ValidatePassword("newPassword", next); err != nil {
		return err
	}
	hash, err := s.PasswordParams().Hash(next)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		userID, err := tx.UseUserToken(ctx, hashSecret(token), resetTokenKind, s.now())
		if coffer.ErrorCode(err) == coffer.ENOTFOUND {
			return coffer.Errorf(coffer.EINVALID, "This password reset link is invalid, used or expired")
		} else if err != nil {
			return err
		}
		if err := tx.SetUserPassword(ctx, userID, hash, s.now()); err != nil {
			return err
		}
		ids, err := RevokeTokensTx(ctx, tx, coffer.ActorUser, userID, "", "")
		if err != nil {
			return err
		}
		return s.recordUser(ctx, tx, coffer.ActionPasswordReset, userID, map[string]any{"sessionsRevoked": len(ids)})
	})
}

// Logout revokes the request's own token.
func (s *Service) Logout(ctx context.Context) error {
	a := coffer.ActorFromContext(ctx)
	if a == nil {
		return coffer.Errorf(coffer.EUNAUTHORIZED, "authentication required")
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.RevokeAccessToken(ctx, a.TokenID); err != nil {
			return err
		}
		return s.Audit.Record(ctx, tx, coffer.AuditEvent{Action: coffer.ActionLogout, Metadata: map[string]any{"tokenId": a.TokenID}})
	})
}

// OpenSessionTx opens a session for a user who just proved who they are some other way (an
// accepted invitation, an open sign-up), in the caller's transaction.
func (s *Service) OpenSessionTx(ctx context.Context, tx *store.Tx, u *coffer.User, orgID string, in LoginInput) (*Issued, error) {
	return s.openSession(ctx, tx, u, orgID, in.IP, in.UserAgent)
}
