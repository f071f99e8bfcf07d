package storetest

import (
	"slices"
	"testing"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/keyring"
	"github.com/cofferhq/coffer/internal/store"
)

func envSlugs(envs []coffer.Environment) []string {
	var out []string
	for _, e := range envs {
		out = append(out, e.Slug)
	}
	return out
}

func testProjects(t *testing.T, db *store.DB) {
	ctx := t.Context()
	org := createOrg(t, db, "acme")
	// Environments inserted out of order come back by position.
	beta := newProject(org.ID, "beta")
	beta.Name = "Beta"
	e := beta.Environments
	beta.Environments = []coffer.Environment{e[2], e[0], e[1]}
	mustTx(t, db, func(tx *store.Tx) error { return tx.CreateProject(ctx, beta) })
	alpha := newProject(org.ID, "alpha")
	alpha.Name = "Alpha"
	mustTx(t, db, func(tx *store.Tx) error { return tx.CreateProject(ctx, alpha) })
	createProject(t, db, createOrg(t, db, "other").ID, "gamma")

	wantEnvs := []string{"dev", "staging", "prod"}
	byID, err := db.FindProject(ctx, beta.ID)
	if err != nil {
		t.Fatal(err)
	}
	bySlug, err := db.FindProjectBySlug(ctx, org.ID, "beta")
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]*coffer.Project{"FindProject": byID, "FindProjectBySlug": bySlug} {
		if p.ID != beta.ID || p.OrgID != org.ID || p.Name != "Beta" || p.Slug != "beta" {
			t.Errorf("%s = %+v; want project beta", name, p)
		}
		wantTime(t, name+" CreatedAt", p.CreatedAt, t0)
		if got := envSlugs(p.Environments); !slices.Equal(got, wantEnvs) {
			t.Errorf("%s environments = %v; want %v (by position)", name, got, wantEnvs)
		}
		for _, e := range p.Environments {
			if e.ID == "" || e.ProjectID != beta.ID {
				t.Errorf("%s environment %+v: want an ID and ProjectID %s", name, e, beta.ID)
			}
			root, err := db.FindFolderByPath(ctx, e.ID, "/")
			if err != nil {
				t.Fatalf("root folder of %s: %v", e.Slug, err)
			}
			if root.ParentID != "" || root.EnvironmentID != e.ID || root.Version != 1 {
				t.Errorf("root folder of %s = %+v; want no parent, version 1", e.Slug, root)
			}
		}
	}
	if staging, _ := byID.Environment("staging"); staging.Name != "Staging" || staging.Position != 2 {
		t.Errorf("staging = %+v; want name Staging, position 2", staging)
	}

	list, err := db.ListProjects(ctx, org.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Slug != "alpha" || list[1].Slug != "beta" {
		t.Fatalf("ListProjects = %v; want alpha, beta (by name, this organization only)", list)
	}
	for _, p := range list {
		if got := envSlugs(p.Environments); !slices.Equal(got, wantEnvs) {
			t.Errorf("ListProjects %s environments = %v; want %v", p.Slug, got, wantEnvs)
		}
		for _, e := range p.Environments {
			if e.ProjectID != p.ID {
				t.Errorf("ListProjects %s has environment %s of project %s", p.Slug, e.ID, e.ProjectID)
			}
		}
	}
	if list, err := db.ListProjects(ctx, store.NewID()); err != nil || len(list) != 0 {
		t.Errorf("ListProjects of an unknown org = %v, %v; want none", list, err)
	}

	_, err = db.FindProject(ctx, store.NewID())
	wantCode(t, err, coffer.ENOTFOUND)
	_, err = db.FindProjectBySlug(ctx, org.ID, "gamma")
	wantCode(t, err, coffer.ENOTFOUND)

	beta.Name, beta.Slug, beta.UpdatedAt = "Beta 2", "beta-2", at(5)
	mustTx(t, db, func(tx *store.Tx) error { return tx.UpdateProject(ctx, beta) })
	if got, err := db.FindProjectBySlug(ctx, org.ID, "beta-2"); err != nil || got.Name != "Beta 2" {
		t.Fatalf("after UpdateProject: %+v, %v", got, err)
	} else {
		wantTime(t, "UpdatedAt", got.UpdatedAt, at(5))
	}
	missing := newProject(org.ID, "missing")
	wantCode(t, db.InTx(ctx, func(tx *store.Tx) error { return tx.UpdateProject(ctx, missing) }), coffer.ENOTFOUND)
}

func testProjectSlugConflict(t *testing.T, db *store.DB) {
	ctx := t.Context()
	org, other := createOrg(t, db, "one"), createOrg(t, db, "two")
	createProject(t, db, org.ID, "web")
	err := db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateProject(ctx, newProject(org.ID, "web")) })
	wantConflict(t, err)
	if list, err := db.ListProjects(ctx, org.ID); err != nil || len(list) != 1 {
		t.Fatalf("ListProjects after the conflict = %v, %v; want the first project only", list, err)
	}
	// The same slug in another organization is another project.
	p := createProject(t, db, other.ID, "web")
	if got, err := db.FindProjectBySlug(ctx, other.ID, "web"); err != nil || got.ID != p.ID {
		t.Fatalf("FindProjectBySlug(other org) = %+v, %v; want %s", got, err, p.ID)
	}
	// So is an environment slug: unique per project only.
	err = db.InTx(ctx, func(tx *store.Tx) error {
		return tx.CreateEnvironment(ctx, &coffer.Environment{ProjectID: p.ID, Name: "Dev again", Slug: "dev", Position: 4})
	})
	wantConflict(t, err)
}

func testDeleteProjectCascades(t *testing.T, db *store.DB) {
	f := newFixture(t, db)
	ctx := t.Context()
	keep := createProject(t, db, f.org.ID, "keep")
	keepSecret := newSecret(keep, mustEnv(t, keep, "dev"), findFolder(t, db, mustEnv(t, keep, "dev").ID, "/"), "", "KEEP", []byte("k"))
	createSecret(t, db, keepSecret, nil)

	folder := mkdirAll(t, db, f.dev.ID, "/deep/er")
	tag := &coffer.Tag{ID: store.NewID(), ProjectID: f.project.ID, Slug: "t", Name: "T", CreatedAt: t0, UpdatedAt: t0}
	mustTx(t, db, func(tx *store.Tx) error {
		if err := tx.CreateTag(ctx, tag); err != nil {
			return err
		}
		if err := tx.CreateProjectKey(ctx, keyring.WrappedKey{ProjectID: f.project.ID, Term: 1, Wrapped: []byte{1, 2, 3}}, t0.UnixMilli()); err != nil {
			return err
		}
		return tx.CreateSecretImport(ctx, &coffer.SecretImport{ID: store.NewID(), FolderID: folder.ID, ImportEnv: f.prod,
			ImportPath: "/", Position: 1, CreatedAt: t0, UpdatedAt: t0})
	})
	s1 := newSecret(f.project, f.dev, f.root, "", "ROOT", []byte("r"))
	s1.Tags = []coffer.Tag{*tag}
	s2 := newSecret(f.project, f.dev, folder, f.user.ID, "DEEP", []byte("d"))
	createSecret(t, db, s1, nil)
	createSecret(t, db, s2, nil)
	mustTx(t, db, func(tx *store.Tx) error {
		return tx.PutMembership(ctx, store.ScopeProject, &coffer.Membership{ScopeID: f.project.ID, ActorKind: coffer.ActorUser,
			ActorID: f.user.ID, Role: coffer.RoleAdmin}, t0)
	})

	mustTx(t, db, func(tx *store.Tx) error { return tx.DeleteProject(ctx, f.project.ID) })

	_, err := db.FindProject(ctx, f.project.ID)
	wantCode(t, err, coffer.ENOTFOUND)
	if keys, err := db.ProjectKeys(ctx, f.project.ID); err != nil || len(keys) != 0 {
		t.Errorf("ProjectKeys after DeleteProject = %v, %v; want none", keys, err)
	}
	for _, id := range []string{f.root.ID, folder.ID} {
		_, err := db.FindFolder(ctx, id)
		wantCode(t, err, coffer.ENOTFOUND)
	}
	for _, s := range []*store.SealedSecret{s1, s2} {
		_, err := db.FindSecretVersion(ctx, s.ID, 1)
		wantCode(t, err, coffer.ENOTFOUND)
	}
	if got, err := db.FindSecrets(ctx, store.SecretFilter{FolderIDs: []string{f.root.ID, folder.ID}, OwnerID: f.user.ID}); err != nil || len(got) != 0 {
		t.Errorf("FindSecrets after DeleteProject = %v, %v; want none", got, err)
	}
	if tags, err := db.ListTags(ctx, f.project.ID); err != nil || len(tags) != 0 {
		t.Errorf("ListTags after DeleteProject = %v, %v; want none", tags, err)
	}
	if imps, err := db.ListSecretImports(ctx, folder.ID); err != nil || len(imps) != 0 {
		t.Errorf("ListSecretImports after DeleteProject = %v, %v; want none", imps, err)
	}
	if ms, err := db.ListMemberships(ctx, store.ScopeProject, f.project.ID); err != nil || len(ms) != 0 {
		t.Errorf("project memberships after DeleteProject = %v, %v; want none", ms, err)
	}
	// The other project is untouched.
	if got, err := db.FindSecretVersion(ctx, keepSecret.ID, 1); err != nil || string(got.SealedValue) != "k" {
		t.Errorf("other project's secret = %+v, %v; want it kept", got, err)
	}
	wantCode(t, db.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteProject(ctx, f.project.ID) }), coffer.ENOTFOUND)
}

func testProjectKeys(t *testing.T, db *store.DB) {
	f := newFixture(t, db)
	ctx := t.Context()
	other := createProject(t, db, f.org.ID, "other")
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	keys := []keyring.WrappedKey{
		{ProjectID: f.project.ID, Term: 3, Wrapped: []byte{0xff, 0x00, 0xfe, 0x00}},
		{ProjectID: f.project.ID, Term: 1, Wrapped: all},
		{ProjectID: f.project.ID, Term: 2, Wrapped: []byte{0x00}},
		{ProjectID: other.ID, Term: 1, Wrapped: []byte("other")},
	}
	mustTx(t, db, func(tx *store.Tx) error {
		for _, k := range keys {
			if err := tx.CreateProjectKey(ctx, k, t0.UnixMilli()); err != nil {
				return err
			}
		}
		return nil
	})
	got, err := db.ProjectKeys(ctx, f.project.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []keyring.WrappedKey{keys[1], keys[2], keys[0]}
	if len(got) != len(want) {
		t.Fatalf("ProjectKeys = %v; want %v", got, want)
	}
	for i := range want {
		if got[i].ProjectID != want[i].ProjectID || got[i].Term != want[i].Term {
			t.Errorf("ProjectKeys[%d] = project %s term %d; want project %s term %d", i, got[i].ProjectID, got[i].Term, want[i].ProjectID, want[i].Term)
		}
		wantBytes(t, "wrapped key", got[i].Wrapped, want[i].Wrapped)
	}
	err = db.InTx(ctx, func(tx *store.Tx) error {
		return tx.CreateProjectKey(ctx, keyring.WrappedKey{ProjectID: f.project.ID, Term: 2, Wrapped: []byte{9}}, 0)
	})
	wantConflict(t, err)
	if got, err := db.ProjectKeys(ctx, store.NewID()); err != nil || len(got) != 0 {
		t.Errorf("ProjectKeys of an unknown project = %v, %v; want none", got, err)
	}
}
