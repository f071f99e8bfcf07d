package httpserver

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/netip"
	"strings"

	"github.com/cofferhq/coffer"
)

// The dashboard's session: the same access token a CLI gets, held in an HttpOnly cookie, with a
// CSRF token bound to it (synchronizer pattern without server state: the CSRF token is an HMAC
// of the session's token id under a server key, so it changes with every session and cannot be
// made without the key).
const (
	SessionCookie = "coffer_session"
	CSRFHeader    = "X-CSRF-Token"
	CSRFField     = "csrf_token" // form field, for HTML forms
)

// Sessions sets the session cookie and makes and checks CSRF tokens.
type Sessions struct {
	// Key signs CSRF tokens (derived from the auth secret). Empty: cookies are not accepted.
	Key []byte
	// Secure marks the cookie Secure: set when the public URL is https.
	Secure bool
}

// CSRFToken returns the CSRF token of the session with this token id.
func (s Sessions) CSRFToken(tokenID string) string {
	m := hmac.New(sha256.New, s.Key)
	m.Write([]byte("coffer csrf\x00" + tokenID))
	return hex.EncodeToString(m.Sum(nil))
}

// SetCookie sets the session cookie to token for maxAge seconds and returns the session's CSRF
// token, which the page must send back in X-CSRF-Token (or the csrf_token form field) with
// every unsafe request.
func (s Sessions) SetCookie(w http.ResponseWriter, token, tokenID string, maxAge int) string {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: token, Path: "/", MaxAge: maxAge, HttpOnly: true,
		Secure: s.Secure, SameSite: http.SameSiteLaxMode})
	return s.CSRFToken(tokenID)
}

// ClearCookie removes the session cookie.
func (s Sessions) ClearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: s.Secure, SameSite: http.SameSiteLaxMode})
}

type csrfKey struct{}

// CSRFToken returns the CSRF token of the request's cookie session, for a page to embed in its
// forms; "" when the request did not come with a session cookie.
func CSRFToken(r *http.Request) string {
	t, _ := r.Context().Value(csrfKey{}).(string)
	return t
}

// FromCookie reports whether the request was authenticated by the session cookie.
func FromCookie(ctx context.Context) bool { return ctx.Value(csrfKey{}) != nil }

// safeMethod reports whether a method changes nothing (RFC 9110 9.2.1).
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions || m == http.MethodTrace
}

type refusedKey struct{}

// Refused returns why the middleware did not authenticate a page request by its session
// cookie: an unsafe request without the session's CSRF token (a form opened in an earlier
// session, or posted from another site). nil when it did not refuse the request.
//
// The middleware answers such a request for the API (a path under /api/) itself, with the
// JSON error body. A request for any other path goes on anonymous, carrying the refusal, so
// that the dashboard can answer with a page (see web.Web): a handler must answer it with an
// error and act on nothing. One that overlooks it serves an anonymous request, which is all a
// request without the cookie would get.
func Refused(ctx context.Context) error {
	err, _ := ctx.Value(refusedKey{}).(error)
	return err
}

// apiPath reports whether a path is the API's (under /api/), whose refusals are JSON error
// bodies; any other path is the dashboard's or a probe's.
func apiPath(path string) bool { return path == "/api" || strings.HasPrefix(path, "/api/") }

// authenticateCookie authenticates a request by its session cookie. A cookie that does not
// authenticate leaves the request anonymous (a stale cookie must not break sign-in). An unsafe
// request authenticated by the cookie needs the session's CSRF token, or it is refused: with
// an error for the API, anonymous and carrying the refusal for a page (see Refused).
func (s *stack) authenticateCookie(r *http.Request, ip netip.Addr) (*http.Request, error) {
	sess := s.opt.Sessions
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" || len(sess.Key) == 0 {
		return r, nil
	}
	a, err := s.opt.Authenticate(r.Context(), c.Value, ip)
	if err != nil || a == nil {
		return r, nil
	}
	want := sess.CSRFToken(a.TokenID)
	if !safeMethod(r.Method) {
		got := r.Header.Get(CSRFHeader)
		if got == "" {
			got = r.PostFormValue(CSRFField) // forms; JSON bodies are not parsed
		}
		if !hmac.Equal([]byte(got), []byte(want)) {
			err := coffer.Errorf(coffer.EFORBIDDEN, "Missing or invalid CSRF token: send the session's token in the %s header", CSRFHeader)
			if apiPath(r.URL.Path) {
				return r, err
			}
			return r.WithContext(context.WithValue(r.Context(), refusedKey{}, err)), nil
		}
	}
	actor := *a
	actor.IP = ip
	actor.UserAgent = r.UserAgent()
	ctx := context.WithValue(coffer.NewContextWithActor(r.Context(), &actor), csrfKey{}, want)
	return r.WithContext(ctx), nil
}
