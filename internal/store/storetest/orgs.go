package storetest

import (
	"testing"
	"time"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/store"
)

func testMigrateTwice(t *testing.T, db *store.DB) {
	ctx := t.Context()
	if ok, err := db.Migrated(ctx); err != nil || !ok {
		t.Fatalf("Migrated = %v, %v; want true, nil", ok, err)
	}
	u := createUser(t, db, "keep@example.com")
	for range 2 {
		if err := db.Migrate(ctx, discard); err != nil {
			t.Fatalf("Migrate again: %v", err)
		}
	}
	if ok, err := db.Migrated(ctx); err != nil || !ok {
		t.Fatalf("Migrated after a second Migrate = %v, %v; want true, nil", ok, err)
	}
	if got, err := db.FindUserByID(ctx, u.ID); err != nil || got.Email != u.Email {
		t.Fatalf("user after a second Migrate = %+v, %v; want it kept", got, err)
	}
}

func testUsers(t *testing.T, db *store.DB) {
	ctx := t.Context()
	if n, err := db.CountUsers(ctx); err != nil || n != 0 {
		t.Fatalf("CountUsers on a fresh database = %d, %v; want 0", n, err)
	}
	u := createUser(t, db, "ada@example.com")
	createUser(t, db, "bob@example.com")
	if n, err := db.CountUsers(ctx); err != nil || n != 2 {
		t.Fatalf("CountUsers = %d, %v; want 2", n, err)
	}
	for name, find := range map[string]func() (*coffer.User, error){
		"ByEmail": func() (*coffer.User, error) { return db.FindUserByEmail(ctx, "ada@example.com") },
		"ByID":    func() (*coffer.User, error) { return db.FindUserByID(ctx, u.ID) },
	} {
		got, err := find()
		if err != nil {
			t.Fatalf("FindUser%s: %v", name, err)
		}
		if *got != *u {
			t.Errorf("FindUser%s = %+v; want %+v", name, got, u)
		}
	}
	_, err := db.FindUserByEmail(ctx, "nobody@example.com")
	wantCode(t, err, coffer.ENOTFOUND)
	_, err = db.FindUserByID(ctx, store.NewID())
	wantCode(t, err, coffer.ENOTFOUND)

	dup := &coffer.User{ID: store.NewID(), Email: "ada@example.com", CreatedAt: t0, UpdatedAt: t0}
	wantConflict(t, db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateUser(ctx, dup) }))
}

func testOrganizations(t *testing.T, db *store.DB) {
	ctx := t.Context()
	o := createOrg(t, db, "acme")
	got, err := db.FindOrganization(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if *got != *o {
		t.Errorf("FindOrganization = %+v; want %+v", got, o)
	}
	_, err = db.FindOrganization(ctx, store.NewID())
	wantCode(t, err, coffer.ENOTFOUND)
	dup := &coffer.Organization{ID: store.NewID(), Name: "Other", Slug: "acme", CreatedAt: t0, UpdatedAt: t0}
	wantConflict(t, db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateOrganization(ctx, dup) }))
}

func testMemberships(t *testing.T, db *store.DB) {
	f := newFixture(t, db)
	ctx := t.Context()
	other := createUser(t, db, "other@example.com")
	for _, sc := range []struct{ scope, scopeID string }{{store.ScopeOrg, f.org.ID}, {store.ScopeProject, f.project.ID}} {
		t.Run(sc.scope, func(t *testing.T) {
			m := &coffer.Membership{ScopeID: sc.scopeID, ActorKind: coffer.ActorUser, ActorID: f.user.ID, Role: coffer.RoleMember}
			mustTx(t, db, func(tx *store.Tx) error { return tx.PutMembership(ctx, sc.scope, m, at(1)) })
			if m.ID == "" || !m.CreatedAt.Equal(at(1)) || !m.UpdatedAt.Equal(at(1)) {
				t.Fatalf("PutMembership (create) left %+v; want ID and times set", m)
			}
			first := *m

			upd := &coffer.Membership{ScopeID: sc.scopeID, ActorKind: coffer.ActorUser, ActorID: f.user.ID, Role: coffer.RoleAdmin}
			mustTx(t, db, func(tx *store.Tx) error { return tx.PutMembership(ctx, sc.scope, upd, at(2)) })
			if upd.ID != first.ID || upd.Role != coffer.RoleAdmin {
				t.Fatalf("PutMembership (update) = %+v; want the same membership (ID %s) with role admin", upd, first.ID)
			}
			wantTime(t, "CreatedAt after update", upd.CreatedAt, at(1))
			wantTime(t, "UpdatedAt after update", upd.UpdatedAt, at(2))

			got, err := db.FindMembership(ctx, sc.scope, sc.scopeID, coffer.ActorUser, f.user.ID)
			if err != nil {
				t.Fatal(err)
			}
			if *got != *upd {
				t.Errorf("FindMembership = %+v; want %+v", got, upd)
			}
			// The same actor id under another kind is another member.
			_, err = db.FindMembership(ctx, sc.scope, sc.scopeID, coffer.ActorIdentity, f.user.ID)
			wantCode(t, err, coffer.ENOTFOUND)

			second := &coffer.Membership{ScopeID: sc.scopeID, ActorKind: coffer.ActorUser, ActorID: other.ID, Role: coffer.RoleNoAccess}
			mustTx(t, db, func(tx *store.Tx) error { return tx.PutMembership(ctx, sc.scope, second, at(3)) })
			list, err := db.ListMemberships(ctx, sc.scope, sc.scopeID)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 2 || list[0].ID != first.ID || list[1].ID != second.ID {
				t.Fatalf("ListMemberships = %v; want [%s %s], oldest first", list, first.ID, second.ID)
			}

			mustTx(t, db, func(tx *store.Tx) error {
				return tx.DeleteMembership(ctx, sc.scope, sc.scopeID, coffer.ActorUser, f.user.ID)
			})
			_, err = db.FindMembership(ctx, sc.scope, sc.scopeID, coffer.ActorUser, f.user.ID)
			wantCode(t, err, coffer.ENOTFOUND)
			err = db.InTx(ctx, func(tx *store.Tx) error {
				return tx.DeleteMembership(ctx, sc.scope, sc.scopeID, coffer.ActorUser, f.user.ID)
			})
			wantCode(t, err, coffer.ENOTFOUND)
			if list, err := db.ListMemberships(ctx, sc.scope, sc.scopeID); err != nil || len(list) != 1 {
				t.Fatalf("ListMemberships after delete = %v, %v; want the other member only", list, err)
			}
		})
	}
}

// testTimes checks that every kind of time the store keeps comes back as the same instant
// truncated to the millisecond, in UTC, whatever the caller's zone.
func testTimes(t *testing.T, db *store.DB) {
	f := newFixture(t, db)
	ctx := t.Context()
	zone := time.FixedZone("UTC+05:30", 5*3600+1800)
	in := time.Date(2031, 12, 31, 23, 59, 59, 987_654_321, zone)
	want := time.Date(2031, 12, 31, 18, 29, 59, 987_000_000, time.UTC)

	u := &coffer.User{ID: store.NewID(), Email: "time@example.com", CreatedAt: in, UpdatedAt: in.Add(time.Microsecond)}
	o := &coffer.Organization{ID: store.NewID(), Name: "Time", Slug: "time", CreatedAt: in, UpdatedAt: in}
	s := newSecret(f.project, f.dev, f.root, "", "TIME", []byte{1})
	s.CreatedAt, s.UpdatedAt = in, in
	tok := &coffer.AccessToken{ID: store.NewID(), ActorKind: coffer.ActorUser, ActorID: u.ID, OrgID: f.org.ID,
		AuthMethod: coffer.AuthPassword, CreatedAt: in, RenewedAt: in}
	mustTx(t, db, func(tx *store.Tx) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		if err := tx.CreateOrganization(ctx, o); err != nil {
			return err
		}
		if err := tx.CreateSecret(ctx, s, nil); err != nil {
			return err
		}
		return tx.CreateAccessToken(ctx, tok)
	})

	gotU, err := db.FindUserByID(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	gotO, err := db.FindOrganization(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	secrets, err := db.FindSecrets(ctx, store.SecretFilter{FolderIDs: []string{f.root.ID}, Key: "TIME"})
	if err != nil || len(secrets) != 1 {
		t.Fatalf("FindSecrets = %v, %v; want one secret", secrets, err)
	}
	ver, err := db.FindSecretVersion(ctx, s.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	gotT, err := db.FindAccessToken(ctx, tok.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what string
		got  time.Time
	}{
		{"user CreatedAt", gotU.CreatedAt}, {"user UpdatedAt", gotU.UpdatedAt},
		{"organization CreatedAt", gotO.CreatedAt},
		{"secret CreatedAt", secrets[0].CreatedAt}, {"secret UpdatedAt", secrets[0].UpdatedAt},
		{"secret version CreatedAt", ver.CreatedAt},
		{"token CreatedAt", gotT.CreatedAt}, {"token RenewedAt", gotT.RenewedAt},
	} {
		wantTime(t, c.what, c.got, want)
	}
	// Before 1970 too (Unix milliseconds are negative there).
	old := time.Date(1969, 7, 20, 20, 17, 40, 500_999_999, time.UTC)
	o2 := &coffer.Organization{ID: store.NewID(), Name: "Old", Slug: "old", CreatedAt: old, UpdatedAt: old}
	mustTx(t, db, func(tx *store.Tx) error { return tx.CreateOrganization(ctx, o2) })
	if got, err := db.FindOrganization(ctx, o2.ID); err != nil {
		t.Fatal(err)
	} else {
		wantTime(t, "1969 CreatedAt", got.CreatedAt, old.Truncate(time.Millisecond))
	}
}

// testReadPoolReadOnly documents that on SQLite the *store.DB methods run on a read-only pool:
// a write outside InTx fails (and writes nothing). All writes must go through InTx. On
// PostgreSQL the DB handle is the primary, so such a write is not prevented there.
func testReadPoolReadOnly(t *testing.T, db *store.DB) {
	if db.Dialect() != store.SQLite {
		t.Skipf("%s: the DB handle writes to the primary; only SQLite's read pool is read-only", db.Dialect())
	}
	ctx := t.Context()
	u := &coffer.User{ID: store.NewID(), Email: "outside@example.com", CreatedAt: t0, UpdatedAt: t0}
	if err := db.CreateUser(ctx, u); err == nil {
		t.Fatal("CreateUser on *store.DB (not a Tx) succeeded on SQLite; want an error from the read-only pool")
	}
	o := createOrg(t, db, "ro")
	if _, err := db.UseAccessToken(ctx, store.NewID()); err == nil {
		t.Error("UseAccessToken on *store.DB succeeded on SQLite; want an error from the read-only pool")
	}
	if err := db.PutMembership(ctx, store.ScopeOrg, &coffer.Membership{ScopeID: o.ID, ActorKind: coffer.ActorUser, ActorID: u.ID, Role: coffer.RoleAdmin}, t0); err == nil {
		t.Error("PutMembership on *store.DB succeeded on SQLite; want an error from the read-only pool")
	}
	if n, err := db.CountUsers(ctx); err != nil || n != 0 {
		t.Fatalf("CountUsers = %d, %v; want 0 (the failed write left nothing)", n, err)
	}
}
