package projects

import (
	"context"
	"maps"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/identity"
	"github.com/cofferhq/coffer/internal/store"
)

func TestBootstrap(t *testing.T) {
	forEachDB(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		res, err := f.svc.Bootstrap(ctx, "  Admin@Example.COM ", testPassword, " Acme Corp ")
		if err != nil {
			t.Fatalf("Bootstrap: %v", err)
		}

		if res.User.Email != "admin@example.com" || !res.User.CreatedAt.Equal(testNow.Truncate(1e6)) {
			t.Errorf("user = %+v, want e-mail admin@example.com created at %v", res.User, testNow.Truncate(1e6))
		}
		stored, err := f.db.FindUserByEmail(ctx, "admin@example.com")
		if err != nil {
			t.Fatalf("FindUserByEmail: %v", err)
		}
		if strings.Contains(stored.PasswordHash, testPassword) || !strings.HasPrefix(stored.PasswordHash, "$argon2id$") ||
			!identity.CheckPassword(stored.PasswordHash, testPassword) {
			t.Errorf("stored password hash %q is not an argon2id hash of the password", stored.PasswordHash)
		}

		if res.Org.Name != "Acme Corp" || !regexp.MustCompile(`^acme-corp-[a-z0-9]{6}$`).MatchString(res.Org.Slug) {
			t.Errorf("org = %+v, want name Acme Corp and slug acme-corp-xxxxxx", res.Org)
		}
		if m, err := f.db.FindMembership(ctx, store.ScopeOrg, res.Org.ID, coffer.ActorUser, res.User.ID); err != nil || m.Role != coffer.RoleOwner {
			t.Errorf("user's org membership = %+v, %v; want owner", m, err)
		}

		if res.Identity.Name != "bootstrap-admin" || res.Identity.OrgID != res.Org.ID || res.Identity.OrgRole != coffer.RoleAdmin {
			t.Errorf("identity = %+v, want bootstrap-admin, admin of the org", res.Identity)
		}
		if res.Token.Record.TTL != 0 || !res.Token.Record.ExpiresAt().IsZero() {
			t.Errorf("token TTL = %d, want a token that never expires", res.Token.Record.TTL)
		}
		actor, err := f.ids.Authenticate(ctx, res.Token.Token, netip.MustParseAddr("10.1.2.3"))
		if err != nil {
			t.Fatalf("Authenticate bootstrap token: %v", err)
		}
		if actor.Kind != coffer.ActorIdentity || actor.ID != res.Identity.ID || actor.OrgID != res.Org.ID {
			t.Errorf("actor = %+v, want the bootstrap identity", actor)
		}
		if role, err := f.az.OrgRole(ctx, actor); err != nil || role != coffer.RoleAdmin {
			t.Errorf("OrgRole = %q, %v; want admin", role, err)
		}
		if _, err := f.az.RequireOrgAdmin(coffer.NewContextWithActor(ctx, actor), res.Org.ID); err != nil {
			t.Errorf("RequireOrgAdmin: %v", err)
		}

		before := f.counts(t)
		_, err = f.svc.Bootstrap(ctx, "second@example.com", testPassword, "Second")
		wantCode(t, err, coffer.EINVALID, "already been set up")
		if after := f.counts(t); !maps.Equal(before, after) {
			t.Errorf("second Bootstrap changed the database: %v → %v", before, after)
		}
	})
}

func TestBootstrapSlugWithoutLetters(t *testing.T) {
	f := newFixture(t, store.SQLite)
	res, err := f.svc.Bootstrap(context.Background(), "a@example.com", testPassword, "日本 !!")
	if err != nil {
		t.Fatalf("Bootstrap: %v", err)
	}
	if !regexp.MustCompile(`^[a-z0-9]{6}$`).MatchString(res.Org.Slug) {
		t.Errorf("org slug = %q, want 6 random lowercase letters and digits", res.Org.Slug)
	}
}

func TestBootstrapValidation(t *testing.T) {
	tests := []struct {
		name, email, password, org string
		field                      string
	}{
		{"empty e-mail", "", testPassword, "Acme", "email"},
		{"e-mail without @", "admin.example.com", testPassword, "Acme", "email"},
		{"e-mail with a display name", "Admin <admin@example.com>", testPassword, "Acme", "email"},
		{"e-mail too long", strings.Repeat("a", 250) + "@example.com", testPassword, "Acme", "email"},
		{"password too short", "admin@example.com", "eleven-char", "Acme", "password"},
		{"password too long", "admin@example.com", strings.Repeat("p", 1025), "Acme", "password"},
		{"empty organization", "admin@example.com", testPassword, "  ", "organization"},
		{"organization with a control character", "admin@example.com", testPassword, "Acme\x00", "organization"},
	}
	forEachDB(t, func(t *testing.T, f *fixture) {
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				_, err := f.svc.Bootstrap(context.Background(), tc.email, tc.password, tc.org)
				wantCode(t, err, coffer.EVALIDATION, tc.field+":")
				if msg := coffer.ErrorMessage(err); strings.Contains(msg, tc.password) {
					t.Errorf("error message %q contains the password", msg)
				}
				for table, n := range f.counts(t) {
					if n != 0 {
						t.Errorf("%s has %d rows after a rejected Bootstrap, want 0", table, n)
					}
				}
			})
		}
		// Nothing was claimed: a valid bootstrap still works.
		f.bootstrap(t)
	})
}

func TestBootstrapConcurrent(t *testing.T) {
	const n = 8
	forEachDB(t, func(t *testing.T, f *fixture) {
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				_, errs[i] = f.svc.Bootstrap(context.Background(), "admin@example.com", testPassword, "Acme")
			})
		}
		wg.Wait()
		wins := 0
		for _, err := range errs {
			switch coffer.ErrorCode(err) {
			case "":
				wins++
			case coffer.EINVALID:
			default:
				t.Errorf("Bootstrap: %v, want success or EINVALID", err)
			}
		}
		if wins != 1 {
			t.Errorf("%d of %d concurrent bootstraps succeeded, want exactly 1", wins, n)
		}
		for table, want := range map[string]int{"users": 1, "organizations": 1, "identities": 1, "access_tokens": 1, "settings": 1} {
			if got := f.count(t, table); got != want {
				t.Errorf("%s has %d rows, want %d", table, got, want)
			}
		}
	})
}
