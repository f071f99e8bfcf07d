package identity

import (
	"context"
	"math"
	"time"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/ratelimit"
	"github.com/cofferhq/coffer/internal/store"
)

// record appends the audit event of a change to an identity inside its transaction.
func (s *Service) record(ctx context.Context, tx *store.Tx, action string, ident *coffer.Identity, md map[string]any) error {
	md["identityId"] = ident.ID
	return s.Audit.Record(ctx, tx, coffer.AuditEvent{Action: action, OrgID: ident.OrgID, Metadata: md})
}

// auditLoginFailure buffers an identity.login_failed event when a universal-auth login
// failed (err != nil). The event names the identity when the client id is known, and the
// client id (not a secret) either way; never the client secret. It cannot fail the login.
func (s *Service) auditLoginFailure(ctx context.Context, clientID string, err error) {
	if err == nil || s.Audit == nil || clientID == "" {
		return
	}
	ev := coffer.AuditEvent{Action: coffer.ActionIdentityLoginFailed, Outcome: coffer.OutcomeFailure,
		ActorType: coffer.AuditActorAnonymous, ActorName: clientID,
		Metadata: map[string]any{"authMethod": coffer.AuthUniversal, "clientId": clientID, "reason": coffer.ErrorMessage(err)}}
	if ua, ferr := s.db.FindUniversalAuthByClientID(ctx, clientID); ferr == nil {
		if ident, ferr := s.db.FindIdentity(ctx, ua.IdentityID); ferr == nil {
			ev.ActorType, ev.ActorID, ev.ActorName, ev.OrgID = coffer.AuditActorIdentity, ident.ID, ident.Name, ident.OrgID
		}
	}
	if coffer.ErrorCode(err) == coffer.EFORBIDDEN {
		ev.Outcome = coffer.OutcomeDenied
	}
	if r := ratelimit.AsRefusal(err); r != nil {
		ev.Action, ev.Outcome = coffer.ActionIdentityLoginLimited, coffer.OutcomeDenied
		ev.Metadata["limit"], ev.Metadata["retryAfterSeconds"] = r.Limit, retrySeconds(r.After)
	}
	s.Audit.Enqueue(ctx, ev) //nolint:errcheck // Enqueue logs a failure; the login has failed already
}

// auditSignIn buffers a user.login or user.login_failed event for a password sign-in attempt.
// A step towards a second factor ("mfa-required") is not an event: the sign-in that follows is.
func (s *Service) auditSignIn(ctx context.Context, e SignInEvent) {
	if s.Audit == nil {
		return
	}
	ev := coffer.AuditEvent{ActorType: coffer.AuditActorUser, ActorID: e.UserID, ActorName: e.Email, OrgID: e.OrgID,
		UserAgent: e.UserAgent, Metadata: map[string]any{"authMethod": "password"}}
	if e.IP.IsValid() {
		ev.IP = e.IP.String()
	}
	switch e.Outcome {
	case "success":
		ev.Action, ev.Outcome = coffer.ActionUserLogin, coffer.OutcomeSuccess
		ev.Metadata["tokenId"] = e.TokenID
	case "failure":
		ev.Action, ev.Outcome = coffer.ActionUserLoginFailed, coffer.OutcomeFailure
		ev.Metadata["reason"] = e.Reason
	case "rate-limited": // filed under the account when there is one, like a failure
		ev.Action, ev.Outcome = coffer.ActionUserLoginLimited, coffer.OutcomeDenied
		ev.Metadata["limit"], ev.Metadata["retryAfterSeconds"] = e.Reason, retrySeconds(e.RetryAfter)
		if u, err := s.db.FindUserByEmail(ctx, e.Email); err == nil {
			e.UserID = u.ID
			ev.ActorID = u.ID
		}
	default:
		return
	}
	if e.UserID == "" {
		ev.ActorType = coffer.AuditActorAnonymous
	} else if ev.OrgID == "" { // a wrong password: file it under the user's organization all the same
		if orgID, err := s.db.FirstOrgOf(ctx, coffer.ActorUser, e.UserID); err == nil {
			ev.OrgID = orgID
		}
	}
	s.Audit.Enqueue(ctx, ev) //nolint:errcheck // Enqueue logs a failure; a sign-in does not fail for it
}

// recordToken records a change of an access token by whoever holds it.
func (s *Service) recordToken(ctx context.Context, tx *store.Tx, action string, rec *coffer.AccessToken) error {
	return s.Audit.Record(ctx, tx, coffer.AuditEvent{Action: action, ActorType: string(rec.ActorKind), ActorID: rec.ActorID,
		OrgID: rec.OrgID, Metadata: map[string]any{"tokenId": rec.ID, "authMethod": rec.AuthMethod}})
}

// recordUser records a change of a user's own account (sessions, password, second factor),
// filed under the request's organization or, without one (a reset link), the user's first.
func (s *Service) recordUser(ctx context.Context, tx *store.Tx, action, userID string, md map[string]any) error {
	if s.Audit == nil {
		return nil
	}
	ev := coffer.AuditEvent{Action: action, ActorType: coffer.AuditActorUser, ActorID: userID, Metadata: md}
	if a := coffer.ActorFromContext(ctx); a != nil {
		ev.OrgID = a.OrgID
	} else if orgID, err := s.db.FirstOrgOf(ctx, coffer.ActorUser, userID); err == nil {
		ev.OrgID = orgID
	}
	return s.Audit.Record(ctx, tx, ev)
}

// retrySeconds is a refusal's wait as the Retry-After header says it: whole seconds, at least 1.
func retrySeconds(d time.Duration) int64 { return max(int64(math.Ceil(d.Seconds())), 1) }
