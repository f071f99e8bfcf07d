package client

import (
	"context"
	"net/http"
)

// LoginResult is the answer to a user's sign-in: a token, or what is missing to get one.
type LoginResult struct {
	AccessToken string `json:"accessToken"`
	ExpiresIn   int    `json:"expiresIn"`
	// MFARequired: sign in again with a TOTP or recovery code.
	MFARequired bool `json:"mfaRequired"`
	// EnrollmentRequired: the organization enforces MFA; enrol with MFAToken first.
	EnrollmentRequired bool   `json:"enrollmentRequired"`
	MFAToken           string `json:"mfaToken"`
}

// Login signs a user in with e-mail, password and, when the user has TOTP, a code (or a
// recovery code).
func (c *Client) Login(ctx context.Context, email, password, totpCode string) (*LoginResult, error) {
	var r LoginResult
	body := map[string]string{"email": email, "password": password}
	if totpCode != "" {
		body["totpCode"] = totpCode
	}
	return &r, c.Do(ctx, http.MethodPost, "/api/v1/auth/login", nil, body, &r)
}

// TOTPEnrollment is a new TOTP secret.
type TOTPEnrollment struct {
	Secret     string `json:"secret"`
	OtpauthURI string `json:"otpauthUri"`
}

// EnrollTOTP starts a TOTP enrolment with the enrolment token of a sign-in (or, when empty, the
// client's token).
func (c *Client) EnrollTOTP(ctx context.Context, mfaToken string) (*TOTPEnrollment, error) {
	var r TOTPEnrollment
	return &r, c.Do(ctx, http.MethodPost, "/api/v1/auth/totp/enroll", nil, map[string]string{"mfaToken": mfaToken}, &r)
}

// TOTPConfirmed is the answer to a confirmed enrolment.
type TOTPConfirmed struct {
	RecoveryCodes []string `json:"recoveryCodes"`
	AccessToken   string   `json:"accessToken"` // with an enrolment token: the session
	ExpiresIn     int      `json:"expiresIn"`
}

// ConfirmTOTP confirms an enrolment with a code.
func (c *Client) ConfirmTOTP(ctx context.Context, mfaToken, code string) (*TOTPConfirmed, error) {
	var r TOTPConfirmed
	return &r, c.Do(ctx, http.MethodPost, "/api/v1/auth/totp/confirm", nil, map[string]string{"mfaToken": mfaToken, "code": code}, &r)
}
