package storetest

import (
	"slices"
	"testing"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/store"
)

func testTags(t *testing.T, db *store.DB) {
	f := newFixture(t, db)
	ctx := t.Context()
	other := createProject(t, db, f.org.ID, "other")
	backend := &coffer.Tag{ID: store.NewID(), ProjectID: f.project.ID, Slug: "backend", Name: "Backend", Color: "#123456", CreatedAt: t0, UpdatedAt: t0}
	api := &coffer.Tag{ID: store.NewID(), ProjectID: f.project.ID, Slug: "api", Name: "API", CreatedAt: t0, UpdatedAt: t0}
	elsewhere := &coffer.Tag{ID: store.NewID(), ProjectID: other.ID, Slug: "backend", Name: "Backend", CreatedAt: t0, UpdatedAt: t0}
	mustTx(t, db, func(tx *store.Tx) error {
		for _, tag := range []*coffer.Tag{backend, api, elsewhere} { // a slug is unique per project only
			if err := tx.CreateTag(ctx, tag); err != nil {
				return err
			}
		}
		return nil
	})
	dup := &coffer.Tag{ID: store.NewID(), ProjectID: f.project.ID, Slug: "backend", Name: "Again", CreatedAt: t0, UpdatedAt: t0}
	wantConflict(t, db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateTag(ctx, dup) }))

	if got, err := db.FindTag(ctx, f.project.ID, backend.ID); err != nil || *got != *backend {
		t.Errorf("FindTag = %+v, %v; want %+v", got, err, backend)
	}
	if got, err := db.FindTagBySlug(ctx, f.project.ID, "api"); err != nil || *got != *api {
		t.Errorf("FindTagBySlug = %+v, %v; want %+v", got, err, api)
	}
	_, err := db.FindTag(ctx, f.project.ID, elsewhere.ID) // another project's tag
	wantCode(t, err, coffer.ENOTFOUND)
	_, err = db.FindTagBySlug(ctx, f.project.ID, "nope")
	wantCode(t, err, coffer.ENOTFOUND)
	list, err := db.ListTags(ctx, f.project.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := tagSlugsP(list); !slices.Equal(got, []string{"api", "backend"}) {
		t.Errorf("ListTags = %q; want api, backend", got)
	}

	api.Slug, api.Name, api.Color, api.UpdatedAt = "apis", "APIs", "#abcdef", at(3)
	mustTx(t, db, func(tx *store.Tx) error { return tx.UpdateTag(ctx, api) })
	if got, err := db.FindTag(ctx, f.project.ID, api.ID); err != nil || *got != *api {
		t.Errorf("after UpdateTag: %+v, %v; want %+v", got, err, api)
	}
	taken := *api
	taken.Slug = "backend"
	wantConflict(t, db.InTx(ctx, func(tx *store.Tx) error { return tx.UpdateTag(ctx, &taken) }))
	missing := *api
	missing.ID = store.NewID()
	wantCode(t, db.InTx(ctx, func(tx *store.Tx) error { return tx.UpdateTag(ctx, &missing) }), coffer.ENOTFOUND)

	// Deleting a tag takes it off the secrets that had it.
	s := newSecret(f.project, f.dev, f.root, "", "TAGGED", []byte("t"))
	s.Tags = []coffer.Tag{*backend, *api}
	createSecret(t, db, s, nil)
	mustTx(t, db, func(tx *store.Tx) error { return tx.DeleteTag(ctx, backend.ID) })
	got, err := db.FindSecrets(ctx, store.SecretFilter{FolderIDs: []string{f.root.ID}})
	if err != nil || len(got) != 1 {
		t.Fatalf("FindSecrets = %v, %v", got, err)
	}
	if slugs := tagSlugs(got[0].Tags); !slices.Equal(slugs, []string{"apis"}) {
		t.Errorf("tags after DeleteTag(backend) = %q; want apis", slugs)
	}
	wantCode(t, db.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteTag(ctx, backend.ID) }), coffer.ENOTFOUND)
	if got, err := db.FindTag(ctx, other.ID, elsewhere.ID); err != nil || got.Slug != "backend" {
		t.Errorf("other project's tag = %+v, %v; want it kept", got, err)
	}
}

func tagSlugsP(tags []*coffer.Tag) []string {
	var out []string
	for _, t := range tags {
		out = append(out, t.Slug)
	}
	return out
}

func testSecretImports(t *testing.T, db *store.DB) {
	f := newFixture(t, db)
	ctx := t.Context()
	fromStaging := &coffer.SecretImport{ID: store.NewID(), FolderID: f.root.ID, ImportEnv: f.staging, ImportPath: "/", Position: 2, CreatedAt: t0, UpdatedAt: t0}
	fromProd := &coffer.SecretImport{ID: store.NewID(), FolderID: f.root.ID, ImportEnv: f.prod, ImportPath: "/shared", Position: 1, CreatedAt: t0, UpdatedAt: at(1)}
	mustTx(t, db, func(tx *store.Tx) error {
		if err := tx.CreateSecretImport(ctx, fromStaging); err != nil {
			return err
		}
		return tx.CreateSecretImport(ctx, fromProd)
	})
	// Reads fill the folder's environment and the whole import environment.
	fromStaging.EnvironmentID, fromProd.EnvironmentID = f.dev.ID, f.dev.ID
	list, err := db.ListSecretImports(ctx, f.root.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || *list[0] != *fromProd || *list[1] != *fromStaging {
		t.Fatalf("ListSecretImports = %+v; want [%+v %+v] by position", list, fromProd, fromStaging)
	}
	if got, err := db.FindSecretImport(ctx, fromStaging.ID); err != nil || *got != *fromStaging {
		t.Fatalf("FindSecretImport = %+v, %v; want %+v", got, err, fromStaging)
	}

	fromStaging.ImportEnv, fromStaging.ImportPath, fromStaging.Position, fromStaging.UpdatedAt = f.prod, "/other", 0, at(5)
	mustTx(t, db, func(tx *store.Tx) error { return tx.UpdateSecretImport(ctx, fromStaging) })
	if got, err := db.FindSecretImport(ctx, fromStaging.ID); err != nil || *got != *fromStaging {
		t.Fatalf("after UpdateSecretImport: %+v, %v; want %+v", got, err, fromStaging)
	}
	if list, err := db.ListSecretImports(ctx, f.root.ID); err != nil || len(list) != 2 || list[0].ID != fromStaging.ID {
		t.Fatalf("ListSecretImports after moving it first = %+v, %v", list, err)
	}
	dup := &coffer.SecretImport{ID: store.NewID(), FolderID: f.root.ID, ImportEnv: f.prod, ImportPath: "/shared", Position: 9, CreatedAt: t0, UpdatedAt: t0}
	wantConflict(t, db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateSecretImport(ctx, dup) }))

	mustTx(t, db, func(tx *store.Tx) error { return tx.DeleteSecretImport(ctx, fromProd.ID) })
	if list, err := db.ListSecretImports(ctx, f.root.ID); err != nil || len(list) != 1 || list[0].ID != fromStaging.ID {
		t.Fatalf("ListSecretImports after delete = %+v, %v", list, err)
	}
	_, err = db.FindSecretImport(ctx, fromProd.ID)
	wantCode(t, err, coffer.ENOTFOUND)
	wantCode(t, db.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteSecretImport(ctx, fromProd.ID) }), coffer.ENOTFOUND)
	wantCode(t, db.InTx(ctx, func(tx *store.Tx) error { return tx.UpdateSecretImport(ctx, fromProd) }), coffer.ENOTFOUND)
}
