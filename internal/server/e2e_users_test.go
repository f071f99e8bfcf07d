package server_test

import (
	"database/sql"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/identity"
	"github.com/cofferhq/coffer/internal/servertest"
	"github.com/cofferhq/coffer/internal/store"
	"github.com/cofferhq/coffer/internal/testenv"
)

const smtpPassword = "smtp-password-7f3a9c"

// usersNode starts a bootstrapped node that sends mail to a fresh mailpit, with SMTP AUTH.
func usersNode(t *testing.T, dialect string, configure ...func(*config.Config)) (*servertest.Node, *testenv.Mailpit, *servertest.Admin) {
	t.Helper()
	mp := testenv.StartMailpit(t)
	n := servertest.StartWith(t, dialect, func(c *config.Config) {
		c.SMTPHost, c.SMTPPort, c.SMTPTLS = mp.SMTPHost(), int64(mp.SMTPPort()), "none"
		c.SMTPUsername, c.SMTPPassword, c.SMTPFrom = "coffer", smtpPassword, "Coffer <coffer@example.com>"
		for _, f := range configure {
			f(c)
		}
	})
	t.Cleanup(func() {
		if strings.Contains(n.Logs(), smtpPassword) {
			t.Error("the node logged the SMTP password")
		}
	})
	return n, mp, n.Bootstrap(t)
}

// login signs in with the body and returns the response as a map, requiring status.
func login(t *testing.T, n *servertest.Node, body map[string]any, status int) map[string]any {
	t.Helper()
	r := n.Do(t, "POST", "/api/v1/auth/login", "", body)
	if r.Status != status {
		t.Fatalf("login %v: %d %s, want %d", body["email"], r.Status, r.Body, status)
	}
	return r.Map(t)
}

func loginToken(t *testing.T, n *servertest.Node, email, password string) string {
	t.Helper()
	m := login(t, n, map[string]any{"email": email, "password": password}, http.StatusOK)
	tok, _ := m["accessToken"].(string)
	if tok == "" || m["expiresIn"] == nil {
		t.Fatalf("login answered %v", m)
	}
	return tok
}

func expectStatus(t *testing.T, r *servertest.Response, status int, what string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: %d %s, want %d", what, r.Status, r.Body, status)
	}
}

var linkToken = regexp.MustCompile(`token=([0-9a-f]{64})`)

// mailedToken waits for a mail to to whose subject contains subject and returns the token of its
// link.
func mailedToken(t *testing.T, mp *testenv.Mailpit, to, subject string) string {
	t.Helper()
	msg := mp.WaitMessage(t, to, subject, 60*time.Second)
	m := linkToken.FindStringSubmatch(msg.Text)
	if m == nil || !strings.Contains(msg.HTML, m[1]) {
		t.Fatalf("no link with a token in the text and HTML of %q:\n%s", msg.Subject, msg.Text)
	}
	return m[1]
}

func TestUserLoginAndTOTP(t *testing.T) {
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		n, _, admin := usersNode(t, dialect)
		tok := loginToken(t, n, admin.Email, admin.Password)

		// No user enumeration: an unknown e-mail and a wrong password get the same answer.
		unknown := n.Do(t, "POST", "/api/v1/auth/login", "", map[string]any{"email": "nobody@example.com", "password": "whatever-it-is"})
		wrong := n.Do(t, "POST", "/api/v1/auth/login", "", map[string]any{"email": admin.Email, "password": "whatever-it-is"})
		if unknown.Status != http.StatusUnauthorized || wrong.Status != unknown.Status || unknown.Map(t)["message"] != wrong.Map(t)["message"] {
			t.Fatalf("unknown e-mail: %d %s; wrong password: %d %s", unknown.Status, unknown.Body, wrong.Status, wrong.Body)
		}

		// Enrol: the secret comes back once; confirming with a code turns TOTP on.
		r := n.Do(t, "POST", "/api/v1/auth/totp/enroll", tok, map[string]any{})
		expectStatus(t, r, http.StatusOK, "enroll")
		enr := r.Map(t)
		secret, _ := enr["secret"].(string)
		if secret == "" || !strings.HasPrefix(enr["otpauthUri"].(string), "otpauth://totp/Coffer:") {
			t.Fatalf("enroll answered %v", enr)
		}
		expectStatus(t, n.Do(t, "POST", "/api/v1/auth/totp/confirm", tok, map[string]any{"code": "000000"}), http.StatusUnprocessableEntity, "confirm with a wrong code")
		code, _ := identity.TOTPCode(secret, time.Now())
		r = n.Do(t, "POST", "/api/v1/auth/totp/confirm", tok, map[string]any{"code": code})
		expectStatus(t, r, http.StatusOK, "confirm")
		var conf struct{ RecoveryCodes []string }
		r.JSON(t, &conf)
		if len(conf.RecoveryCodes) != 10 {
			t.Fatalf("%d recovery codes, want 10", len(conf.RecoveryCodes))
		}

		// The password alone is no longer enough.
		m := login(t, n, map[string]any{"email": admin.Email, "password": admin.Password}, http.StatusOK)
		if m["mfaRequired"] != true || m["accessToken"] != nil {
			t.Fatalf("login without a code answered %v", m)
		}
		login(t, n, map[string]any{"email": admin.Email, "password": admin.Password, "totpCode": "123456"}, http.StatusUnauthorized)
		// A code of the next step is accepted once (one step of skew); the same code again is a replay.
		next, _ := identity.TOTPCode(secret, time.Now().Add(30*time.Second))
		m = login(t, n, map[string]any{"email": admin.Email, "password": admin.Password, "totpCode": next}, http.StatusOK)
		if m["accessToken"] == nil {
			t.Fatalf("login with a code answered %v", m)
		}
		login(t, n, map[string]any{"email": admin.Email, "password": admin.Password, "totpCode": next}, http.StatusUnauthorized)
		// So is the code the enrolment was confirmed with (an older step).
		login(t, n, map[string]any{"email": admin.Email, "password": admin.Password, "totpCode": code}, http.StatusUnauthorized)

		// A recovery code works once, whatever its case.
		rc := strings.ToUpper(conf.RecoveryCodes[3])
		login(t, n, map[string]any{"email": admin.Email, "password": admin.Password, "totpCode": rc}, http.StatusOK)
		login(t, n, map[string]any{"email": admin.Email, "password": admin.Password, "totpCode": rc}, http.StatusUnauthorized)
		st := n.Do(t, "GET", "/api/v1/auth/totp", tok, nil).Map(t)
		if st["enabled"] != true || st["recoveryCodesLeft"] != float64(9) {
			t.Fatalf("totp status %v", st)
		}

		// The old route still signs in without a second factor only.
		expectStatus(t, n.Do(t, "POST", "/api/v1/auth/password/login", "", map[string]any{"email": admin.Email, "password": admin.Password}),
			http.StatusUnauthorized, "password/login of a user with TOTP")

		// Disable needs the password and a code.
		expectStatus(t, n.Do(t, "POST", "/api/v1/auth/totp/disable", tok, map[string]any{"password": "nope-nope-nope", "code": conf.RecoveryCodes[0]}),
			http.StatusUnprocessableEntity, "disable with a wrong password")
		expectStatus(t, n.Do(t, "POST", "/api/v1/auth/totp/disable", tok, map[string]any{"password": admin.Password, "code": conf.RecoveryCodes[0]}),
			http.StatusOK, "disable")
		loginToken(t, n, admin.Email, admin.Password)

		// The TOTP secret is stored sealed, never in the clear.
		if strings.Contains(n.Logs(), secret) {
			t.Error("the TOTP secret is in the logs")
		}
	})
}

func TestSessionCookieAndCSRF(t *testing.T) {
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		n, _, admin := usersNode(t, dialect, func(c *config.Config) { c.SiteURL = "https://coffer.example.com" })
		r := n.Do(t, "POST", "/api/v1/auth/login", "", map[string]any{"email": admin.Email, "password": admin.Password, "cookie": true})
		expectStatus(t, r, http.StatusOK, "cookie login")
		body := r.Map(t)
		csrf, _ := body["csrfToken"].(string)
		if body["accessToken"] != nil || csrf == "" {
			t.Fatalf("cookie login answered %v", body)
		}
		var session *http.Cookie
		for _, c := range (&http.Response{Header: r.Header}).Cookies() {
			if c.Name == "coffer_session" {
				session = c
			}
		}
		if session == nil || !session.HttpOnly || !session.Secure || session.SameSite != http.SameSiteLaxMode || session.Path != "/" || session.MaxAge <= 0 {
			t.Fatalf("session cookie %+v", session)
		}
		cookie := "coffer_session=" + session.Value
		expectStatus(t, n.Do(t, "GET", "/api/v1/auth/me", "", nil, "Cookie", cookie), http.StatusOK, "GET with the cookie")
		expectStatus(t, n.Do(t, "GET", "/api/v1/auth/sessions", "", nil, "Cookie", cookie), http.StatusOK, "sessions with the cookie")
		// An unsafe request by cookie needs the session's CSRF token.
		expectStatus(t, n.Do(t, "POST", "/api/v1/auth/logout", "", nil, "Cookie", cookie), http.StatusForbidden, "logout without a CSRF token")
		expectStatus(t, n.Do(t, "POST", "/api/v1/auth/logout", "", nil, "Cookie", cookie, "X-CSRF-Token", strings.Repeat("0", 64)),
			http.StatusForbidden, "logout with a wrong CSRF token")
		r = n.Do(t, "POST", "/api/v1/auth/logout", "", nil, "Cookie", cookie, "X-CSRF-Token", csrf)
		expectStatus(t, r, http.StatusOK, "logout with the CSRF token")
		if !strings.Contains(r.Header.Get("Set-Cookie"), "Max-Age=0") {
			t.Errorf("logout did not clear the cookie: %q", r.Header.Get("Set-Cookie"))
		}
		expectStatus(t, n.Do(t, "GET", "/api/v1/auth/me", "", nil, "Cookie", cookie), http.StatusUnauthorized, "the cookie after logout")
		// Bearer requests need no CSRF token.
		tok := loginToken(t, n, admin.Email, admin.Password)
		expectStatus(t, n.Do(t, "POST", "/api/v1/auth/logout", tok, nil), http.StatusOK, "bearer logout")
	})
}

func TestSessionsAndPasswordChange(t *testing.T) {
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		n, _, admin := usersNode(t, dialect)
		t1 := loginToken(t, n, admin.Email, admin.Password)
		t2 := loginToken(t, n, admin.Email, admin.Password)
		t3 := loginToken(t, n, admin.Email, admin.Password)
		var list struct {
			Sessions []struct {
				ID        string
				Current   bool
				UserAgent string
				IP        string
			}
		}
		n.Do(t, "GET", "/api/v1/auth/sessions", t1, nil).JSON(t, &list)
		if len(list.Sessions) != 3 {
			t.Fatalf("%d sessions, want 3", len(list.Sessions))
		}
		var current, newest string
		for _, s := range list.Sessions {
			if s.Current {
				current = s.ID
			}
			if s.IP != "127.0.0.1" {
				t.Errorf("session IP %q", s.IP)
			}
		}
		newest = list.Sessions[0].ID // t3
		if current == "" || current == newest {
			t.Fatalf("current %q, newest %q", current, newest)
		}
		// Revoking a session refuses its token at once.
		expectStatus(t, n.Do(t, "DELETE", "/api/v1/auth/sessions/"+newest, t1, nil), http.StatusOK, "revoke t3")
		expectStatus(t, n.Do(t, "GET", "/api/v1/auth/me", t3, nil), http.StatusUnauthorized, "t3 after its revocation")
		expectStatus(t, n.Do(t, "DELETE", "/api/v1/auth/sessions/"+admin.IdentityID, t1, nil), http.StatusNotFound, "revoke what is not a session of mine")
		// The bootstrap identity has no sessions.
		expectStatus(t, n.Do(t, "GET", "/api/v1/auth/sessions", admin.Token, nil), http.StatusForbidden, "sessions of an identity")

		// Changing the password signs out the other sessions, not this one.
		const newPassword = "a new and longer passphrase"
		expectStatus(t, n.Do(t, "POST", "/api/v1/auth/password/change", t1, map[string]any{"currentPassword": "wrong password!", "newPassword": newPassword}),
			http.StatusUnprocessableEntity, "change with a wrong current password")
		expectStatus(t, n.Do(t, "POST", "/api/v1/auth/password/change", t1, map[string]any{"currentPassword": admin.Password, "newPassword": "short"}),
			http.StatusUnprocessableEntity, "change to a short password")
		expectStatus(t, n.Do(t, "POST", "/api/v1/auth/password/change", t1, map[string]any{"currentPassword": admin.Password, "newPassword": newPassword}),
			http.StatusOK, "change")
		expectStatus(t, n.Do(t, "GET", "/api/v1/auth/me", t2, nil), http.StatusUnauthorized, "another session after the change")
		expectStatus(t, n.Do(t, "GET", "/api/v1/auth/me", t1, nil), http.StatusOK, "this session after the change")
		login(t, n, map[string]any{"email": admin.Email, "password": admin.Password}, http.StatusUnauthorized)
		t4 := loginToken(t, n, admin.Email, newPassword)

		// Sign out everywhere else.
		expectStatus(t, n.Do(t, "DELETE", "/api/v1/auth/sessions", t4, nil), http.StatusOK, "revoke the others")
		expectStatus(t, n.Do(t, "GET", "/api/v1/auth/me", t1, nil), http.StatusUnauthorized, "t1 after sign-out everywhere")
		expectStatus(t, n.Do(t, "GET", "/api/v1/auth/me", t4, nil), http.StatusOK, "t4 after sign-out everywhere")
	})
}

func TestPasswordResetByMail(t *testing.T) {
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		n, mp, admin := usersNode(t, dialect)
		t1 := loginToken(t, n, admin.Email, admin.Password)
		known := n.Do(t, "POST", "/api/v1/auth/password/reset/request", "", map[string]any{"email": admin.Email})
		unknown := n.Do(t, "POST", "/api/v1/auth/password/reset/request", "", map[string]any{"email": "nobody@example.com"})
		if known.Status != http.StatusOK || unknown.Status != http.StatusOK || string(known.Body) != string(unknown.Body) {
			t.Fatalf("known: %d %s; unknown: %d %s", known.Status, known.Body, unknown.Status, unknown.Body)
		}
		token := mailedToken(t, mp, admin.Email, "Reset your Coffer password")
		const newPassword = "reset to this passphrase"
		expectStatus(t, n.Do(t, "POST", "/api/v1/auth/password/reset", "", map[string]any{"token": strings.Repeat("a", 64), "newPassword": newPassword}),
			http.StatusBadRequest, "reset with a made-up token")
		expectStatus(t, n.Do(t, "POST", "/api/v1/auth/password/reset", "", map[string]any{"token": token, "newPassword": newPassword}),
			http.StatusOK, "reset")
		expectStatus(t, n.Do(t, "GET", "/api/v1/auth/me", t1, nil), http.StatusUnauthorized, "a session after the reset")
		expectStatus(t, n.Do(t, "POST", "/api/v1/auth/password/reset", "", map[string]any{"token": token, "newPassword": "and once again this"}),
			http.StatusBadRequest, "the same link twice")
		loginToken(t, n, admin.Email, newPassword)
		if strings.Contains(n.Logs(), token) {
			t.Error("the reset token is in the logs")
		}
		for _, msg := range mustMessages(t, mp) {
			if msg.To[0].Address == "nobody@example.com" {
				t.Error("a reset mail went to an unknown address")
			}
		}
	})
}

func mustMessages(t *testing.T, mp *testenv.Mailpit) []testenv.MailpitMessage {
	t.Helper()
	msgs, err := mp.Messages()
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

// TestMailWhileSMTPIsDown: mail queued while the SMTP server is down arrives once it is back.
func TestMailWhileSMTPIsDown(t *testing.T) {
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		n, mp, admin := usersNode(t, dialect)
		mp.Stop()
		expectStatus(t, n.Do(t, "POST", "/api/v1/auth/password/reset/request", "", map[string]any{"email": admin.Email}), http.StatusOK, "reset request")
		// Wait until the worker has tried and failed to send it.
		for deadline := time.Now().Add(30 * time.Second); !strings.Contains(n.Logs(), `"kind":"email.send"`) ||
			!strings.Contains(n.Logs(), "jobs: job failed; retrying"); {
			if time.Now().After(deadline) {
				t.Fatal("the worker never tried to send while the SMTP server was down")
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err := mp.Start(); err != nil {
			t.Fatal(err)
		}
		mailedToken(t, mp, admin.Email, "Reset your Coffer password")
		time.Sleep(time.Second)
		if msgs := mustMessages(t, mp); len(msgs) != 1 {
			t.Errorf("%d messages, want exactly 1", len(msgs))
		}
	})
}

func TestInvitationsAndMembers(t *testing.T) {
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		n, mp, admin := usersNode(t, dialect)
		owner := loginToken(t, n, admin.Email, admin.Password)
		inv := "/api/v1/organizations/" + admin.OrgID + "/invitations"
		expectStatus(t, n.Do(t, "POST", inv, owner, map[string]any{"email": "not an address", "role": "member"}), http.StatusUnprocessableEntity, "bad e-mail")
		expectStatus(t, n.Do(t, "POST", inv, owner, map[string]any{"email": "bob@example.com", "role": "king"}), http.StatusUnprocessableEntity, "bad role")
		r := n.Do(t, "POST", inv, owner, map[string]any{"email": "Bob@Example.com", "role": "member"})
		expectStatus(t, r, http.StatusOK, "invite bob")
		if strings.Contains(string(r.Body), "token") {
			t.Errorf("the invitation answer carries a token: %s", r.Body)
		}
		token := mailedToken(t, mp, "bob@example.com", "You are invited to Acme")

		// Accept: a short password is refused and leaves the invitation usable.
		expectStatus(t, n.Do(t, "POST", "/api/v1/invitations/accept", "", map[string]any{"token": token, "name": "Bob", "password": "short"}),
			http.StatusUnprocessableEntity, "accept with a short password")
		const bobPassword = "bob's long enough password"
		r = n.Do(t, "POST", "/api/v1/invitations/accept", "", map[string]any{"token": token, "name": "Bob", "password": bobPassword})
		expectStatus(t, r, http.StatusOK, "accept")
		bob, _ := r.Map(t)["accessToken"].(string)
		if bob == "" {
			t.Fatalf("accept answered %s", r.Body)
		}
		expectStatus(t, n.Do(t, "POST", "/api/v1/invitations/accept", "", map[string]any{"token": token, "name": "Bob", "password": bobPassword}),
			http.StatusBadRequest, "accept twice")
		bob2 := loginToken(t, n, "bob@example.com", bobPassword)

		var members struct {
			Members []struct {
				UserID string
				Role   string
				User   struct{ Email, Name string }
			}
		}
		n.Do(t, "GET", "/api/v1/organizations/"+admin.OrgID+"/members", bob, nil).JSON(t, &members)
		var bobID string
		for _, m := range members.Members {
			if m.User.Email == "bob@example.com" && m.Role == "member" && m.User.Name == "Bob" {
				bobID = m.UserID
			}
		}
		if len(members.Members) != 2 || bobID == "" {
			t.Fatalf("members %+v", members.Members)
		}
		// A member may not invite, change roles or remove others; the last owner stays.
		expectStatus(t, n.Do(t, "POST", inv, bob, map[string]any{"email": "eve@example.com"}), http.StatusForbidden, "member invites")
		expectStatus(t, n.Do(t, "PATCH", "/api/v1/organizations/"+admin.OrgID+"/members/"+admin.UserID, bob, map[string]any{"role": "member"}),
			http.StatusForbidden, "member demotes the owner")
		expectStatus(t, n.Do(t, "PATCH", "/api/v1/organizations/"+admin.OrgID+"/members/"+admin.UserID, owner, map[string]any{"role": "admin"}),
			http.StatusBadRequest, "the last owner demotes themselves")
		expectStatus(t, n.Do(t, "DELETE", "/api/v1/organizations/"+admin.OrgID+"/members/"+admin.UserID, owner, nil),
			http.StatusBadRequest, "the last owner leaves")
		expectStatus(t, n.Do(t, "PATCH", "/api/v1/organizations/"+admin.OrgID+"/members/"+bobID, owner, map[string]any{"role": "admin"}),
			http.StatusOK, "make bob admin")

		// Removing bob revokes his sessions at once, on this node and (PostgreSQL: several nodes
		// share it; SQLite is one process) on another one that had just accepted, and may have
		// cached, his token.
		var peer *servertest.Node
		if dialect == store.Postgres {
			peer = n.StartPeer(t)
			expectStatus(t, peer.Do(t, "GET", "/api/v1/auth/me", bob, nil), http.StatusOK, "bob on the other node")
		}
		expectStatus(t, n.Do(t, "DELETE", "/api/v1/organizations/"+admin.OrgID+"/members/"+bobID, owner, nil), http.StatusOK, "remove bob")
		expectStatus(t, n.Do(t, "GET", "/api/v1/auth/me", bob, nil), http.StatusUnauthorized, "bob's first session after removal")
		if peer != nil {
			expectStatus(t, peer.Do(t, "GET", "/api/v1/auth/me", bob, nil), http.StatusUnauthorized, "bob's session on the other node after removal")
		}
		expectStatus(t, n.Do(t, "GET", "/api/v1/auth/me", bob2, nil), http.StatusUnauthorized, "bob's second session after removal")
		login(t, n, map[string]any{"email": "bob@example.com", "password": bobPassword}, http.StatusForbidden)

		// An expired invitation is refused.
		expectStatus(t, n.Do(t, "POST", inv, owner, map[string]any{"email": "carol@example.com", "role": "admin"}), http.StatusOK, "invite carol")
		carol := mailedToken(t, mp, "carol@example.com", "You are invited")
		expireInvitations(t, n)
		expectStatus(t, n.Do(t, "POST", "/api/v1/invitations/accept", "", map[string]any{"token": carol, "name": "Carol", "password": "carol's long password"}),
			http.StatusBadRequest, "accept an expired invitation")

		// Invitation-only sign-up by default.
		expectStatus(t, n.Do(t, "POST", "/api/v1/auth/signup", "", map[string]any{"email": "dan@example.com", "name": "Dan", "password": "dan's long password",
			"organizationName": "Dan's"}), http.StatusForbidden, "sign-up while invite-only")
	})
}

// expireInvitations moves every invitation's expiry into the past, in the node's database.
func expireInvitations(t *testing.T, n *servertest.Node) {
	t.Helper()
	driver := "pgx"
	if n.Dialect == store.SQLite {
		driver = "sqlite"
	}
	db, err := sql.Open(driver, n.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE invitations SET expires_at = 1`); err != nil {
		t.Fatal(err)
	}
}

func TestEnforcedMFA(t *testing.T) {
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		n, _, admin := usersNode(t, dialect)
		owner := loginToken(t, n, admin.Email, admin.Password)
		other := loginToken(t, n, admin.Email, admin.Password)
		org := "/api/v1/organizations/" + admin.OrgID
		r := n.Do(t, "PATCH", org, owner, map[string]any{"enforceMfa": true})
		expectStatus(t, r, http.StatusOK, "enforce MFA")
		if r.Map(t)["organization"].(map[string]any)["enforceMfa"] != true {
			t.Fatalf("PATCH answered %s", r.Body)
		}
		// Members without TOTP are signed out at once; the admin keeps this session to enrol.
		expectStatus(t, n.Do(t, "GET", "/api/v1/auth/me", other, nil), http.StatusUnauthorized, "another session without TOTP")
		expectStatus(t, n.Do(t, "GET", "/api/v1/auth/me", owner, nil), http.StatusOK, "the session that turned enforcement on")
		expectStatus(t, n.Do(t, "GET", "/api/v1/auth/me", admin.Token, nil), http.StatusOK, "a machine identity's token")
		// A member without TOTP gets no session, only an enrolment token.
		m := login(t, n, map[string]any{"email": admin.Email, "password": admin.Password}, http.StatusOK)
		mfaToken, _ := m["mfaToken"].(string)
		if m["mfaRequired"] != true || m["enrollmentRequired"] != true || mfaToken == "" || m["accessToken"] != nil {
			t.Fatalf("login answered %v", m)
		}
		expectStatus(t, n.Do(t, "GET", "/api/v1/auth/me", mfaToken, nil), http.StatusUnauthorized, "the enrolment token as a bearer")
		r = n.Do(t, "POST", "/api/v1/auth/totp/enroll", "", map[string]any{"mfaToken": mfaToken})
		expectStatus(t, r, http.StatusOK, "enroll with the enrolment token")
		secret := r.Map(t)["secret"].(string)
		code, _ := identity.TOTPCode(secret, time.Now())
		r = n.Do(t, "POST", "/api/v1/auth/totp/confirm", "", map[string]any{"mfaToken": mfaToken, "code": code})
		expectStatus(t, r, http.StatusOK, "confirm with the enrolment token")
		session, _ := r.Map(t)["accessToken"].(string)
		expectStatus(t, n.Do(t, "GET", "/api/v1/auth/me", session, nil), http.StatusOK, "the session after enrolment")
		expectStatus(t, n.Do(t, "POST", "/api/v1/auth/totp/enroll", "", map[string]any{"mfaToken": mfaToken}),
			http.StatusUnauthorized, "the enrolment token again")
		// While enforced, TOTP cannot be turned off.
		next, _ := identity.TOTPCode(secret, time.Now().Add(30*time.Second))
		expectStatus(t, n.Do(t, "POST", "/api/v1/auth/totp/disable", session, map[string]any{"password": admin.Password, "code": next}),
			http.StatusForbidden, "disable while enforced")
	})
}

// TestNewDeviceAlert: a sign-in from a new IP and user agent mails the user; the first sign-in
// ever and a known device do not.
func TestNewDeviceAlert(t *testing.T) {
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		n, mp, admin := usersNode(t, dialect)
		body := map[string]any{"email": admin.Email, "password": admin.Password}
		expectStatus(t, n.Do(t, "POST", "/api/v1/auth/login", "", body, "User-Agent", "coffer-cli/1"), http.StatusOK, "first sign-in")
		expectStatus(t, n.Do(t, "POST", "/api/v1/auth/login", "", body, "User-Agent", "coffer-cli/1"), http.StatusOK, "same device")
		expectStatus(t, n.Do(t, "POST", "/api/v1/auth/login", "", body, "User-Agent", "Firefox/140"), http.StatusOK, "new device")
		msg := mp.WaitMessage(t, admin.Email, "New sign-in", 60*time.Second)
		if !strings.Contains(msg.Text, "Firefox/140") || !strings.Contains(msg.Text, "127.0.0.1") {
			t.Errorf("alert text:\n%s", msg.Text)
		}
		time.Sleep(time.Second) // a wrongly queued alert for the first two sign-ins would be here by now
		if msgs := mustMessages(t, mp); len(msgs) != 1 {
			t.Errorf("%d messages, want only the alert for the new device", len(msgs))
		}
	})
}

// TestPasswordRehash: a hash made with other argon2id settings still signs in, and is redone
// with the configured ones at that sign-in.
func TestPasswordRehash(t *testing.T) {
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		n, _, admin := usersNode(t, dialect, func(c *config.Config) { c.Argon2Memory, c.Argon2Iterations, c.Argon2Parallelism = 8192, 1, 2 })
		hash := func() string {
			driver := "pgx"
			if n.Dialect == store.SQLite {
				driver = "sqlite"
			}
			db, err := sql.Open(driver, n.DSN)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var h string
			if err := db.QueryRow(`SELECT password_hash FROM users WHERE email = 'admin@example.com'`).Scan(&h); err != nil {
				t.Fatal(err)
			}
			return h
		}
		if h := hash(); !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") { // bootstrap's default settings
			t.Fatalf("hash before sign-in: %.40s", h)
		}
		loginToken(t, n, admin.Email, admin.Password)
		if h := hash(); !strings.HasPrefix(h, "$argon2id$v=19$m=8192,t=1,p=2$") {
			t.Fatalf("hash after sign-in: %.40s", h)
		}
		loginToken(t, n, admin.Email, admin.Password)
	})
}
