package httpserver_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/httpserver"
)

// TestCookieCSRFRefusal checks what becomes of an unsafe request by session cookie without the
// session's CSRF token: on an API path the middleware answers 403 with the JSON error body and
// the handler never runs; on any other path (a dashboard form) the handler runs, anonymous,
// with the refusal to answer. With the right token, in the header or the form, the request is
// the session's.
func TestCookieCSRFRefusal(t *testing.T) {
	sess := httpserver.Sessions{Key: []byte("test key 0123456789abcdef0123456")}
	auth := func(_ context.Context, token string, _ netip.Addr) (*coffer.Actor, error) {
		if token != "good-session" {
			return nil, coffer.Errorf(coffer.EUNAUTHORIZED, "bad token")
		}
		return &coffer.Actor{Kind: coffer.ActorUser, ID: "u1", OrgID: "o1", TokenID: "t1"}, nil
	}
	type seen struct {
		ran     bool
		actor   *coffer.Actor
		refused error
	}
	var got seen
	log, _ := newLogger(slog.LevelInfo)
	h := httpserver.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = seen{ran: true, actor: coffer.ActorFromContext(r.Context()), refused: httpserver.Refused(r.Context())}
		w.WriteHeader(http.StatusNoContent)
	}), httpserver.Options{Log: log, Authenticate: auth, Sessions: sess})
	cookie := httpserver.SessionCookie + "=good-session"
	token := sess.CSRFToken("t1")
	form := func(csrf string) *strings.Reader {
		return strings.NewReader(url.Values{"csrf_token": {csrf}, "name": {"x"}}.Encode())
	}
	formType := "application/x-www-form-urlencoded"

	for _, path := range []string{"/api/v1/auth/logout", "/api"} {
		for _, csrf := range []string{"", strings.Repeat("0", 64), sess.CSRFToken("another session")} {
			got = seen{}
			rec := serve(h, http.MethodPost, path, form(csrf), "Cookie", cookie, "Content-Type", formType)
			if rec.Code != http.StatusForbidden || got.ran {
				t.Fatalf("API POST %s with token %q: %d, handler ran %v; want 403 from the middleware", path, csrf, rec.Code, got.ran)
			}
			if b := mustErrBody(t, rec); b.Error != "PermissionDenied" || !strings.Contains(b.Message, "CSRF") {
				t.Errorf("API refusal body: %+v", b)
			}
		}
	}
	for _, path := range []string{"/projects/shop/members", "/logout", "/apiary", "/"} {
		for _, csrf := range []string{"", strings.Repeat("0", 64), sess.CSRFToken("another session")} {
			got = seen{}
			rec := serve(h, http.MethodPost, path, form(csrf), "Cookie", cookie, "Content-Type", formType)
			if rec.Code != http.StatusNoContent || !got.ran || got.actor != nil || coffer.ErrorCode(got.refused) != coffer.EFORBIDDEN {
				t.Fatalf("page POST %s with token %q: %d, handler ran %v, actor %v, refused %v; want an anonymous request carrying the refusal",
					path, csrf, rec.Code, got.ran, got.actor, got.refused)
			}
		}
	}
	// The right token, as a form field or a header; a safe method needs none.
	for _, c := range []struct {
		method, path, csrf string
		header             []string
	}{
		{http.MethodPost, "/projects/shop/members", token, nil},
		{http.MethodPost, "/api/v1/auth/logout", token, nil},
		{http.MethodDelete, "/api/v1/x", "", []string{httpserver.CSRFHeader, token}},
		{http.MethodGet, "/projects/shop/members", "", nil},
	} {
		got = seen{}
		hdr := append([]string{"Cookie", cookie, "Content-Type", formType}, c.header...)
		serve(h, c.method, c.path, form(c.csrf), hdr...)
		if !got.ran || got.actor == nil || got.actor.ID != "u1" || got.refused != nil {
			t.Errorf("%s %s with the session's token: actor %v, refused %v", c.method, c.path, got.actor, got.refused)
		}
	}
}
