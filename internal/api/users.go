package api

import (
	"net/http"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/httpserver"
	"github.com/cofferhq/coffer/internal/identity"
	"github.com/cofferhq/coffer/internal/members"
	"github.com/cofferhq/coffer/internal/store"
)

// userRoutes registers the routes of users' sign-in, sessions, second factor, password reset,
// sign-up, organization members and invitations.
func (a *API) userRoutes(public, handle func(string, httpserver.HandlerFunc)) {
	public("POST /api/v1/auth/login", a.login)
	public("POST /api/v1/auth/signup", a.signup)
	public("POST /api/v1/auth/password/reset/request", a.requestPasswordReset)
	public("POST /api/v1/auth/password/reset", a.resetPassword)
	// Enrolment works with a session or with the enrolment token of an MFA-enforcing sign-in.
	public("POST /api/v1/auth/totp/enroll", a.enrollTOTP)
	public("POST /api/v1/auth/totp/confirm", a.confirmTOTP)
	public("POST /api/v1/invitations/accept", a.acceptInvitation)

	handle("POST /api/v1/auth/logout", a.logout)
	handle("GET /api/v1/auth/sessions", a.listSessions)
	handle("DELETE /api/v1/auth/sessions", a.revokeOtherSessions)
	handle("DELETE /api/v1/auth/sessions/{id}", a.revokeSession)
	handle("POST /api/v1/auth/password/change", a.changePassword)
	handle("GET /api/v1/auth/totp", a.totpStatus)
	handle("POST /api/v1/auth/totp/disable", a.disableTOTP)

	const org = "/api/v1/organizations/{orgId}"
	handle("GET "+org, a.getOrganization)
	handle("PATCH "+org, a.updateOrganization)
	handle("GET "+org+"/members", a.listMembers)
	handle("PATCH "+org+"/members/{userId}", a.setMemberRole)
	handle("DELETE "+org+"/members/{userId}", a.removeMember)
	handle("POST "+org+"/invitations", a.invite)
	handle("GET "+org+"/invitations", a.listInvitations)
	handle("DELETE "+org+"/invitations/{invitationId}", a.revokeInvitation)
}

func loginInput(r *http.Request) identity.LoginInput {
	return identity.LoginInput{IP: httpserver.ClientIP(r), UserAgent: r.UserAgent()}
}

// writeLogin answers a sign-in: {accessToken, expiresIn}, or with cookie the session as an
// HttpOnly cookie and {expiresIn, csrfToken}, or {mfaRequired: true} (with enrollmentRequired
// and mfaToken when the organization enforces MFA and the user has none).
func (a *API) writeLogin(w http.ResponseWriter, r *http.Request, res *identity.LoginResult, cookie bool) {
	if res.Session == nil {
		body := map[string]any{"mfaRequired": true}
		if res.EnrollmentRequired {
			body["enrollmentRequired"] = true
			body["mfaToken"] = res.MFAToken
		}
		httpserver.WriteJSON(w, r, http.StatusOK, body)
		return
	}
	exp := res.Session.ExpiresIn(a.Identity.Now())
	if cookie {
		csrf := a.Sessions.SetCookie(w, res.Session.Token, res.Session.Record.ID, exp)
		httpserver.WriteJSON(w, r, http.StatusOK, map[string]any{"expiresIn": exp, "csrfToken": csrf})
		return
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]any{"accessToken": res.Session.Token, "expiresIn": exp})
}

func (a *API) login(w http.ResponseWriter, r *http.Request) error {
	var b struct {
		Email    string `json:"email"`
		Password string `json:"password"`
		TOTPCode string `json:"totpCode"`
		Cookie   bool   `json:"cookie"` // the dashboard: session in a cookie, not in the body
	}
	if err := httpserver.DecodeJSON(r, &b); err != nil {
		return err
	}
	in := loginInput(r)
	in.Email, in.Password, in.TOTPCode = b.Email, b.Password, b.TOTPCode
	res, err := a.Identity.SignIn(r.Context(), in)
	if err != nil {
		return err
	}
	a.writeLogin(w, r, res, b.Cookie)
	return nil
}

func (a *API) signup(w http.ResponseWriter, r *http.Request) error {
	var b struct {
		Email            string `json:"email"`
		Name             string `json:"name"`
		Password         string `json:"password"`
		OrganizationName string `json:"organizationName"`
		Cookie           bool   `json:"cookie"`
	}
	if err := httpserver.DecodeJSON(r, &b); err != nil {
		return err
	}
	res, err := a.Members.Signup(r.Context(), b.Email, b.Name, b.Password, b.OrganizationName, loginInput(r))
	if err != nil {
		return err
	}
	a.writeLogin(w, r, res, b.Cookie)
	return nil
}

func (a *API) logout(w http.ResponseWriter, r *http.Request) error {
	if err := a.Identity.Logout(r.Context()); err != nil {
		return err
	}
	a.Sessions.ClearCookie(w)
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]string{"message": "Signed out"})
	return nil
}

func (a *API) requestPasswordReset(w http.ResponseWriter, r *http.Request) error {
	var b struct {
		Email string `json:"email"`
	}
	if err := httpserver.DecodeJSON(r, &b); err != nil {
		return err
	}
	if err := a.Identity.RequestPasswordReset(r.Context(), b.Email); err != nil {
		return err
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]string{"message": "If an account has this e-mail address, a reset link is on its way"})
	return nil
}

func (a *API) resetPassword(w http.ResponseWriter, r *http.Request) error {
	var b struct {
		Token       string `json:"token"`
		NewPassword string `json:"newPassword"`
	}
	if err := httpserver.DecodeJSON(r, &b); err != nil {
		return err
	}
	if err := a.Identity.ResetPassword(r.Context(), b.Token, b.NewPassword); err != nil {
		return err
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]string{"message": "Password changed; every session was signed out"})
	return nil
}

func (a *API) changePassword(w http.ResponseWriter, r *http.Request) error {
	var b struct {
		CurrentPassword string `json:"currentPassword"`
		NewPassword     string `json:"newPassword"`
	}
	if err := httpserver.DecodeJSON(r, &b); err != nil {
		return err
	}
	if err := a.Identity.ChangePassword(r.Context(), b.CurrentPassword, b.NewPassword); err != nil {
		return err
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]string{"message": "Password changed; other sessions were signed out"})
	return nil
}

func (a *API) listSessions(w http.ResponseWriter, r *http.Request) error {
	ss, err := a.Identity.ListSessions(r.Context())
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(ss))
	for _, s := range ss {
		out = append(out, map[string]any{"id": s.ID, "ip": s.IP, "userAgent": s.UserAgent, "createdAt": isoTime(s.CreatedAt),
			"expiresAt": isoTime(s.ExpiresAt), "current": s.Current})
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]any{"sessions": out})
	return nil
}

func (a *API) revokeSession(w http.ResponseWriter, r *http.Request) error {
	if err := a.Identity.RevokeSession(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]string{"message": "Session revoked"})
	return nil
}

func (a *API) revokeOtherSessions(w http.ResponseWriter, r *http.Request) error {
	n, err := a.Identity.RevokeOtherSessions(r.Context())
	if err != nil {
		return err
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]any{"message": "Other sessions revoked", "revoked": n})
	return nil
}

func (a *API) enrollTOTP(w http.ResponseWriter, r *http.Request) error {
	var b struct {
		MFAToken string `json:"mfaToken"`
	}
	if err := httpserver.DecodeJSON(r, &b); err != nil {
		return err
	}
	if b.MFAToken == "" && coffer.ActorFromContext(r.Context()) == nil {
		return coffer.Errorf(coffer.EUNAUTHORIZED, "Token missing")
	}
	e, err := a.Identity.EnrollTOTP(r.Context(), b.MFAToken)
	if err != nil {
		return err
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]string{"secret": e.Secret, "otpauthUri": e.URI})
	return nil
}

func (a *API) confirmTOTP(w http.ResponseWriter, r *http.Request) error {
	var b struct {
		MFAToken string `json:"mfaToken"`
		Code     string `json:"code"`
		Cookie   bool   `json:"cookie"`
	}
	if err := httpserver.DecodeJSON(r, &b); err != nil {
		return err
	}
	if b.MFAToken == "" && coffer.ActorFromContext(r.Context()) == nil {
		return coffer.Errorf(coffer.EUNAUTHORIZED, "Token missing")
	}
	c, err := a.Identity.ConfirmTOTP(r.Context(), b.MFAToken, b.Code, loginInput(r))
	if err != nil {
		return err
	}
	body := map[string]any{"recoveryCodes": c.RecoveryCodes}
	if c.Session != nil {
		exp := c.Session.ExpiresIn(a.Identity.Now())
		body["expiresIn"] = exp
		if b.Cookie {
			body["csrfToken"] = a.Sessions.SetCookie(w, c.Session.Token, c.Session.Record.ID, exp)
		} else {
			body["accessToken"] = c.Session.Token
		}
	}
	httpserver.WriteJSON(w, r, http.StatusOK, body)
	return nil
}

func (a *API) totpStatus(w http.ResponseWriter, r *http.Request) error {
	on, left, err := a.Identity.TOTPStatus(r.Context())
	if err != nil {
		return err
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]any{"enabled": on, "recoveryCodesLeft": left})
	return nil
}

func (a *API) disableTOTP(w http.ResponseWriter, r *http.Request) error {
	var b struct {
		Password string `json:"password"`
		Code     string `json:"code"`
	}
	if err := httpserver.DecodeJSON(r, &b); err != nil {
		return err
	}
	if err := a.Identity.DisableTOTP(r.Context(), b.Password, b.Code); err != nil {
		return err
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]string{"message": "Two-factor authentication disabled"})
	return nil
}

func wireSettings(s *members.Settings) map[string]any {
	return map[string]any{"organization": map[string]any{"id": s.Org.ID, "name": s.Org.Name, "slug": s.Org.Slug,
		"enforceMfa": s.EnforceMFA, "createdAt": isoTime(s.Org.CreatedAt), "updatedAt": isoTime(s.Org.UpdatedAt)}}
}

func (a *API) getOrganization(w http.ResponseWriter, r *http.Request) error {
	s, err := a.Members.GetSettings(r.Context(), r.PathValue("orgId"))
	if err != nil {
		return err
	}
	httpserver.WriteJSON(w, r, http.StatusOK, wireSettings(s))
	return nil
}

func (a *API) updateOrganization(w http.ResponseWriter, r *http.Request) error {
	var b struct {
		EnforceMFA *bool `json:"enforceMfa"`
	}
	if err := httpserver.DecodeJSON(r, &b); err != nil {
		return err
	}
	if b.EnforceMFA == nil {
		return coffer.Errorf(coffer.EVALIDATION, "enforceMfa: required")
	}
	s, err := a.Members.SetEnforceMFA(r.Context(), r.PathValue("orgId"), *b.EnforceMFA)
	if err != nil {
		return err
	}
	httpserver.WriteJSON(w, r, http.StatusOK, wireSettings(s))
	return nil
}

func wireOrgMembership(m *coffer.Membership) map[string]any {
	return map[string]any{"id": m.ID, "orgId": m.ScopeID, "userId": m.ActorID, "role": m.Role,
		"createdAt": isoTime(m.CreatedAt), "updatedAt": isoTime(m.UpdatedAt)}
}

func (a *API) listMembers(w http.ResponseWriter, r *http.Request) error {
	ms, err := a.Members.ListMembers(r.Context(), r.PathValue("orgId"))
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(ms))
	for _, m := range ms {
		wm := wireOrgMembership(&m.Membership)
		wm["user"] = map[string]any{"id": m.ActorID, "email": m.Email, "name": m.Name, "mfaEnabled": m.MFAEnabled}
		out = append(out, wm)
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]any{"members": out})
	return nil
}

func (a *API) setMemberRole(w http.ResponseWriter, r *http.Request) error {
	var b struct {
		Role string `json:"role"`
	}
	if err := httpserver.DecodeJSON(r, &b); err != nil {
		return err
	}
	m, err := a.Members.SetRole(r.Context(), r.PathValue("orgId"), r.PathValue("userId"), b.Role)
	if err != nil {
		return err
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]any{"membership": wireOrgMembership(m)})
	return nil
}

func (a *API) removeMember(w http.ResponseWriter, r *http.Request) error {
	m, err := a.Members.RemoveMember(r.Context(), r.PathValue("orgId"), r.PathValue("userId"))
	if err != nil {
		return err
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]any{"membership": wireOrgMembership(m)})
	return nil
}

func wireInvitation(inv *store.Invitation) map[string]any {
	return map[string]any{"id": inv.ID, "orgId": inv.OrgID, "email": inv.Email, "role": inv.Role, "invitedBy": inv.InvitedBy,
		"expiresAt": isoTime(inv.ExpiresAt), "createdAt": isoTime(inv.CreatedAt)}
}

func (a *API) invite(w http.ResponseWriter, r *http.Request) error {
	var b struct {
		Email string `json:"email"`
		Role  string `json:"role"`
	}
	if err := httpserver.DecodeJSON(r, &b); err != nil {
		return err
	}
	inv, err := a.Members.Invite(r.Context(), r.PathValue("orgId"), b.Email, b.Role)
	if err != nil {
		return err
	}
	body := map[string]any{"invitation": wireInvitation(inv.Invitation)}
	if inv.Link != "" { // no e-mail configured: the admin hands the link over
		body["inviteLink"] = inv.Link
	}
	httpserver.WriteJSON(w, r, http.StatusOK, body)
	return nil
}

func (a *API) listInvitations(w http.ResponseWriter, r *http.Request) error {
	invs, err := a.Members.ListInvitations(r.Context(), r.PathValue("orgId"))
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(invs))
	for _, inv := range invs {
		out = append(out, wireInvitation(inv))
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]any{"invitations": out})
	return nil
}

func (a *API) revokeInvitation(w http.ResponseWriter, r *http.Request) error {
	if err := a.Members.RevokeInvitation(r.Context(), r.PathValue("orgId"), r.PathValue("invitationId")); err != nil {
		return err
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]string{"message": "Invitation revoked"})
	return nil
}

func (a *API) acceptInvitation(w http.ResponseWriter, r *http.Request) error {
	var b struct {
		Token    string `json:"token"`
		Name     string `json:"name"`
		Password string `json:"password"`
		Cookie   bool   `json:"cookie"`
	}
	if err := httpserver.DecodeJSON(r, &b); err != nil {
		return err
	}
	res, err := a.Members.AcceptInvitation(r.Context(), b.Token, b.Name, b.Password, loginInput(r))
	if err != nil {
		return err
	}
	a.writeLogin(w, r, res, b.Cookie)
	return nil
}
