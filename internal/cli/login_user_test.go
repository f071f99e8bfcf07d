package cli

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/identity"
	"github.com/cofferhq/coffer/internal/servertest"
	"github.com/cofferhq/coffer/internal/store"
)

// TestLoginWithTOTP: `coffer login` of a user with a second factor asks for the code (here on
// standard input after the password), or takes --totp-code; a wrong code fails.
func TestLoginWithTOTP(t *testing.T) {
	n := servertest.Start(t, store.SQLite)
	admin := n.Bootstrap(t)
	var tok struct{ AccessToken string }
	n.Do(t, http.MethodPost, "/api/v1/auth/login", "", map[string]any{"email": admin.Email, "password": admin.Password}).JSON(t, &tok)
	var enr struct{ Secret string }
	n.Do(t, http.MethodPost, "/api/v1/auth/totp/enroll", tok.AccessToken, map[string]any{}).JSON(t, &enr)
	code, _ := identity.TOTPCode(enr.Secret, time.Now())
	if r := n.Do(t, http.MethodPost, "/api/v1/auth/totp/confirm", tok.AccessToken, map[string]any{"code": code}); r.Status != http.StatusOK {
		t.Fatalf("confirm: %d %s", r.Status, r.Body)
	}

	u := newUser(t, n)
	if r := u.run(admin.Password+"\n123456\n", "login", "--email", admin.Email, "--password-stdin"); r.Code == 0 {
		t.Fatalf("login with a wrong code succeeded: %+v", r)
	}
	next, _ := identity.TOTPCode(enr.Secret, time.Now().Add(30*time.Second))
	r := u.run(admin.Password+"\n"+next+"\n", "login", "--email", admin.Email, "--password-stdin")
	if r.Code != 0 || !strings.Contains(r.Stderr, "Two-factor code") {
		t.Fatalf("login with the code on stdin: %+v", r)
	}
	if out := u.must("", "whoami"); !strings.Contains(out, "user") || !strings.Contains(out, "password") {
		t.Errorf("whoami:\n%s", out)
	}
	// --totp-code gives the code up front; a code works once, so the same one again fails.
	if r := u.run(admin.Password+"\n", "login", "--email", admin.Email, "--password-stdin", "--totp-code", next); r.Code == 0 {
		t.Errorf("a replayed code was accepted: %+v", r)
	}
}
