package projects

import (
	"context"
	"testing"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/store"
)

func TestSetIdentityMembership(t *testing.T) {
	forEachDB(t, func(t *testing.T, f *fixture) {
		_, admin := f.bootstrap(t)
		p := f.mustCreate(t, admin, "Alpha", "alpha")
		ident, _ := f.identity(t, admin, "ci", coffer.RoleMember)

		m, err := f.svc.SetIdentityMembership(admin, p.ID, ident.ID, coffer.RoleViewer)
		if err != nil || m.ID == "" || m.ScopeID != p.ID || m.ActorKind != coffer.ActorIdentity || m.ActorID != ident.ID || m.Role != coffer.RoleViewer {
			t.Fatalf("SetIdentityMembership = %+v, %v", m, err)
		}
		changed, err := f.svc.SetIdentityMembership(admin, p.ID, ident.ID, coffer.RoleAdmin)
		if err != nil || changed.ID != m.ID || changed.Role != coffer.RoleAdmin {
			t.Fatalf("changing the role = %+v, %v; want the same membership as admin", changed, err)
		}
		ms, err := f.svc.ListMemberships(admin, p.ID)
		if err != nil || len(ms) != 1 || ms[0].ID != m.ID || ms[0].Role != coffer.RoleAdmin {
			t.Errorf("ListMemberships = %+v, %v", ms, err)
		}

		for _, tc := range []struct {
			name, identityID, role string
			wantCode, inMsg        string
		}{
			{"custom role", ident.ID, "owner", coffer.EVALIDATION, "role: must be one of admin, member, viewer, no-access"},
			{"empty role", ident.ID, "", coffer.EVALIDATION, "role:"},
			{"unknown identity", "00000000-0000-0000-0000-000000000000", coffer.RoleViewer, coffer.ENOTFOUND, "identity 00000000-0000-0000-0000-000000000000 not found"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := f.svc.SetIdentityMembership(admin, p.ID, tc.identityID, tc.role)
				wantCode(t, err, tc.wantCode, tc.inMsg)
			})
		}

		got, err := f.svc.DeleteIdentityMembership(admin, p.ID, ident.ID)
		if err != nil || got.ID != m.ID {
			t.Fatalf("DeleteIdentityMembership = %+v, %v", got, err)
		}
		_, err = f.svc.DeleteIdentityMembership(admin, p.ID, ident.ID)
		wantCode(t, err, coffer.ENOTFOUND)
		if ms, err := f.svc.ListMemberships(admin, p.ID); err != nil || ms == nil || len(ms) != 0 {
			t.Errorf("ListMemberships after delete = %v, %v; want an empty list", ms, err)
		}
	})
}

// TestProjectRoles checks what each project role of an org member identity allows.
func TestProjectRoles(t *testing.T) {
	type call struct {
		name string
		fn   func(ctx context.Context, f *fixture, p *coffer.Project, other *coffer.Identity) error
	}
	get := call{"GetProject", func(ctx context.Context, f *fixture, p *coffer.Project, _ *coffer.Identity) error {
		_, err := f.svc.GetProject(ctx, p.ID)
		return err
	}}
	list := call{"ListMemberships", func(ctx context.Context, f *fixture, p *coffer.Project, _ *coffer.Identity) error {
		_, err := f.svc.ListMemberships(ctx, p.ID)
		return err
	}}
	createEnv := call{"CreateEnvironment", func(ctx context.Context, f *fixture, p *coffer.Project, _ *coffer.Identity) error {
		_, err := f.svc.CreateEnvironment(ctx, p.ID, "QA "+store.NewID(), "qa-"+randomSuffix(6), 0)
		return err
	}}
	setMember := call{"SetIdentityMembership", func(ctx context.Context, f *fixture, p *coffer.Project, other *coffer.Identity) error {
		_, err := f.svc.SetIdentityMembership(ctx, p.ID, other.ID, coffer.RoleViewer)
		return err
	}}
	update := call{"UpdateProject", func(ctx context.Context, f *fixture, p *coffer.Project, _ *coffer.Identity) error {
		_, err := f.svc.UpdateProject(ctx, p.ID, ptr("Renamed"), nil)
		return err
	}}
	del := call{"DeleteProject", func(ctx context.Context, f *fixture, p *coffer.Project, _ *coffer.Identity) error {
		_, err := f.svc.DeleteProject(ctx, p.ID)
		return err
	}}

	tests := []struct {
		role    string
		allowed []call
		denied  []call
	}{
		{coffer.RoleViewer, []call{get, list}, []call{createEnv, setMember, update, del}},
		{coffer.RoleMember, []call{get, list}, []call{createEnv, setMember, update, del}},
		{coffer.RoleNoAccess, nil, []call{get, list, createEnv, setMember, update, del}},
		{coffer.RoleAdmin, []call{get, list, createEnv, setMember, update, del}, nil},
	}
	forEachDB(t, func(t *testing.T, f *fixture) {
		_, admin := f.bootstrap(t)
		other, _ := f.identity(t, admin, "other", coffer.RoleMember)
		for _, tc := range tests {
			t.Run(tc.role, func(t *testing.T) {
				p := f.mustCreate(t, admin, "Project "+tc.role, "")
				ident, ctx := f.identity(t, admin, tc.role, coffer.RoleMember)
				if _, err := f.svc.SetIdentityMembership(admin, p.ID, ident.ID, tc.role); err != nil {
					t.Fatal(err)
				}
				for _, c := range tc.denied {
					if err := c.fn(ctx, f, p, other); coffer.ErrorCode(err) != coffer.EFORBIDDEN {
						t.Errorf("%s as %s: %v, want EFORBIDDEN", c.name, tc.role, err)
					}
				}
				for _, c := range tc.allowed { // delete comes last
					if err := c.fn(ctx, f, p, other); err != nil {
						t.Errorf("%s as %s: %v", c.name, tc.role, err)
					}
				}
			})
		}

		// Without a membership, an org member has no access to a project.
		p := f.mustCreate(t, admin, "Closed", "")
		_, outsider := f.identity(t, admin, "outsider", coffer.RoleMember)
		_, err := f.svc.GetProject(outsider, p.ID)
		wantCode(t, err, coffer.EFORBIDDEN)
	})
}
