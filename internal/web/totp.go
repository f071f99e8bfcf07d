package web

import (
	"html/template"
	"net/http"
	"strings"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/httpserver"
	"github.com/cofferhq/coffer/internal/identity"
)

// Turning on a second factor: from the account page when signed in, or during sign-in when the
// organization enforces MFA and the account has none (then the sign-in's enrolment token, sealed
// to this browser like the TOTP step, stands in for the session until the code is confirmed).

const enrolMarker = "\x01enrol" // the sealed step of an enrolment, not of a password sign-in

type enrolData struct {
	Secret string
	URI    template.URL // otpauth://…, which html/template would otherwise refuse
	State  string       // signed out: the sealed enrolment token
	Next   string
	Codes  []string // recovery codes, after confirmation: shown once
}

// enrolPage starts an enrolment and shows the secret to add to an authenticator app.
func (wb *Web) enrolPage(w http.ResponseWriter, r *http.Request, mfaToken string, d enrolData, status int, msg string) error {
	e, err := wb.Identity.EnrollTOTP(r.Context(), mfaToken)
	if err != nil {
		if m, ok := userMessage(err); ok && signedIn(r) {
			return wb.renderSessions(w, r, httpserver.StatusOf(coffer.ErrorCode(err)), m, "")
		}
		return err
	}
	d.Secret, d.URI = e.Secret, otpauthURI(e.URI)
	wb.render(w, r, status, "enrol", &view{Title: "Two-factor authentication", Nav: "account", CSRF: wb.anonCSRF(w, r), Error: msg, D: d})
	return nil
}

// startEnrolment (signed in) shows a new secret to confirm.
func (wb *Web) startEnrolment(w http.ResponseWriter, r *http.Request) error {
	return wb.enrolPage(w, r, "", enrolData{}, http.StatusOK, "")
}

// confirmEnrolment checks the first code and shows the recovery codes once; signed out, it also
// opens the session the sign-in was waiting for.
func (wb *Web) confirmEnrolment(w http.ResponseWriter, r *http.Request) error {
	if err := wb.checkAnon(r); err != nil {
		return err
	}
	d := enrolData{State: r.PostFormValue("state"), Next: nextPath(r.PostFormValue("next"))}
	mfaToken := ""
	if !signedIn(r) {
		c, _ := r.Cookie(preSessionCookie) // checked above
		marker, tok, err := wb.openStep(c.Value, d.State)
		if err != nil || marker != enrolMarker {
			wb.render(w, r, http.StatusUnauthorized, "login", &view{Title: "Sign in", CSRF: wb.preSessionToken(w, r),
				Error: "The sign-in took too long: start again.", D: loginData{Next: d.Next}})
			return nil
		}
		mfaToken = tok
	}
	in := identity.LoginInput{IP: httpserver.ClientIP(r), UserAgent: r.UserAgent()}
	res, err := wb.Identity.ConfirmTOTP(r.Context(), mfaToken, strings.TrimSpace(r.PostFormValue("code")), in)
	if err != nil {
		msg, ok := userMessage(err)
		if !ok {
			return err
		}
		// The enrolled secret stays the same until confirmed: show it again.
		d.Secret, d.URI = r.PostFormValue("secret"), otpauthURI(r.PostFormValue("uri"))
		wb.render(w, r, httpserver.StatusOf(coffer.ErrorCode(err)), "enrol", &view{Title: "Two-factor authentication",
			Nav: "account", CSRF: wb.anonCSRF(w, r), Error: msg, D: d})
		return nil
	}
	if res.Session != nil {
		wb.Sessions.SetCookie(w, res.Session.Token, res.Session.Record.ID, res.Session.ExpiresIn(wb.Identity.Now()))
	}
	wb.render(w, r, http.StatusOK, "enrol", &view{Title: "Recovery codes", Nav: "account",
		D: enrolData{Codes: res.RecoveryCodes, Next: d.Next}})
	return nil
}

// enrolAtSignIn starts the enrolment an MFA-enforcing organization requires before a session.
func (wb *Web) enrolAtSignIn(w http.ResponseWriter, r *http.Request, mfaToken, next string) error {
	c, err := r.Cookie(preSessionCookie)
	if err != nil {
		return coffer.Errorf(coffer.EFORBIDDEN, "Missing or invalid CSRF token: reload the page and try again")
	}
	state, err := wb.sealStep(c.Value, enrolMarker, mfaToken)
	if err != nil {
		return err
	}
	return wb.enrolPage(w, r, mfaToken, enrolData{State: state, Next: next}, http.StatusOK, "")
}

// otpauthURI returns u as a URL a page may link to when it is an otpauth:// URI, "" otherwise.
func otpauthURI(u string) template.URL {
	if !strings.HasPrefix(u, "otpauth://") {
		return ""
	}
	return template.URL(u)
}

// disableTOTP turns the second factor off (password and a code needed).
func (wb *Web) disableTOTP(w http.ResponseWriter, r *http.Request) error {
	if err := wb.Identity.DisableTOTP(r.Context(), r.PostFormValue("password"), strings.TrimSpace(r.PostFormValue("code"))); err != nil {
		if msg, ok := userMessage(err); ok {
			return wb.renderSessions(w, r, httpserver.StatusOf(coffer.ErrorCode(err)), msg, "")
		}
		return err
	}
	return wb.renderSessions(w, r, http.StatusOK, "", "Two-factor authentication is off.")
}
