package projects

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"slices"
	"testing"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/keyring"
	"github.com/cofferhq/coffer/internal/store"
)

func TestCreateProjectByAdmin(t *testing.T) {
	forEachDB(t, func(t *testing.T, f *fixture) {
		_, admin := f.bootstrap(t)
		p, err := f.svc.CreateProject(admin, "", "My App", "")
		if err != nil {
			t.Fatalf("CreateProject: %v", err)
		}
		if p.Name != "My App" || p.OrgID != coffer.ActorFromContext(admin).OrgID || !regexp.MustCompile(`^my-app-[a-z0-9]{6}$`).MatchString(p.Slug) {
			t.Errorf("project = %+v, want My App in the admin's org with slug my-app-xxxxxx", p)
		}
		got, err := f.svc.GetProject(admin, p.ID)
		if err != nil {
			t.Fatalf("GetProject: %v", err)
		}
		var slugs []string
		for i, e := range got.Environments {
			slugs = append(slugs, e.Slug)
			if e.Position != i+1 || e.ProjectID != p.ID || !e.CreatedAt.Equal(testNow.Truncate(1e6)) {
				t.Errorf("environment %d = %+v", i, e)
			}
			if _, err := f.db.FindFolderByPath(context.Background(), e.ID, "/"); err != nil {
				t.Errorf("root folder of %s: %v", e.Slug, err)
			}
		}
		if want := []string{"dev", "staging", "prod"}; !slices.Equal(slugs, want) {
			t.Errorf("environments = %v, want %v", slugs, want)
		}
		for _, e := range coffer.DefaultEnvironments() {
			if e.ID != "" || e.ProjectID != "" {
				t.Errorf("CreateProject changed coffer.DefaultEnvironments: %+v", e)
			}
		}

		wrapped, err := f.db.ProjectKeys(context.Background(), p.ID)
		if err != nil || len(wrapped) != 1 || wrapped[0].Term != 1 {
			t.Fatalf("ProjectKeys = %+v, %v; want one key of term 1", wrapped, err)
		}
		sealed, err := f.keys.Seal(context.Background(), p.ID, []byte("aad"), []byte("value"))
		if err != nil {
			t.Fatalf("Seal: %v", err)
		}
		// A keyring that knows only the stored key (another node) opens what this one sealed.
		other, err := keyring.New(f.db, f.root)
		if err != nil {
			t.Fatal(err)
		}
		if plain, err := other.Open(context.Background(), p.ID, []byte("aad"), sealed); err != nil || !bytes.Equal(plain, []byte("value")) {
			t.Errorf("Open with the stored key = %q, %v", plain, err)
		}

		// Org admins are admins of every project without a membership.
		if ms, err := f.svc.ListMemberships(admin, p.ID); err != nil || len(ms) != 0 {
			t.Errorf("ListMemberships = %v, %v; want none", ms, err)
		}
	})
}

func TestCreateProject(t *testing.T) {
	tests := []struct {
		name      string
		orgRole   string // "" = the bootstrap admin
		org       string // "other" = an organization id that is not the actor's
		project   string
		slug      string
		wantCode  string
		wantInMsg string
	}{
		{name: "admin with a slug", project: "Web", slug: "web-prod"},
		{name: "member becomes project admin", orgRole: coffer.RoleMember, project: "Mine"},
		{name: "no-access identity", orgRole: coffer.RoleNoAccess, project: "Nope", wantCode: coffer.EFORBIDDEN},
		{name: "another organization", org: "other", project: "Web", wantCode: coffer.EFORBIDDEN},
		{name: "duplicate slug", project: "Taken again", slug: "taken", wantCode: coffer.ECONFLICT, wantInMsg: "a project with slug taken already exists"},
		{name: "empty name", project: " ", wantCode: coffer.EVALIDATION, wantInMsg: "projectName:"},
		{name: "name with a control character", project: "a\nb", wantCode: coffer.EVALIDATION, wantInMsg: "projectName:"},
		{name: "bad slug", project: "Web", slug: "Not A Slug", wantCode: coffer.EVALIDATION, wantInMsg: "slug:"},
	}
	forEachDB(t, func(t *testing.T, f *fixture) {
		_, admin := f.bootstrap(t)
		f.mustCreate(t, admin, "Taken", "taken")
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				ctx := admin
				var ident *coffer.Identity
				if tc.orgRole != "" {
					ident, ctx = f.identity(t, admin, "id-"+tc.orgRole, tc.orgRole)
				}
				org := ""
				if tc.org == "other" {
					org = store.NewID()
				}
				p, err := f.svc.CreateProject(ctx, org, tc.project, tc.slug)
				wantCode(t, err, tc.wantCode, tc.wantInMsg)
				if err != nil {
					return
				}
				if tc.slug != "" && p.Slug != tc.slug {
					t.Errorf("slug = %q, want %q", p.Slug, tc.slug)
				}
				if ident != nil {
					m, err := f.db.FindMembership(context.Background(), store.ScopeProject, p.ID, coffer.ActorIdentity, ident.ID)
					if err != nil || m.Role != coffer.RoleAdmin {
						t.Errorf("creator's project membership = %+v, %v; want admin", m, err)
					}
					// As project admin it may change the project's environments.
					if _, err := f.svc.CreateEnvironment(ctx, p.ID, "QA", "qa", 0); err != nil {
						t.Errorf("CreateEnvironment by the creator: %v", err)
					}
				}
			})
		}
	})
}

func TestCreateProjectUnauthenticated(t *testing.T) {
	f := newFixture(t, store.SQLite)
	_, err := f.svc.CreateProject(context.Background(), "", "Web", "")
	wantCode(t, err, coffer.EUNAUTHORIZED)
}

func TestProjectReads(t *testing.T) {
	forEachDB(t, func(t *testing.T, f *fixture) {
		_, admin := f.bootstrap(t)
		a := f.mustCreate(t, admin, "Alpha", "alpha")
		b := f.mustCreate(t, admin, "Beta", "beta")
		_, none := f.identity(t, admin, "none", coffer.RoleNoAccess)
		// The usual machine identity: no organization role, a role in one project.
		machine, machineCtx := f.identity(t, admin, "machine", coffer.RoleNoAccess)
		if _, err := f.svc.SetIdentityMembership(admin, b.ID, machine.ID, coffer.RoleMember); err != nil {
			t.Fatalf("SetIdentityMembership: %v", err)
		}
		member, memberCtx := f.identity(t, admin, "member", coffer.RoleMember)
		if _, err := f.svc.SetIdentityMembership(admin, b.ID, member.ID, coffer.RoleViewer); err != nil {
			t.Fatalf("SetIdentityMembership: %v", err)
		}

		got, err := f.svc.GetProjectBySlug(admin, "alpha")
		if err != nil || got.ID != a.ID || len(got.Environments) != 3 {
			t.Errorf("GetProjectBySlug(alpha) = %+v, %v", got, err)
		}
		_, err = f.svc.GetProjectBySlug(admin, "missing")
		wantCode(t, err, coffer.ENOTFOUND, "missing")
		_, err = f.svc.GetProject(admin, store.NewID())
		wantCode(t, err, coffer.ENOTFOUND)
		_, err = f.svc.GetProject(memberCtx, a.ID)
		wantCode(t, err, coffer.EFORBIDDEN)
		_, err = f.svc.GetProject(none, b.ID)
		wantCode(t, err, coffer.EFORBIDDEN)

		for _, tc := range []struct {
			name string
			ctx  context.Context
			want []string
		}{
			{"org admin sees all", admin, []string{"alpha", "beta"}},
			{"member sees its projects", memberCtx, []string{"beta"}},
			{"no-access sees none", none, nil},
			{"no-access identity sees the projects it is a member of", machineCtx, []string{"beta"}},
		} {
			ps, err := f.svc.ListProjects(tc.ctx)
			if err != nil {
				t.Fatalf("%s: ListProjects: %v", tc.name, err)
			}
			var slugs []string
			for _, p := range ps {
				slugs = append(slugs, p.Slug)
			}
			if ps == nil || !slices.Equal(slugs, tc.want) {
				t.Errorf("%s: ListProjects = %v, want %v", tc.name, slugs, tc.want)
			}
		}
	})
}

func TestUpdateProject(t *testing.T) {
	forEachDB(t, func(t *testing.T, f *fixture) {
		_, admin := f.bootstrap(t)
		p := f.mustCreate(t, admin, "Alpha", "alpha")
		f.mustCreate(t, admin, "Beta", "beta")

		got, err := f.svc.UpdateProject(admin, p.ID, ptr(" Alpha 2 "), nil)
		if err != nil || got.Name != "Alpha 2" || got.Slug != "alpha" {
			t.Fatalf("rename = %+v, %v", got, err)
		}
		got, err = f.svc.UpdateProject(admin, p.ID, nil, ptr("alpha-2"))
		if err != nil || got.Name != "Alpha 2" || got.Slug != "alpha-2" || len(got.Environments) != 3 {
			t.Fatalf("change slug = %+v, %v", got, err)
		}
		if got, err := f.svc.UpdateProject(admin, p.ID, nil, ptr("alpha-2")); err != nil || got.Slug != "alpha-2" {
			t.Errorf("keeping the slug = %+v, %v", got, err)
		}
		_, err = f.svc.UpdateProject(admin, p.ID, nil, ptr("beta"))
		wantCode(t, err, coffer.ECONFLICT, "beta")
		_, err = f.svc.UpdateProject(admin, p.ID, ptr(""), nil)
		wantCode(t, err, coffer.EVALIDATION, "name:")
		_, err = f.svc.UpdateProject(admin, p.ID, nil, ptr("UPPER"))
		wantCode(t, err, coffer.EVALIDATION, "slug:")

		member, memberCtx := f.identity(t, admin, "member", coffer.RoleMember)
		if _, err := f.svc.SetIdentityMembership(admin, p.ID, member.ID, coffer.RoleMember); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.UpdateProject(memberCtx, p.ID, ptr("Mine"), nil)
		wantCode(t, err, coffer.EFORBIDDEN)
	})
}

func TestDeleteProject(t *testing.T) {
	forEachDB(t, func(t *testing.T, f *fixture) {
		_, admin := f.bootstrap(t)
		p := f.mustCreate(t, admin, "Alpha", "alpha")
		if _, err := f.keys.Seal(context.Background(), p.ID, nil, []byte("v")); err != nil {
			t.Fatalf("Seal: %v", err)
		}
		member, memberCtx := f.identity(t, admin, "member", coffer.RoleMember)
		if _, err := f.svc.SetIdentityMembership(admin, p.ID, member.ID, coffer.RoleMember); err != nil {
			t.Fatal(err)
		}
		_, err := f.svc.DeleteProject(memberCtx, p.ID)
		wantCode(t, err, coffer.EFORBIDDEN)

		got, err := f.svc.DeleteProject(admin, p.ID)
		if err != nil || got.ID != p.ID {
			t.Fatalf("DeleteProject = %+v, %v", got, err)
		}
		_, err = f.svc.GetProject(admin, p.ID)
		wantCode(t, err, coffer.ENOTFOUND)
		for _, table := range []string{"projects", "environments", "folders", "project_keys", "project_memberships"} {
			if n := f.count(t, table); n != 0 {
				t.Errorf("%s has %d rows after DeleteProject", table, n)
			}
		}
		if _, err := f.keys.Seal(context.Background(), p.ID, nil, []byte("v")); !errors.Is(err, keyring.ErrNoProjectKey) {
			t.Errorf("Seal after DeleteProject: %v, want ErrNoProjectKey", err)
		}
		_, err = f.svc.DeleteProject(admin, p.ID)
		wantCode(t, err, coffer.ENOTFOUND)
	})
}

// TestCrossOrgIsolation: the admin of another organization sees nothing of the first one's
// projects, and the first one's admin cannot add the other organization's identities.
func TestCrossOrgIsolation(t *testing.T) {
	forEachDB(t, func(t *testing.T, f *fixture) {
		_, admin := f.bootstrap(t)
		p := f.mustCreate(t, admin, "Alpha", "alpha")
		mine, _ := f.identity(t, admin, "mine", coffer.RoleMember)
		_, other := f.otherOrg(t)
		theirs := coffer.ActorFromContext(other).ID

		for _, tc := range []struct {
			name string
			call func() error
		}{
			{"GetProject", func() error { _, err := f.svc.GetProject(other, p.ID); return err }},
			{"GetProjectBySlug", func() error { _, err := f.svc.GetProjectBySlug(other, "alpha"); return err }},
			{"UpdateProject", func() error { _, err := f.svc.UpdateProject(other, p.ID, ptr("x"), nil); return err }},
			{"DeleteProject", func() error { _, err := f.svc.DeleteProject(other, p.ID); return err }},
			{"CreateEnvironment", func() error { _, err := f.svc.CreateEnvironment(other, p.ID, "QA", "qa", 0); return err }},
			{"DeleteEnvironment", func() error {
				_, err := f.svc.DeleteEnvironment(other, p.ID, p.Environments[0].ID)
				return err
			}},
			{"SetIdentityMembership", func() error {
				_, err := f.svc.SetIdentityMembership(other, p.ID, mine.ID, coffer.RoleAdmin)
				return err
			}},
			{"ListMemberships", func() error { _, err := f.svc.ListMemberships(other, p.ID); return err }},
		} {
			t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.call(), coffer.ENOTFOUND) })
		}
		if ps, err := f.svc.ListProjects(other); err != nil || len(ps) != 0 {
			t.Errorf("other org's ListProjects = %v, %v; want none", ps, err)
		}
		_, err := f.svc.CreateProject(other, p.OrgID, "Sneaky", "")
		wantCode(t, err, coffer.EFORBIDDEN)

		_, err = f.svc.SetIdentityMembership(admin, p.ID, theirs, coffer.RoleViewer)
		wantCode(t, err, coffer.ENOTFOUND, "identity "+theirs+" not found")
		if n := f.count(t, "project_memberships"); n != 0 {
			t.Errorf("project_memberships has %d rows, want 0", n)
		}
		if got, err := f.svc.GetProject(admin, p.ID); err != nil || len(got.Environments) != 3 {
			t.Errorf("project after the other org's attempts = %+v, %v", got, err)
		}
	})
}
