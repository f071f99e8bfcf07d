package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/store"
)

// TOTP (RFC 6238): SHA-1, 6 digits, 30-second steps, one step of clock skew either way. A code
// is accepted once: its step is remembered and a code of that step or an earlier one is refused.
const (
	totpPeriod        = 30
	totpSkew          = 1
	totpPurpose       = "totp-secret"
	recoveryCodeCount = 10
)

var totpOpts = hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// TOTPEnrollment is a new TOTP secret to show the user once (as text and as an otpauth URI for
// a QR code).
type TOTPEnrollment struct {
	Secret string
	URI    string
}

// TOTPConfirmed is the answer to a confirmed enrolment: the recovery codes, shown once, and a
// session when the enrolment was made with an enrolment token.
type TOTPConfirmed struct {
	RecoveryCodes []string
	Session       *Issued
}

// mfaUser returns the user enrolling: the request's user actor, or the holder of an enrolment
// token (LoginResult.MFAToken).
func (s *Service) mfaUser(ctx context.Context, mfaToken string) (*coffer.User, *coffer.AccessToken, error) {
	var rec *coffer.AccessToken
	userID := ""
	if mfaToken != "" {
		id, err := s.signer.parse(mfaToken)
		if err != nil {
			return nil, nil, coffer.Errorf(coffer.EUNAUTHORIZED, "Invalid enrolment token")
		}
		rec, err = s.db.FindAccessToken(ctx, id)
		if err != nil || rec.AuthMethod != AuthMFAEnrollment || rec.Revoked || !s.now().Before(rec.ExpiresAt()) {
			return nil, nil, coffer.Errorf(coffer.EUNAUTHORIZED, "Invalid or expired enrolment token: sign in again")
		}
		userID = rec.ActorID
	} else {
		a := coffer.ActorFromContext(ctx)
		if a == nil {
			return nil, nil, coffer.Errorf(coffer.EUNAUTHORIZED, "authentication required")
		}
		if a.Kind != coffer.ActorUser {
			return nil, nil, coffer.Errorf(coffer.EFORBIDDEN, "only users have a second factor")
		}
		userID = a.ID
	}
	u, err := s.db.FindUserByID(ctx, userID)
	if err != nil {
		return nil, nil, err
	}
	return u, rec, nil
}

// EnrollTOTP makes a new TOTP secret for the user (replacing an unconfirmed one) and returns it
// once; it is stored sealed. It returns ECONFLICT when TOTP is already enabled.
func (s *Service) EnrollTOTP(ctx context.Context, mfaToken string) (*TOTPEnrollment, error) {
	if s.users.Keys == nil {
		return nil, coffer.Errorf(coffer.EINTERNAL, "two-factor authentication is not configured")
	}
	u, _, err := s.mfaUser(ctx, mfaToken)
	if err != nil {
		return nil, err
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "Coffer", AccountName: u.Email, Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return nil, err
	}
	sealed, err := s.users.Keys.SealSystem(totpPurpose, []byte(u.ID), []byte(key.Secret()))
	if err != nil {
		return nil, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.PutTOTP(ctx, u.ID, sealed, s.now()); err != nil {
			return err
		}
		return s.recordUser(ctx, tx, coffer.ActionMFAEnroll, u.ID, nil)
	})
	if err != nil {
		return nil, err
	}
	return &TOTPEnrollment{Secret: key.Secret(), URI: key.URL()}, nil
}

// ConfirmTOTP enables the enrolled secret once the user proves it with a code, and returns 10
// new recovery codes (stored hashed). With an enrolment token it also opens the session the
// sign-in was waiting for.
func (s *Service) ConfirmTOTP(ctx context.Context, mfaToken, code string, in LoginInput) (*TOTPConfirmed, error) {
	if strings.TrimSpace(code) == "" {
		return nil, coffer.Errorf(coffer.EVALIDATION, "code: required")
	}
	u, rec, err := s.mfaUser(ctx, mfaToken)
	if err != nil {
		return nil, err
	}
	t, err := s.db.FindTOTP(ctx, u.ID)
	if coffer.ErrorCode(err) == coffer.ENOTFOUND {
		return nil, coffer.Errorf(coffer.EINVALID, "no two-factor enrolment to confirm: enrol first")
	} else if err != nil {
		return nil, err
	}
	if t.Confirmed {
		return nil, coffer.Errorf(coffer.ECONFLICT, "two-factor authentication is already enabled")
	}
	codes, hashes := newRecoveryCodes()
	out := &TOTPConfirmed{RecoveryCodes: codes}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := s.useTOTPCode(ctx, tx, t, code); err != nil {
			return err
		}
		if err := tx.ReplaceRecoveryCodes(ctx, u.ID, hashes, s.now()); err != nil {
			return err
		}
		if err := s.recordUser(ctx, tx, coffer.ActionMFAEnable, u.ID, nil); err != nil {
			return err
		}
		if rec == nil {
			return nil
		}
		if err := tx.RevokeAccessToken(ctx, rec.ID); err != nil { // the enrolment token is spent
			return err
		}
		out.Session, err = s.openSession(ctx, tx, u, rec.OrgID, in.IP, in.UserAgent)
		return err
	})
	if err != nil {
		return nil, codeField(err)
	}
	return out, nil
}

// DisableTOTP turns the user's second factor off; it needs the password and a code (TOTP or
// recovery). A member of an organization that enforces MFA may not.
func (s *Service) DisableTOTP(ctx context.Context, password, code string) error {
	u, _, err := s.mfaUser(ctx, "")
	if err != nil {
		return err
	}
	if ok, err := s.verifyPassword(ctx, u.Email, u.PasswordHash, password); err != nil {
		return err
	} else if !ok {
		return coffer.Errorf(coffer.EVALIDATION, "password: incorrect")
	}
	a := coffer.ActorFromContext(ctx)
	if enforced, err := s.db.OrgEnforcesMFA(ctx, a.OrgID); err != nil {
		return err
	} else if enforced {
		return coffer.Errorf(coffer.EFORBIDDEN, "your organization requires two-factor authentication")
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := s.checkSecondFactor(ctx, tx, u.ID, code); err != nil {
			return err
		}
		if err := tx.DeleteTOTP(ctx, u.ID); err != nil {
			return err
		}
		return s.recordUser(ctx, tx, coffer.ActionMFADisable, u.ID, nil)
	})
	return codeField(err)
}

// codeField reports a wrong code of a signed-in user as a bad field, not as a bad session.
func codeField(err error) error {
	if err == errBadCode {
		return coffer.Errorf(coffer.EVALIDATION, "code: invalid or already used")
	}
	return err
}

// TOTPStatus reports whether the request's user has TOTP on and how many recovery codes are left.
func (s *Service) TOTPStatus(ctx context.Context) (enabled bool, recoveryCodesLeft int, err error) {
	u, _, err := s.mfaUser(ctx, "")
	if err != nil {
		return false, 0, err
	}
	t, err := s.db.FindTOTP(ctx, u.ID)
	if coffer.ErrorCode(err) == coffer.ENOTFOUND {
		return false, 0, nil
	} else if err != nil {
		return false, 0, err
	}
	n, err := s.db.CountRecoveryCodes(ctx, u.ID)
	return t.Confirmed, n, err
}

// checkSecondFactor accepts a TOTP code (once) or an unused recovery code (spending it) of a
// user with TOTP enabled, inside tx; errBadCode otherwise.
func (s *Service) checkSecondFactor(ctx context.Context, tx *store.Tx, userID, code string) error {
	t, err := tx.FindTOTP(ctx, userID)
	if err != nil || !t.Confirmed {
		return errBadCode
	}
	code = strings.TrimSpace(code)
	if len(code) == 6 {
		return s.useTOTPCode(ctx, tx, t, code)
	}
	ok, err := tx.UseRecoveryCode(ctx, userID, hashRecoveryCode(code), s.now())
	if err != nil {
		return err
	} else if !ok {
		return errBadCode
	}
	return nil
}

// useTOTPCode checks code against the steps around now and records the step it matched, so that
// the same code (or an older one) is refused from then on.
func (s *Service) useTOTPCode(ctx context.Context, tx *store.Tx, t *store.TOTP, code string) error {
	secret, err := s.users.Keys.OpenSystem(totpPurpose, []byte(t.UserID), t.Secret)
	if err != nil {
		return err
	}
	defer clear(secret)
	now := s.now().Unix() / totpPeriod
	matched := int64(-1)
	for step := now - totpSkew; step <= now+totpSkew; step++ { // every step: time does not tell which
		want, err := hotp.GenerateCodeCustom(string(secret), uint64(step), totpOpts)
		if err != nil {
			return err
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			matched = step
		}
	}
	if matched < 0 {
		return errBadCode
	}
	ok, err := tx.UseTOTPStep(ctx, t.UserID, matched, s.now())
	if err != nil {
		return err
	} else if !ok {
		return errBadCode // replayed
	}
	return nil
}

// newRecoveryCodes returns recovery codes ("xxxxx-xxxxx", 50 random bits each) and their hashes.
func newRecoveryCodes() (codes []string, hashes [][]byte) {
	enc := base32.StdEncoding.WithPadding(base32.NoPadding)
	for range recoveryCodeCount {
		b := make([]byte, 7)
		if _, err := rand.Read(b); err != nil {
			panic("crypto/rand failed: " + err.Error())
		}
		s := strings.ToLower(enc.EncodeToString(b))[:10]
		code := s[:5] + "-" + s[5:]
		codes = append(codes, code)
		hashes = append(hashes, hashRecoveryCode(code))
	}
	return codes, hashes
}

// hashRecoveryCode hashes a recovery code as typed: case and dashes do not matter.
func hashRecoveryCode(code string) []byte {
	c := strings.ToLower(strings.NewReplacer("-", "", " ", "").Replace(code))
	h := sha256.Sum256([]byte("coffer recovery code\x00" + c))
	return h[:]
}

// TOTPCode returns the current code of a base32 secret (tests and tools).
func TOTPCode(secret string, at time.Time) (string, error) {
	return hotp.GenerateCodeCustom(secret, uint64(at.Unix()/totpPeriod), totpOpts)
}

// Resealer re-seals a SealSystem value under the current root key (internal/keyring.Keyring).
type Resealer interface {
	ResealSystem(purpose string, aad, ciphertext []byte) ([]byte, error)
}

// ResealTOTPSecrets re-seals every stored TOTP secret with the current root key, inside tx: part
// of a root-key rotation (coffer keys rewrap), after which the old root key may be dropped. It
// returns how many it re-sealed.
func ResealTOTPSecrets(ctx context.Context, tx *store.Tx, keys Resealer) (int, error) {
	all, err := tx.AllTOTP(ctx)
	if err != nil {
		return 0, err
	}
	for _, t := range all {
		sealed, err := keys.ResealSystem(totpPurpose, []byte(t.UserID), t.Secret)
		if err != nil {
			return 0, err
		}
		if err := tx.SetTOTPSecret(ctx, t.UserID, sealed); err != nil {
			return 0, err
		}
	}
	return len(all), nil
}
