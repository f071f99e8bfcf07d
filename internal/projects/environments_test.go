package projects

import (
	"context"
	"sync"
	"testing"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/store"
)

func TestCreateEnvironment(t *testing.T) {
	tests := []struct {
		name, env, slug string
		position        int
		wantPosition    int
		wantCode        string
		wantInMsg       string
	}{
		{name: "after the others", env: "QA", slug: "qa", wantPosition: 4},
		{name: "at a position", env: " Preview ", slug: "preview", position: 2, wantPosition: 2},
		{name: "duplicate slug", env: "Dev again", slug: "dev", wantCode: coffer.ECONFLICT, wantInMsg: "environment with slug dev already exists in this project"},
		{name: "bad slug", env: "Bad", slug: "Bad Slug", wantCode: coffer.EVALIDATION, wantInMsg: "slug:"},
		{name: "empty slug", env: "Bad", slug: "", wantCode: coffer.EVALIDATION, wantInMsg: "slug:"},
		{name: "empty name", env: "", slug: "empty", wantCode: coffer.EVALIDATION, wantInMsg: "name:"},
		{name: "negative position", env: "Neg", slug: "neg", position: -1, wantCode: coffer.EVALIDATION, wantInMsg: "position:"},
	}
	forEachDB(t, func(t *testing.T, f *fixture) {
		_, admin := f.bootstrap(t)
		p := f.mustCreate(t, admin, "Alpha", "alpha")
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				e, err := f.svc.CreateEnvironment(admin, p.ID, tc.env, tc.slug, tc.position)
				wantCode(t, err, tc.wantCode, tc.wantInMsg)
				if err != nil {
					return
				}
				if e.Slug != tc.slug || e.Position != tc.wantPosition || e.ProjectID != p.ID || e.ID == "" {
					t.Errorf("environment = %+v, want slug %s at position %d", e, tc.slug, tc.wantPosition)
				}
				if _, err := f.db.FindFolderByPath(context.Background(), e.ID, "/"); err != nil {
					t.Errorf("root folder: %v", err)
				}
				got, err := f.svc.GetProject(admin, p.ID)
				if err != nil {
					t.Fatal(err)
				}
				if stored, ok := got.Environment(tc.slug); !ok || stored.ID != e.ID || stored.Name != e.Name {
					t.Errorf("stored environment = %+v, %v; want %+v", stored, ok, e)
				}
			})
		}
	})
}

func TestUpdateEnvironment(t *testing.T) {
	forEachDB(t, func(t *testing.T, f *fixture) {
		_, admin := f.bootstrap(t)
		p := f.mustCreate(t, admin, "Alpha", "alpha")
		dev, staging := p.Environments[0], p.Environments[1]

		e, err := f.svc.UpdateEnvironment(admin, p.ID, dev.ID, ptr("Local"), ptr("local"), ptr(7))
		if err != nil || e.Name != "Local" || e.Slug != "local" || e.Position != 7 || e.ID != dev.ID {
			t.Fatalf("UpdateEnvironment = %+v, %v", e, err)
		}
		e, err = f.svc.UpdateEnvironment(admin, p.ID, dev.ID, nil, nil, nil)
		if err != nil || e.Name != "Local" || e.Slug != "local" || e.Position != 7 {
			t.Errorf("UpdateEnvironment without changes = %+v, %v", e, err)
		}
		got, _ := f.svc.GetProject(admin, p.ID)
		if last := got.Environments[len(got.Environments)-1]; last.ID != dev.ID || last.Slug != "local" {
			t.Errorf("environments after the move = %+v", got.Environments)
		}

		for _, tc := range []struct {
			name     string
			envID    string
			newName  *string
			slug     *string
			position *int
			wantCode string
			inMsg    string
		}{
			{"slug of another environment", staging.ID, nil, ptr("local"), nil, coffer.ECONFLICT, "environment with slug local already exists in this project"},
			{"unknown environment", store.NewID(), ptr("X"), nil, nil, coffer.ENOTFOUND, "environment"},
			{"bad slug", staging.ID, nil, ptr("No!"), nil, coffer.EVALIDATION, "slug:"},
			{"empty name", staging.ID, ptr(" "), nil, nil, coffer.EVALIDATION, "name:"},
			{"position 0", staging.ID, nil, nil, ptr(0), coffer.EVALIDATION, "position:"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := f.svc.UpdateEnvironment(admin, p.ID, tc.envID, tc.newName, tc.slug, tc.position)
				wantCode(t, err, tc.wantCode, tc.inMsg)
			})
		}

		// An environment of another project is not found through this one.
		q := f.mustCreate(t, admin, "Beta", "beta")
		_, err = f.svc.UpdateEnvironment(admin, p.ID, q.Environments[0].ID, ptr("X"), nil, nil)
		wantCode(t, err, coffer.ENOTFOUND)
	})
}

func TestDeleteEnvironment(t *testing.T) {
	forEachDB(t, func(t *testing.T, f *fixture) {
		_, admin := f.bootstrap(t)
		p := f.mustCreate(t, admin, "Alpha", "alpha")
		for i, e := range p.Environments {
			got, err := f.svc.DeleteEnvironment(admin, p.ID, e.ID)
			if i == len(p.Environments)-1 {
				wantCode(t, err, coffer.EINVALID, "last environment")
				break
			}
			if err != nil || got.ID != e.ID || got.Slug != e.Slug {
				t.Fatalf("DeleteEnvironment(%s) = %+v, %v", e.Slug, got, err)
			}
			if _, err := f.db.FindFolderByPath(context.Background(), e.ID, "/"); coffer.ErrorCode(err) != coffer.ENOTFOUND {
				t.Errorf("root folder of a deleted environment: %v", err)
			}
		}
		got, _ := f.svc.GetProject(admin, p.ID)
		if len(got.Environments) != 1 || got.Environments[0].Slug != "prod" {
			t.Errorf("environments left = %+v, want prod", got.Environments)
		}
		_, err := f.svc.DeleteEnvironment(admin, p.ID, p.Environments[0].ID)
		wantCode(t, err, coffer.ENOTFOUND)
	})
}

// TestDeleteEnvironmentsConcurrently: of two requests deleting the last two environments at
// once, one must lose, or the project would be left with none.
func TestDeleteEnvironmentsConcurrently(t *testing.T) {
	forEachDB(t, func(t *testing.T, f *fixture) {
		_, admin := f.bootstrap(t)
		for round := range 5 {
			p := f.mustCreate(t, admin, "Race", "")
			if _, err := f.svc.DeleteEnvironment(admin, p.ID, p.Environments[0].ID); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, e := range p.Environments[1:] {
				wg.Go(func() { _, errs[i] = f.svc.DeleteEnvironment(admin, p.ID, e.ID) })
			}
			wg.Wait()
			if c0, c1 := coffer.ErrorCode(errs[0]), coffer.ErrorCode(errs[1]); !(c0 == "" && c1 == coffer.EINVALID || c0 == coffer.EINVALID && c1 == "") {
				t.Fatalf("round %d: concurrent deletes = %v, %v; want one success and one EINVALID", round, errs[0], errs[1])
			}
		}
	})
}
