package cli

import (
	"bufio"
	"context"
	"fmt"
	"strings"
)

// userLogin signs a user in through POST /api/v1/auth/login, asking for a two-factor code when
// the account has one, and enrolling one when the organization requires it.
func (s *session) userLogin(ctx context.Context, env Env, in *bufio.Reader, email, password, totpCode string) (string, int, error) {
	c := s.anonymous()
	res, err := c.Login(ctx, email, password, totpCode)
	if err != nil {
		return "", 0, err
	}
	if res.MFARequired && !res.EnrollmentRequired {
		if totpCode != "" {
			return "", 0, fmt.Errorf("the server asked for a two-factor code again")
		}
		if totpCode, err = prompt(env, in, "Two-factor code (or a recovery code): "); err != nil {
			return "", 0, err
		}
		if res, err = c.Login(ctx, email, password, totpCode); err != nil {
			return "", 0, err
		}
	}
	if res.EnrollmentRequired {
		e, err := c.EnrollTOTP(ctx, res.MFAToken)
		if err != nil {
			return "", 0, err
		}
		fmt.Fprintf(env.Stderr, "Your organization requires two-factor authentication. Add this account to an authenticator app:\n\n  secret: %s\n  URI:    %s\n\n", e.Secret, e.OtpauthURI)
		code, err := prompt(env, in, "Code from the app: ")
		if err != nil {
			return "", 0, err
		}
		conf, err := c.ConfirmTOTP(ctx, res.MFAToken, code)
		if err != nil {
			return "", 0, err
		}
		fmt.Fprintf(env.Stderr, "\nRecovery codes (each works once; keep them somewhere safe, they are not shown again):\n  %s\n\n", strings.Join(conf.RecoveryCodes, "\n  "))
		return conf.AccessToken, conf.ExpiresIn, nil
	}
	if res.AccessToken == "" {
		return "", 0, fmt.Errorf("the server gave no token")
	}
	return res.AccessToken, res.ExpiresIn, nil
}
