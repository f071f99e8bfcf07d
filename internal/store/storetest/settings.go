package storetest

import (
	"context"
	"maps"
	"sync/atomic"
	"testing"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/store"
)

// testClaimSetting checks that a one-time setting is claimed once, however many race for it.
func testClaimSetting(t *testing.T, db *store.DB) {
	ctx := t.Context()
	if v, ok, err := db.FindSetting(ctx, "bootstrapped"); err != nil || ok || v != "" {
		t.Fatalf("FindSetting before any claim = %q, %v, %v; want unset", v, ok, err)
	}
	var winner atomic.Value
	wins := raceN(t, 10, func(ctx context.Context) (ok bool, err error) {
		value := store.NewID()
		err = db.InTx(ctx, func(tx *store.Tx) error { ok, err = tx.ClaimSetting(ctx, "bootstrapped", value, t0); return err })
		if ok {
			winner.Store(value)
		}
		return ok, err
	})
	if wins != 1 {
		t.Fatalf("%d of 10 concurrent claims succeeded; want exactly 1", wins)
	}
	if v, ok, err := db.FindSetting(ctx, "bootstrapped"); err != nil || !ok || v != winner.Load() {
		t.Fatalf("FindSetting = %q, %v, %v; want the winner's %q", v, ok, err, winner.Load())
	}
}

// testActorLookups covers the reads the services use to place an actor: its first
// organization and its project roles.
func testActorLookups(t *testing.T, db *store.DB) {
	f := newFixture(t, db)
	ctx := t.Context()
	second := createOrg(t, db, "second")
	other := createProject(t, db, f.org.ID, "other")
	elsewhere := createProject(t, db, second.ID, "elsewhere")
	put := func(scope, scopeID string, kind coffer.ActorKind, id, role string, n int) {
		t.Helper()
		mustTx(t, db, func(tx *store.Tx) error {
			return tx.PutMembership(ctx, scope, &coffer.Membership{ScopeID: scopeID, ActorKind: kind, ActorID: id, Role: role}, at(n))
		})
	}
	put(store.ScopeOrg, second.ID, coffer.ActorUser, f.user.ID, coffer.RoleMember, 1)
	put(store.ScopeOrg, f.org.ID, coffer.ActorUser, f.user.ID, coffer.RoleOwner, 2)
	put(store.ScopeProject, f.project.ID, coffer.ActorUser, f.user.ID, coffer.RoleViewer, 3)
	put(store.ScopeProject, other.ID, coffer.ActorUser, f.user.ID, coffer.RoleAdmin, 4)
	put(store.ScopeProject, elsewhere.ID, coffer.ActorUser, f.user.ID, coffer.RoleAdmin, 5)
	put(store.ScopeProject, f.project.ID, coffer.ActorIdentity, f.user.ID, coffer.RoleNoAccess, 6) // same id, other kind

	if id, err := db.FirstOrgOf(ctx, coffer.ActorUser, f.user.ID); err != nil || id != second.ID {
		t.Errorf("FirstOrgOf = %q, %v; want the oldest membership's org %s", id, err, second.ID)
	}
	_, err := db.FirstOrgOf(ctx, coffer.ActorIdentity, f.user.ID)
	wantCode(t, err, coffer.ENOTFOUND)

	roles, err := db.ListActorProjectRoles(ctx, f.org.ID, coffer.ActorUser, f.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{f.project.ID: coffer.RoleViewer, other.ID: coffer.RoleAdmin}; !maps.Equal(roles, want) {
		t.Errorf("ListActorProjectRoles = %v; want %v (this organization, this kind)", roles, want)
	}
	if roles, err := db.ListActorProjectRoles(ctx, f.org.ID, coffer.ActorUser, store.NewID()); err != nil || roles == nil || len(roles) != 0 {
		t.Errorf("ListActorProjectRoles of a stranger = %#v, %v; want an empty map", roles, err)
	}

	mustTx(t, db, func(tx *store.Tx) error { return tx.LockProject(ctx, f.project.ID) })
	wantCode(t, db.InTx(ctx, func(tx *store.Tx) error { return tx.LockProject(ctx, store.NewID()) }), coffer.ENOTFOUND)
}
