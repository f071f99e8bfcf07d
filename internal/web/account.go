package web

import (
	"net/http"
	"strings"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/httpserver"
	"github.com/cofferhq/coffer/internal/identity"
)

// The pages e-mailed links lead to ({SITE_URL}/reset-password, /invitations/accept,
// /settings/sessions) and the user's own account settings.

// anonCSRF is the CSRF token of a form that works signed out: the session's when signed in
// (the middleware checks it), the pre-session cookie's otherwise.
func (wb *Web) anonCSRF(w http.ResponseWriter, r *http.Request) string {
	if signedIn(r) {
		return httpserver.CSRFToken(r)
	}
	return wb.preSessionToken(w, r)
}

// checkAnon checks the CSRF token of a form that works signed out.
func (wb *Web) checkAnon(r *http.Request) error {
	if signedIn(r) {
		return nil // the middleware checked the session's token
	}
	return wb.checkPreSession(r)
}

type resetData struct {
	Token string // "" : the form that asks for a link
	Email string
}

// resetPasswordPage asks for a reset link, or (with the e-mailed token) for the new password.
func (wb *Web) resetPasswordPage(w http.ResponseWriter, r *http.Request) error {
	wb.render(w, r, http.StatusOK, "reset", &view{Title: "Reset your password", CSRF: wb.anonCSRF(w, r),
		D: resetData{Token: r.URL.Query().Get("token")}})
	return nil
}

func (wb *Web) resetPassword(w http.ResponseWriter, r *http.Request) error {
	if err := wb.checkAnon(r); err != nil {
		return err
	}
	d := resetData{Token: r.PostFormValue("token"), Email: strings.TrimSpace(r.PostFormValue("email"))}
	again := func(err error) error {
		msg, ok := userMessage(err)
		if !ok {
			return err
		}
		wb.render(w, r, httpserver.StatusOf(coffer.ErrorCode(err)), "reset", &view{Title: "Reset your password",
			CSRF: wb.anonCSRF(w, r), Error: msg, D: d})
		return nil
	}
	if d.Token == "" {
		if err := wb.Identity.RequestPasswordReset(r.Context(), d.Email); err != nil {
			return again(err)
		}
		wb.render(w, r, http.StatusOK, "reset", &view{Title: "Reset your password", CSRF: wb.anonCSRF(w, r),
			Notice: "If an account has this e-mail address, a reset link is on its way.", D: resetData{}})
		return nil
	}
	password := r.PostFormValue("password")
	if password != r.PostFormValue("password2") {
		return again(coffer.Errorf(coffer.EVALIDATION, "password2: the two passwords differ"))
	}
	if err := wb.Identity.ResetPassword(r.Context(), d.Token, password); err != nil {
		return again(err)
	}
	wb.Sessions.ClearCookie(w) // every session was signed out
	wb.render(w, r, http.StatusOK, "login", &view{Title: "Sign in", CSRF: wb.preSessionToken(w, r),
		Notice: "Your password was changed and every session signed out: sign in with the new password.", D: loginData{Next: "/"}})
	return nil
}

type acceptData struct{ Token, Name string }

func (wb *Web) acceptInvitationPage(w http.ResponseWriter, r *http.Request) error {
	wb.render(w, r, http.StatusOK, "accept", &view{Title: "Accept the invitation", CSRF: wb.anonCSRF(w, r),
		D: acceptData{Token: r.URL.Query().Get("token")}})
	return nil
}

// acceptInvitation joins the organization (creating the account when the e-mail has none) and
// signs in.
func (wb *Web) acceptInvitation(w http.ResponseWriter, r *http.Request) error {
	if err := wb.checkAnon(r); err != nil {
		return err
	}
	d := acceptData{Token: r.PostFormValue("token"), Name: strings.TrimSpace(r.PostFormValue("name"))}
	in := identity.LoginInput{IP: httpserver.ClientIP(r), UserAgent: r.UserAgent()}
	res, err := wb.Members.AcceptInvitation(r.Context(), d.Token, d.Name, r.PostFormValue("password"), in)
	if err != nil {
		msg, ok := userMessage(err)
		if !ok {
			return err
		}
		wb.render(w, r, httpserver.StatusOf(coffer.ErrorCode(err)), "accept", &view{Title: "Accept the invitation",
			CSRF: wb.anonCSRF(w, r), Error: msg, D: d})
		return nil
	}
	if res.Session == nil { // a second factor is needed: sign in as usual
		wb.render(w, r, http.StatusOK, "login", &view{Title: "Sign in", CSRF: wb.preSessionToken(w, r),
			Notice: "Invitation accepted: sign in to continue.", D: loginData{Next: "/"}})
		return nil
	}
	wb.Sessions.SetCookie(w, res.Session.Token, res.Session.Record.ID, res.Session.ExpiresIn(wb.Identity.Now()))
	return redirect(w, r, "/")
}

type sessionsData struct {
	Sessions      []identity.Session
	TOTP          bool
	RecoveryCodes int
}

// sessionsPage lists the user's sessions (the new-device e-mail links here), with sign-out of
// any of them, the password change and the second factor's state.
func (wb *Web) sessionsPage(w http.ResponseWriter, r *http.Request) error {
	return wb.renderSessions(w, r, http.StatusOK, "", "")
}

func (wb *Web) renderSessions(w http.ResponseWriter, r *http.Request, status int, errMsg, notice string) error {
	ss, err := wb.Identity.ListSessions(r.Context())
	if err != nil {
		return err
	}
	on, left, err := wb.Identity.TOTPStatus(r.Context())
	if err != nil {
		return err
	}
	wb.render(w, r, status, "sessions", &view{Title: "Your account", Nav: "account", Error: errMsg, Notice: notice,
		D: sessionsData{Sessions: ss, TOTP: on, RecoveryCodes: left}})
	return nil
}

func (wb *Web) revokeSession(w http.ResponseWriter, r *http.Request) error {
	id := r.PostFormValue("id")
	if a := coffer.ActorFromContext(r.Context()); a != nil && id == a.TokenID {
		return wb.logout(w, r)
	}
	if err := wb.Identity.RevokeSession(r.Context(), id); err != nil {
		if msg, ok := userMessage(err); ok {
			return wb.renderSessions(w, r, httpserver.StatusOf(coffer.ErrorCode(err)), msg, "")
		}
		return err
	}
	return redirect(w, r, "/settings/sessions")
}

func (wb *Web) revokeOtherSessions(w http.ResponseWriter, r *http.Request) error {
	if _, err := wb.Identity.RevokeOtherSessions(r.Context()); err != nil {
		return err
	}
	return redirect(w, r, "/settings/sessions")
}

func (wb *Web) changePassword(w http.ResponseWriter, r *http.Request) error {
	next := r.PostFormValue("password")
	if next != r.PostFormValue("password2") {
		return wb.renderSessions(w, r, http.StatusUnprocessableEntity, "password2: the two passwords differ", "")
	}
	if err := wb.Identity.ChangePassword(r.Context(), r.PostFormValue("current"), next); err != nil {
		if msg, ok := userMessage(err); ok {
			return wb.renderSessions(w, r, httpserver.StatusOf(coffer.ErrorCode(err)), msg, "")
		}
		return err
	}
	return wb.renderSessions(w, r, http.StatusOK, "", "Password changed; your other sessions were signed out.")
}
