package identity

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"time"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/ratelimit"
	"github.com/cofferhq/coffer/internal/store"
)

// UserSessionTTL is how long a user's session (bearer token or cookie) lasts.
const UserSessionTTL = 24 * time.Hour

// mfaTokenTTL is how long an enrolment token (see LoginResult.MFAToken) lasts.
const mfaTokenTTL = 15 * time.Minute

// AuthMFAEnrollment is the auth method of a token that only allows enrolling a second factor;
// Authenticate refuses it as a bearer.
const AuthMFAEnrollment = "mfa-enrollment"

// LoginInput is a user's sign-in.
type LoginInput struct {
	Email     string
	Password  string
	TOTPCode  string // a TOTP code or a recovery code; may be empty
	IP        netip.Addr
	UserAgent string
}

// LoginResult is a session, or what is missing to get one.
type LoginResult struct {
	Session *Issued // nil unless signed in
	// MFARequired: the password is right and the user has TOTP: send it again with totpCode.
	MFARequired bool
	// EnrollmentRequired: the organization enforces MFA and the user has none: enrol with
	// MFAToken (POST /api/v1/auth/totp/enroll, then confirm) to get a session.
	EnrollmentRequired bool
	MFAToken           string
}

var errBadCode = coffer.Errorf(coffer.EUNAUTHORIZED, "Invalid two-factor code")

// SignIn checks a user's e-mail, password and second factor and opens a session in the user's
// first organization. An unknown e-mail and a wrong password take the same time (one argon2id
// hash) and give the same answer. Too many attempts from the client address, or an e-mail
// locked out after failures (known or not), get a *ratelimit.Refusal (ERATELIMIT) before any
// hash is computed.
func (s *Service) SignIn(ctx context.Context, in LoginInput) (*LoginResult, error) {
	if in.Email == "" || in.Password == "" {
		return nil, coffer.Errorf(coffer.EVALIDATION, "email and password are required")
	}
	ev := SignInEvent{Email: NormalizeEmail(in.Email), IP: in.IP, UserAgent: in.UserAgent, Outcome: "failure"}
	defer func() {
		s.countSignIn(ctx, ev)
		s.signInEvent(ctx, ev)
	}()
	if err := s.userLogins.Allow(ctx, in.IP, ev.Email); err != nil {
		ev.Outcome = "rate-limited"
		if r := ratelimit.AsRefusal(err); r != nil {
			ev.Reason, ev.RetryAfter = r.Limit, r.After
		}
		return nil, err
	}
	params := s.PasswordParams()
	u, err := s.db.FindUserByEmail(ctx, ev.Email)
	if coffer.ErrorCode(err) == coffer.ENOTFOUND {
		CheckPassword(dummyHash(params), in.Password)
		ev.Reason = "password"
		return nil, errBadCredentials
	} else if err != nil {
		return nil, err
	}
	ev.UserID = u.ID
	if !CheckPassword(u.PasswordHash, in.Password) {
		ev.Reason = "password"
		return nil, errBadCredentials
	}
	if params.needsRehash(u.PasswordHash) {
		if h, err := params.Hash(in.Password); err == nil {
			err = s.db.InTx(ctx, func(tx *store.Tx) error { return tx.SetUserPassword(ctx, u.ID, h, s.now()) })
			if err != nil {
				return nil, err
			}
		}
	}
	orgID, err := s.db.FirstOrgOf(ctx, coffer.ActorUser, u.ID)
	if coffer.ErrorCode(err) == coffer.ENOTFOUND {
		ev.Reason = "no-organization"
		return nil, coffer.Errorf(coffer.EFORBIDDEN, "You are not a member of any organization")
	} else if err != nil {
		return nil, err
	}
	ev.OrgID = orgID
	totp, err := s.db.FindTOTP(ctx, u.ID)
	if err != nil && coffer.ErrorCode(err) != coffer.ENOTFOUND {
		return nil, err
	}
	hasTOTP := err == nil && totp.Confirmed
	if hasTOTP && in.TOTPCode == "" {
		ev.Outcome = "mfa-required"
		return &LoginResult{MFARequired: true}, nil
	}
	if !hasTOTP {
		enforced, err := s.db.OrgEnforcesMFA(ctx, orgID)
		if err != nil {
			return nil, err
		}
		if enforced {
			var iss *Issued
			err := s.db.InTx(ctx, func(tx *store.Tx) (err error) {
				iss, err = s.issue(ctx, tx, &coffer.AccessToken{ActorKind: coffer.ActorUser, ActorID: u.ID, OrgID: orgID,
					AuthMethod: AuthMFAEnrollment, TTL: int(mfaTokenTTL / time.Second), MaxTTL: int(mfaTokenTTL / time.Second),
					IP: ipText(in.IP), UserAgent: in.UserAgent})
				return err
			})
			if err != nil {
				return nil, err
			}
			ev.Outcome = "mfa-enrollment-required"
			return &LoginResult{MFARequired: true, EnrollmentRequired: true, MFAToken: iss.Token}, nil
		}
	}
	var res LoginResult
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if hasTOTP {
			if err := s.checkSecondFactor(ctx, tx, u.ID, in.TOTPCode); err != nil {
				return err
			}
		}
		var err error
		res.Session, err = s.openSession(ctx, tx, u, orgID, in.IP, in.UserAgent)
		return err
	})
	if err == errBadCode {
		ev.Reason = "totp"
		return nil, err
	} else if err != nil {
		return nil, err
	}
	ev.Outcome, ev.TokenID = "success", res.Session.Record.ID
	return &res, nil
}

// openSession issues a user session inside tx and queues a new-device alert when the user signs
// in from an IP and user agent never seen before (not on their very first sign-in).
func (s *Service) openSession(ctx context.Context, tx *store.Tx, u *coffer.User, orgID string, ip netip.Addr, userAgent string) (*Issued, error) {
	iss, err := s.issue(ctx, tx, &coffer.AccessToken{ActorKind: coffer.ActorUser, ActorID: u.ID, OrgID: orgID,
		AuthMethod: coffer.AuthPassword, TTL: int(UserSessionTTL / time.Second), MaxTTL: int(UserSessionTTL / time.Second),
		IP: ipText(ip), UserAgent: userAgent})
	if err != nil {
		return nil, err
	}
	seen, err := tx.CountUserDevices(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	dev := sha256.Sum256([]byte(ipText(ip) + "\x00" + userAgent))
	isNew, err := tx.AddUserDevice(ctx, u.ID, hex.EncodeToString(dev[:]), s.now())
	if err != nil {
		return nil, err
	}
	if isNew && seen > 0 && s.users.Mail != nil {
		err := s.users.Mail.Enqueue(ctx, tx, u.Email, MailNewDevice, map[string]string{
			"Email": u.Email, "IP": ipText(ip), "UserAgent": userAgent, "Time": s.now().Format(time.RFC1123),
			"SessionsURL": s.users.PublicURL + "/settings/sessions",
		})
		if err != nil {
			return nil, err
		}
	}
	return iss, nil
}

func ipText(ip netip.Addr) string {
	if !ip.IsValid() {
		return ""
	}
	return ip.String()
}
