package storetest

import (
	"reflect"
	"testing"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/store"
)

// testProjectRoles: custom roles round-trip their permissions, a slug is unique per project,
// a rename moves the memberships that held the role, and every change (insert, update,
// delete) moves the project's revision, so that cached grants are never served stale.
func testProjectRoles(t *testing.T, db *store.DB) {
	ctx := t.Context()
	f := newFixture(t, db)
	rev := func() int64 {
		t.Helper()
		p, _, err := db.ProjectRevisions(ctx, f.project.ID)
		if err != nil {
			t.Fatalf("ProjectRevisions: %v", err)
		}
		return p
	}
	bumped := func(what string, before int64) int64 {
		t.Helper()
		after := rev()
		if after <= before {
			t.Errorf("%s: project revision %d -> %d, want it moved", what, before, after)
		}
		return after
	}
	r := &coffer.ProjectRole{ID: store.NewID(), ProjectID: f.project.ID, Slug: "ops", Name: "Ops", Description: "d",
		Permissions: []coffer.Permission{{Subject: "secrets", Actions: []string{"read", "edit"},
			Conditions: coffer.Conditions{Environment: coffer.Condition{Eq: "dev"}, SecretPath: coffer.Condition{Glob: "/app/**"}}},
			{Subject: "secrets", Actions: []string{"read"}, Inverted: true, Conditions: coffer.Conditions{SecretPath: coffer.Condition{In: []string{"/a", "/b"}}}}},
		CreatedAt: at(1), UpdatedAt: at(1)}
	r0 := rev()
	mustTx(t, db, func(tx *store.Tx) error { return tx.CreateProjectRole(ctx, r) })
	r1 := bumped("insert", r0)

	got, err := db.FindProjectRoleBySlug(ctx, f.project.ID, "ops")
	if err != nil || !reflect.DeepEqual(got, r) {
		t.Fatalf("FindProjectRoleBySlug = %+v, %v; want %+v", got, err, r)
	}
	if _, err := db.FindProjectRole(ctx, store.NewID(), r.ID); coffer.ErrorCode(err) != coffer.ENOTFOUND {
		t.Errorf("FindProjectRole in another project: %v, want ENOTFOUND", err)
	}
	dup := *r
	dup.ID = store.NewID()
	if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateProjectRole(ctx, &dup) }); !store.IsConflict(err) {
		t.Errorf("second role with slug ops: %v, want a conflict", err)
	}

	m := &coffer.Membership{ScopeID: f.project.ID, ActorKind: coffer.ActorIdentity, ActorID: store.NewID(), Role: "ops"}
	mustTx(t, db, func(tx *store.Tx) error { return tx.PutMembership(ctx, store.ScopeProject, m, at(2)) })
	r1 = rev()
	upd := *r
	upd.Slug, upd.Name, upd.Permissions, upd.UpdatedAt = "operators", "Operators", upd.Permissions[:1], at(3)
	mustTx(t, db, func(tx *store.Tx) error { return tx.UpdateProjectRole(ctx, &upd, "ops") })
	r2 := bumped("update", r1)
	if got, err := db.FindProjectRole(ctx, f.project.ID, r.ID); err != nil || !reflect.DeepEqual(got, &upd) {
		t.Errorf("after update: %+v, %v; want %+v", got, err, &upd)
	}
	if fm, err := db.FindMembership(ctx, store.ScopeProject, f.project.ID, m.ActorKind, m.ActorID); err != nil || fm.Role != "operators" {
		t.Errorf("membership after the rename: %+v, %v; want role operators", fm, err)
	}
	if n, err := db.CountRoleMemberships(ctx, f.project.ID, "operators"); err != nil || n != 1 {
		t.Errorf("CountRoleMemberships = %d, %v; want 1", n, err)
	}
	if rs, err := db.ListProjectRoles(ctx, f.project.ID); err != nil || len(rs) != 1 || rs[0].ID != r.ID {
		t.Errorf("ListProjectRoles = %v, %v; want the one role", rs, err)
	}
	mustTx(t, db, func(tx *store.Tx) error { return tx.DeleteProjectRole(ctx, r.ID) })
	bumped("delete", r2)
	if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteProjectRole(ctx, r.ID) }); coffer.ErrorCode(err) != coffer.ENOTFOUND {
		t.Errorf("second delete: %v, want ENOTFOUND", err)
	}
}
