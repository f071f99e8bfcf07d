package storetest

import (
	"slices"
	"testing"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/store"
)

func folderPaths(fs []*coffer.Folder) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Path)
	}
	return out
}

// testFolderTree checks that subtree queries match whole path segments: /ab shares a prefix
// with /a, and the '_' of /a_b would be a wildcard to a careless LIKE.
func testFolderTree(t *testing.T, db *store.DB) {
	f := newFixture(t, db)
	ctx := t.Context()
	for _, p := range []string{"/a/b/c", "/ab", "/a_b", "/ax"} {
		mkdirAll(t, db, f.dev.ID, p)
	}
	mkdirAll(t, db, f.staging.ID, "/a/b") // another environment: never in dev's trees

	c := findFolder(t, db, f.dev.ID, "/a/b/c")
	b := findFolder(t, db, f.dev.ID, "/a/b")
	a := findFolder(t, db, f.dev.ID, "/a")
	ab := findFolder(t, db, f.dev.ID, "/ab")
	aUnder := findFolder(t, db, f.dev.ID, "/a_b")
	if c.ParentID != b.ID || b.ParentID != a.ID || a.ParentID != f.root.ID || c.Name != "c" {
		t.Fatalf("folder chain: c=%+v b=%+v a=%+v; want c in b in a in root", c, b, a)
	}
	if got, err := db.FindFolder(ctx, c.ID); err != nil || *got != *c {
		t.Fatalf("FindFolder = %+v, %v; want %+v", got, err, c)
	}

	trees := []struct {
		path string
		want []string
	}{
		{"/a", []string{"/a", "/a/b", "/a/b/c"}},
		{"/a/b", []string{"/a/b", "/a/b/c"}},
		{"/a_b", []string{"/a_b"}},
		{"/ab", []string{"/ab"}},
		{"/", []string{"/", "/a", "/a/b", "/a/b/c", "/a_b", "/ab", "/ax"}},
		{"/nope", nil},
	}
	for _, tc := range trees {
		got, err := db.ListFolderTree(ctx, f.dev.ID, tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if paths := folderPaths(got); !slices.Equal(paths, tc.want) {
			t.Errorf("ListFolderTree(%q) = %q; want %q", tc.path, paths, tc.want)
		}
	}
	children, err := db.ListChildFolders(ctx, f.root.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := folderPaths(children); !slices.Equal(got, []string{"/a", "/a_b", "/ab", "/ax"}) {
		t.Errorf("ListChildFolders(/) = %q; want /a /a_b /ab /ax by name", got)
	}
	// Inside a transaction the lookup locks the row on PostgreSQL; it must work on both.
	mustTx(t, db, func(tx *store.Tx) error {
		_, err := tx.FindFolderByPath(ctx, f.dev.ID, "/a/b")
		return err
	})
	_, err = db.FindFolderByPath(ctx, f.dev.ID, "/a/b/c/d")
	wantCode(t, err, coffer.ENOTFOUND)
	dup := &coffer.Folder{ID: store.NewID(), EnvironmentID: f.dev.ID, ParentID: f.root.ID, Name: "ab", Path: "/ab", Version: 1, CreatedAt: t0, UpdatedAt: t0}
	wantConflict(t, db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateFolder(ctx, dup) }))

	inC := newSecret(f.project, f.dev, c, "", "IN_C", []byte("c"))
	inAB := newSecret(f.project, f.dev, ab, "", "IN_AB", []byte("ab"))
	inAUnder := newSecret(f.project, f.dev, aUnder, "", "IN_A_B", []byte("a_b"))
	for _, s := range []*store.SealedSecret{inC, inAB, inAUnder} {
		createSecret(t, db, s, nil)
	}

	// Rename /a to /x: the subtree moves, its neighbours do not.
	mustTx(t, db, func(tx *store.Tx) error { return tx.RenameFolder(ctx, a, "x", at(10)) })
	if a.Path != "/x" || a.Name != "x" || a.Version != 2 {
		t.Errorf("renamed folder = %+v; want /x, name x, version 2", a)
	}
	got, err := db.ListFolderTree(ctx, f.dev.ID, "/")
	if err != nil {
		t.Fatal(err)
	}
	if paths := folderPaths(got); !slices.Equal(paths, []string{"/", "/a_b", "/ab", "/ax", "/x", "/x/b", "/x/b/c"}) {
		t.Errorf("tree after rename = %q", paths)
	}
	if moved := findFolder(t, db, f.dev.ID, "/x/b/c"); moved.ID != c.ID || moved.ParentID != b.ID {
		t.Errorf("/x/b/c = %+v; want folder %s still in %s", moved, c.ID, b.ID)
	}
	for _, p := range []string{"/a", "/a/b", "/a/b/c"} {
		_, err := db.FindFolderByPath(ctx, f.dev.ID, p)
		wantCode(t, err, coffer.ENOTFOUND)
	}
	for _, kept := range []*coffer.Folder{ab, aUnder} {
		got := findFolder(t, db, f.dev.ID, kept.Path)
		if *got != *kept {
			t.Errorf("%s after renaming /a = %+v; want unchanged %+v", kept.Path, got, kept)
		}
	}
	if got := findFolder(t, db, f.staging.ID, "/a/b"); got == nil {
		t.Error("staging's /a/b moved with dev's /a")
	}
	secrets, err := db.FindSecrets(ctx, store.SecretFilter{FolderIDs: []string{c.ID}})
	if err != nil || len(secrets) != 1 || secrets[0].Path != "/x/b/c" {
		t.Fatalf("secret of the moved folder = %v, %v; want path /x/b/c", secrets, err)
	}
	// Renaming onto an existing sibling conflicts and changes nothing.
	x := findFolder(t, db, f.dev.ID, "/x")
	wantConflict(t, db.InTx(ctx, func(tx *store.Tx) error { return tx.RenameFolder(ctx, x, "ab", at(11)) }))
	findFolder(t, db, f.dev.ID, "/x/b/c")

	// Delete /x: its subtree and its secrets go; /ab, /a_b and theirs stay.
	x = findFolder(t, db, f.dev.ID, "/x")
	mustTx(t, db, func(tx *store.Tx) error { return tx.DeleteFolder(ctx, x) })
	for _, p := range []string{"/x", "/x/b", "/x/b/c"} {
		_, err := db.FindFolderByPath(ctx, f.dev.ID, p)
		wantCode(t, err, coffer.ENOTFOUND)
	}
	_, err = db.FindSecretVersion(ctx, inC.ID, 1)
	wantCode(t, err, coffer.ENOTFOUND)
	left, err := db.FindSecrets(ctx, store.SecretFilter{FolderIDs: []string{c.ID, ab.ID, aUnder.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 2 || left[0].Key != "IN_A_B" || left[1].Key != "IN_AB" {
		t.Errorf("secrets after DeleteFolder(/x) = %v; want IN_A_B and IN_AB", left)
	}
	got, err = db.ListFolderTree(ctx, f.dev.ID, "/")
	if err != nil {
		t.Fatal(err)
	}
	if paths := folderPaths(got); !slices.Equal(paths, []string{"/", "/a_b", "/ab", "/ax"}) {
		t.Errorf("tree after delete = %q", paths)
	}
	wantCode(t, db.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteFolder(ctx, x) }), coffer.ENOTFOUND)
}
