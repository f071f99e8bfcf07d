package server_test

import (
	"net/http"
	"testing"

	"github.com/cofferhq/coffer/internal/servertest"
)

// TestPasswordChecksOfSignedInUsersAreLimited: a session (stolen, say) must not be an unlimited
// oracle for its user's password. Changing the password and turning TOTP off check it under the
// sign-in lockout: after 5 wrong passwords even the right one is refused with 429.
func TestPasswordChecksOfSignedInUsersAreLimited(t *testing.T) {
	servertest.ForEachDialect(t, func(t *testing.T, dialect string) {
		n, _, admin := usersNode(t, dialect)
		tok := loginToken(t, n, admin.Email, admin.Password)
		for i := range 5 {
			expectStatus(t, n.Do(t, http.MethodPost, "/api/v1/auth/password/change", tok,
				map[string]any{"currentPassword": "wrong password!", "newPassword": "a new long passphrase " + string(rune('a'+i))}),
				http.StatusUnprocessableEntity, "a wrong current password")
		}
		r := n.Do(t, http.MethodPost, "/api/v1/auth/password/change", tok,
			map[string]any{"currentPassword": admin.Password, "newPassword": "a new long passphrase"})
		expectStatus(t, r, http.StatusTooManyRequests, "the right password after 5 wrong ones")
		if r.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
		expectStatus(t, n.Do(t, http.MethodPost, "/api/v1/auth/totp/disable", tok,
			map[string]any{"password": admin.Password, "code": "000000"}),
			http.StatusTooManyRequests, "turning TOTP off while locked out")
		login(t, n, map[string]any{"email": admin.Email, "password": admin.Password}, http.StatusTooManyRequests)
	})
}
