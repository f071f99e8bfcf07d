package web

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/httpserver"
	"github.com/cofferhq/coffer/internal/identity"
)

// Forms shown before there is a session (sign-in, setup) are protected by a pre-session
// cookie: a random value in an HttpOnly, SameSite=Strict cookie, and as CSRF token the HMAC of
// that value under the session key (in its own namespace, so it is never a session's token).
// A cross-site page can neither read the cookie nor make the token.
const preSessionCookie = "coffer_presession"

// mfaStepTTL is how long the second step of a sign-in (the TOTP code) may wait.
const mfaStepTTL = 5 * time.Minute

// preSessionToken returns the CSRF token of the request's pre-session cookie, setting a new
// cookie when there is none.
func (wb *Web) preSessionToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(preSessionCookie); err == nil && len(c.Value) == 64 {
		return wb.Sessions.CSRFToken("presession:" + c.Value)
	}
	var b [32]byte
	rand.Read(b[:])
	v := hex.EncodeToString(b[:])
	http.SetCookie(w, &http.Cookie{Name: preSessionCookie, Value: v, Path: "/", HttpOnly: true,
		Secure: wb.Sessions.Secure, SameSite: http.SameSiteStrictMode})
	return wb.Sessions.CSRFToken("presession:" + v)
}

// checkPreSession refuses a signed-out form post whose CSRF token does not match its
// pre-session cookie.
func (wb *Web) checkPreSession(r *http.Request) error {
	c, err := r.Cookie(preSessionCookie)
	got := r.PostFormValue(httpserver.CSRFField)
	if err != nil || len(c.Value) != 64 || len(wb.Sessions.Key) == 0 ||
		!hmac.Equal([]byte(got), []byte(wb.Sessions.CSRFToken("presession:"+c.Value))) {
		return coffer.Errorf(coffer.EFORBIDDEN, "Missing or invalid CSRF token: reload the page and try again")
	}
	return nil
}

// signedIn reports whether the request carries a user session.
func signedIn(r *http.Request) bool {
	a := coffer.ActorFromContext(r.Context())
	return a != nil && httpserver.FromCookie(r.Context())
}

// nextPath returns the local path to go to after signing in ("/" unless next is one).
func nextPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

type loginData struct {
	Email, Next string
	OpenSignup  bool   // anyone may sign up: link to it
	MFAState    string // the sealed first step, on the TOTP step
}

func (wb *Web) loginPage(w http.ResponseWriter, r *http.Request) error {
	if signedIn(r) {
		return redirect(w, r, nextPath(r.URL.Query().Get("next")))
	}
	if ok, err := wb.Bootstrapped(r.Context()); err != nil {
		return err
	} else if !ok {
		return redirect(w, r, "/setup")
	}
	wb.render(w, r, http.StatusOK, "login", &view{Title: "Sign in", CSRF: wb.preSessionToken(w, r),
		D: loginData{Next: nextPath(r.URL.Query().Get("next")), OpenSignup: wb.Members.OpenSignup()}})
	return nil
}

type signupData struct{ Email, Name, Organization string }

// signupPage is open sign-up (COFFER_SIGNUP=open): a new account with its own organization.
func (wb *Web) signupPage(w http.ResponseWriter, r *http.Request) error {
	if !wb.Members.OpenSignup() {
		return coffer.Errorf(coffer.ENOTFOUND, "Sign-up is by invitation only")
	}
	wb.render(w, r, http.StatusOK, "signup", &view{Title: "Create your account", CSRF: wb.anonCSRF(w, r), D: signupData{}})
	return nil
}

func (wb *Web) signup(w http.ResponseWriter, r *http.Request) error {
	if err := wb.checkAnon(r); err != nil {
		return err
	}
	d := signupData{Email: strings.TrimSpace(r.PostFormValue("email")), Name: strings.TrimSpace(r.PostFormValue("name")),
		Organization: strings.TrimSpace(r.PostFormValue("organization"))}
	in := identity.LoginInput{IP: httpserver.ClientIP(r), UserAgent: r.UserAgent()}
	res, err := wb.Members.Signup(r.Context(), d.Email, d.Name, r.PostFormValue("password"), d.Organization, in)
	if err != nil {
		msg, ok := userMessage(err)
		if !ok {
			return err
		}
		wb.render(w, r, httpserver.StatusOf(coffer.ErrorCode(err)), "signup", &view{Title: "Create your account",
			CSRF: wb.anonCSRF(w, r), Error: msg, D: d})
		return nil
	}
	if res.Session == nil {
		return redirect(w, r, "/login")
	}
	wb.Sessions.SetCookie(w, res.Session.Token, res.Session.Record.ID, res.Session.ExpiresIn(wb.Identity.Now()))
	return redirect(w, r, "/projects")
}

func (wb *Web) login(w http.ResponseWriter, r *http.Request) error {
	if err := wb.checkPreSession(r); err != nil {
		return err
	}
	d := loginData{Email: r.PostFormValue("email"), Next: nextPath(r.PostFormValue("next"))}
	in := identity.LoginInput{Email: d.Email, Password: r.PostFormValue("password"),
		IP: httpserver.ClientIP(r), UserAgent: r.UserAgent()}
	return wb.signIn(w, r, in, d, "login")
}

// signIn signs in with in and answers: the session cookie and a redirect, the TOTP step, or
// the form again with the error.
func (wb *Web) signIn(w http.ResponseWriter, r *http.Request, in identity.LoginInput, d loginData, page string) error {
	res, err := wb.Identity.SignIn(r.Context(), in)
	if err != nil {
		msg, ok := userMessage(err)
		if !ok {
			return err
		}
		wb.render(w, r, httpserver.StatusOf(coffer.ErrorCode(err)), page, &view{Title: "Sign in",
			CSRF: wb.preSessionToken(w, r), Error: msg, D: d})
		return nil
	}
	switch {
	case res.Session != nil:
		wb.Sessions.SetCookie(w, res.Session.Token, res.Session.Record.ID, res.Session.ExpiresIn(wb.Identity.Now()))
		return redirect(w, r, d.Next)
	case res.EnrollmentRequired:
		return wb.enrolAtSignIn(w, r, res.MFAToken, d.Next)
	}
	c, err := r.Cookie(preSessionCookie)
	if err != nil {
		return coffer.Errorf(coffer.EFORBIDDEN, "Missing or invalid CSRF token: reload the page and try again")
	}
	d.MFAState, err = wb.sealStep(c.Value, in.Email, in.Password)
	if err != nil {
		return err
	}
	wb.render(w, r, http.StatusOK, "totp", &view{Title: "Two-factor code", CSRF: wb.preSessionToken(w, r), D: d})
	return nil
}

func (wb *Web) loginTOTP(w http.ResponseWriter, r *http.Request) error {
	if err := wb.checkPreSession(r); err != nil {
		return err
	}
	c, _ := r.Cookie(preSessionCookie) // checked above
	email, password, err := wb.openStep(c.Value, r.PostFormValue("state"))
	if err != nil {
		wb.render(w, r, http.StatusUnauthorized, "login", &view{Title: "Sign in", CSRF: wb.preSessionToken(w, r),
			Error: "The sign-in took too long: enter your password again.", D: loginData{Next: nextPath(r.PostFormValue("next"))}})
		return nil
	}
	d := loginData{Email: email, Next: nextPath(r.PostFormValue("next")), MFAState: r.PostFormValue("state")}
	in := identity.LoginInput{Email: email, Password: password, TOTPCode: strings.TrimSpace(r.PostFormValue("code")),
		IP: httpserver.ClientIP(r), UserAgent: r.UserAgent()}
	if in.TOTPCode == "" {
		wb.render(w, r, http.StatusUnprocessableEntity, "totp", &view{Title: "Two-factor code", CSRF: wb.preSessionToken(w, r),
			Error: "code: enter the code from your authenticator app or a recovery code", D: d})
		return nil
	}
	return wb.signIn(w, r, in, d, "totp")
}

// stepKey is the AES key that seals the first step of a sign-in between its two forms.
func (wb *Web) stepKey() []byte {
	m := hmac.New(sha256.New, wb.Sessions.Key)
	m.Write([]byte("coffer web sign-in step"))
	return m.Sum(nil)
}

// sealStep seals the e-mail and password of a sign-in's first step, bound to the pre-session
// cookie and valid for mfaStepTTL, so the TOTP form can finish the sign-in without the server
// keeping state or the page holding the password in the clear.
func (wb *Web) sealStep(bind, email, password string) (string, error) {
	block, err := aes.NewCipher(wb.stepKey())
	if err != nil {
		return "", err
	}
	g, err := cipher.NewGCM(block)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, g.NonceSize())
	rand.Read(nonce)
	exp := strconv.FormatInt(wb.Identity.Now().Add(mfaStepTTL).Unix(), 10)
	out := g.Seal(nonce, nonce, []byte(exp+"\x00"+email+"\x00"+password), []byte(bind))
	return base64.RawURLEncoding.EncodeToString(out), nil
}

func (wb *Web) openStep(bind, state string) (email, password string, err error) {
	bad := coffer.Errorf(coffer.EUNAUTHORIZED, "sign-in step expired")
	raw, err := base64.RawURLEncoding.DecodeString(state)
	if err != nil {
		return "", "", bad
	}
	block, err := aes.NewCipher(wb.stepKey())
	if err != nil {
		return "", "", err
	}
	g, err := cipher.NewGCM(block)
	if err != nil {
		return "", "", err
	}
	if len(raw) < g.NonceSize() {
		return "", "", bad
	}
	pt, err := g.Open(nil, raw[:g.NonceSize()], raw[g.NonceSize():], []byte(bind))
	if err != nil {
		return "", "", bad
	}
	parts := strings.SplitN(string(pt), "\x00", 3)
	if len(parts) != 3 {
		return "", "", bad
	}
	exp, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil || wb.Identity.Now().Unix() > exp {
		return "", "", bad
	}
	return parts[1], parts[2], nil
}

type setupData struct{ Email, Organization string }

func (wb *Web) setupPage(w http.ResponseWriter, r *http.Request) error {
	if ok, err := wb.Bootstrapped(r.Context()); err != nil {
		return err
	} else if ok {
		return redirect(w, r, "/login")
	}
	wb.render(w, r, http.StatusOK, "setup", &view{Title: "Set up Coffer", CSRF: wb.preSessionToken(w, r), D: setupData{}})
	return nil
}

// setup makes the first user and organization (the bootstrap service) and signs the user in.
func (wb *Web) setup(w http.ResponseWriter, r *http.Request) error {
	if err := wb.checkPreSession(r); err != nil {
		return err
	}
	d := setupData{Email: r.PostFormValue("email"), Organization: r.PostFormValue("organization")}
	password := r.PostFormValue("password")
	if password != r.PostFormValue("password2") {
		wb.render(w, r, http.StatusUnprocessableEntity, "setup", &view{Title: "Set up Coffer", CSRF: wb.preSessionToken(w, r),
			Error: "password2: the two passwords differ", D: d})
		return nil
	}
	if _, err := wb.Projects.Bootstrap(r.Context(), d.Email, password, d.Organization); err != nil {
		msg, ok := userMessage(err)
		if !ok {
			return err
		}
		wb.render(w, r, httpserver.StatusOf(coffer.ErrorCode(err)), "setup", &view{Title: "Set up Coffer",
			CSRF: wb.preSessionToken(w, r), Error: msg, D: d})
		return nil
	}
	in := identity.LoginInput{Email: d.Email, Password: password, IP: httpserver.ClientIP(r), UserAgent: r.UserAgent()}
	return wb.signIn(w, r, in, loginData{Email: d.Email, Next: "/projects"}, "login")
}

func (wb *Web) logout(w http.ResponseWriter, r *http.Request) error {
	if err := wb.Identity.Logout(r.Context()); err != nil {
		return err
	}
	wb.Sessions.ClearCookie(w)
	return redirect(w, r, "/login")
}
