package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/store"
)

// label names a secret in failure messages and ordering checks: "path KEY" for a shared one,
// "path KEY@owner" for a personal one.
func label(s *store.SealedSecret, owners map[string]string) string {
	if s.Type == coffer.SecretPersonal {
		return fmt.Sprintf("%s %s@%s", s.Path, s.Key, owners[s.OwnerID])
	}
	return s.Path + " " + s.Key
}

func labels(ss []*store.SealedSecret, owners map[string]string) []string {
	var out []string
	for _, s := range ss {
		out = append(out, label(s, owners))
	}
	return out
}

func tagSlugs(tags []coffer.Tag) []string {
	var out []string
	for _, t := range tags {
		out = append(out, t.Slug)
	}
	return out
}

func testFindSecrets(t *testing.T, db *store.DB) {
	f := newFixture(t, db)
	ctx := t.Context()
	u1, u2 := f.user, createUser(t, db, "u2@example.com")
	owners := map[string]string{u1.ID: "u1", u2.ID: "u2"}
	app := mkdirAll(t, db, f.dev.ID, "/app")
	alpha := &coffer.Tag{ID: store.NewID(), ProjectID: f.project.ID, Slug: "alpha", Name: "Alpha", Color: "#f00", CreatedAt: t0, UpdatedAt: t0}
	prodOnly := &coffer.Tag{ID: store.NewID(), ProjectID: f.project.ID, Slug: "prod-only", Name: "Prod only", CreatedAt: t0, UpdatedAt: t0}
	mustTx(t, db, func(tx *store.Tx) error {
		if err := tx.CreateTag(ctx, alpha); err != nil {
			return err
		}
		return tx.CreateTag(ctx, prodOnly)
	})

	rootAPI := newSecret(f.project, f.dev, f.root, "", "API_KEY", []byte("api"))
	rootAPI.Tags = []coffer.Tag{*prodOnly, *alpha}
	rootAPI.Metadata = []coffer.SecretMetadata{{Key: "owner", Value: "team-ü"}, {Key: "ticket", Value: "SEC-1"}}
	rootAPI.ReminderNote, rootAPI.ReminderRepeatDays, rootAPI.SkipMultilineEncoding = "rotate me", 30, true
	rootAPI.UpdatedAt = at(1)
	// Inserted out of order: reads sort by path, key, shared before personal.
	for _, s := range []*store.SealedSecret{
		newSecret(f.project, f.dev, app, u1.ID, "TOKEN", []byte("tok-u1")),
		newSecret(f.project, f.dev, f.root, u2.ID, "DB_URL", []byte("db-u2")),
		newSecret(f.project, f.dev, f.root, u1.ID, "DB_URL", []byte("db-u1")),
		newSecret(f.project, f.dev, app, "", "API_KEY", []byte("app-api")),
		newSecret(f.project, f.dev, f.root, "", "DB_URL", []byte("db")),
		rootAPI,
	} {
		createSecret(t, db, s, &coffer.Actor{Kind: coffer.ActorUser, ID: u1.ID})
	}
	// Another environment's secret never shows up.
	createSecret(t, db, newSecret(f.project, f.staging, findFolder(t, db, f.staging.ID, "/"), "", "API_KEY", []byte("s")), nil)

	both := []string{app.ID, f.root.ID}
	filters := []struct {
		name   string
		filter store.SecretFilter
		want   []string
	}{
		{"owner u1", store.SecretFilter{FolderIDs: both, OwnerID: u1.ID},
			[]string{"/ API_KEY", "/ DB_URL", "/ DB_URL@u1", "/app API_KEY", "/app TOKEN@u1"}},
		{"no owner: shared only", store.SecretFilter{FolderIDs: both},
			[]string{"/ API_KEY", "/ DB_URL", "/app API_KEY"}},
		{"type shared", store.SecretFilter{FolderIDs: both, OwnerID: u1.ID, Type: coffer.SecretShared},
			[]string{"/ API_KEY", "/ DB_URL", "/app API_KEY"}},
		{"type personal u1", store.SecretFilter{FolderIDs: both, OwnerID: u1.ID, Type: coffer.SecretPersonal},
			[]string{"/ DB_URL@u1", "/app TOKEN@u1"}},
		{"type personal u2", store.SecretFilter{FolderIDs: both, OwnerID: u2.ID, Type: coffer.SecretPersonal},
			[]string{"/ DB_URL@u2"}},
		{"key", store.SecretFilter{FolderIDs: both, OwnerID: u2.ID, Key: "DB_URL"},
			[]string{"/ DB_URL", "/ DB_URL@u2"}},
		{"key missing", store.SecretFilter{FolderIDs: both, OwnerID: u2.ID, Key: "NOPE"}, nil},
		{"one folder", store.SecretFilter{FolderIDs: []string{app.ID}, OwnerID: u1.ID},
			[]string{"/app API_KEY", "/app TOKEN@u1"}},
		{"no folders", store.SecretFilter{OwnerID: u1.ID}, nil},
	}
	for _, tc := range filters {
		got, err := db.FindSecrets(ctx, tc.filter)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if l := labels(got, owners); !slices.Equal(l, tc.want) {
			t.Errorf("FindSecrets(%s) = %q; want %q", tc.name, l, tc.want)
		}
	}

	got, err := db.FindSecrets(ctx, store.SecretFilter{FolderIDs: both, OwnerID: u1.ID})
	if err != nil {
		t.Fatal(err)
	}
	checkSecret(t, got[0], rootAPI, "dev", "/")
	for _, s := range got[1:] {
		if len(s.Tags) != 0 || len(s.Metadata) != 0 || s.Environment != "dev" {
			t.Errorf("%s: tags %v metadata %v env %q; want no tags, no metadata, env dev", label(s, owners), s.Tags, s.Metadata, s.Environment)
		}
	}

	// FindSecret ignores the owner of a shared secret and picks the owner's personal one.
	one, err := db.FindSecret(ctx, f.root.ID, coffer.SecretShared, u2.ID, "API_KEY")
	if err != nil {
		t.Fatal(err)
	}
	checkSecret(t, one, rootAPI, "dev", "/")
	mustTx(t, db, func(tx *store.Tx) error { // locks the row on PostgreSQL
		s, err := tx.FindSecret(ctx, f.root.ID, coffer.SecretPersonal, u2.ID, "DB_URL")
		if err == nil && string(s.SealedValue) != "db-u2" {
			err = fmt.Errorf("FindSecret(personal u2) in a transaction = %q; want db-u2", s.SealedValue)
		}
		return err
	})
	_, err = db.FindSecret(ctx, f.root.ID, coffer.SecretPersonal, u1.ID, "API_KEY")
	wantCode(t, err, coffer.ENOTFOUND)
}

// checkSecret compares what the store read with what was written, plus the fields reads fill.
func checkSecret(t *testing.T, got, want *store.SealedSecret, env, path string) {
	t.Helper()
	if got.ID != want.ID || got.ProjectID != want.ProjectID || got.EnvironmentID != want.EnvironmentID || got.FolderID != want.FolderID ||
		got.Key != want.Key || got.Type != want.Type || got.OwnerID != want.OwnerID || got.Version != want.Version {
		t.Errorf("secret = %+v; want %+v", got.Secret, want.Secret)
	}
	if got.Environment != env || got.Path != path {
		t.Errorf("secret %s: Environment %q Path %q; want %q %q", got.Key, got.Environment, got.Path, env, path)
	}
	if got.ReminderNote != want.ReminderNote || got.ReminderRepeatDays != want.ReminderRepeatDays || got.SkipMultilineEncoding != want.SkipMultilineEncoding {
		t.Errorf("secret %s: reminder %q/%d skip-multiline %v; want %q/%d %v", got.Key, got.ReminderNote, got.ReminderRepeatDays,
			got.SkipMultilineEncoding, want.ReminderNote, want.ReminderRepeatDays, want.SkipMultilineEncoding)
	}
	if !slices.Equal(got.Metadata, want.Metadata) && len(got.Metadata)+len(want.Metadata) > 0 {
		t.Errorf("secret %s: metadata %v; want %v", got.Key, got.Metadata, want.Metadata)
	}
	wantSlugs := tagSlugs(want.Tags)
	slices.Sort(wantSlugs)
	if gotSlugs := tagSlugs(got.Tags); !slices.Equal(gotSlugs, wantSlugs) {
		t.Errorf("secret %s: tags %q; want %q (by slug)", got.Key, gotSlugs, wantSlugs)
	}
	for _, tag := range got.Tags {
		if tag.ID == "" || tag.ProjectID != want.ProjectID || tag.Name == "" {
			t.Errorf("secret %s: tag %+v not filled", got.Key, tag)
		}
	}
	wantBytes(t, "SealedValue of "+got.Key, got.SealedValue, want.SealedValue)
	wantBytes(t, "SealedComment of "+got.Key, got.SealedComment, want.SealedComment)
	if got.Value.Len() != 0 || got.Comment.Len() != 0 {
		t.Errorf("secret %s: plaintext Value/Comment set by the store", got.Key)
	}
	wantTime(t, "CreatedAt of "+got.Key, got.CreatedAt, want.CreatedAt)
	wantTime(t, "UpdatedAt of "+got.Key, got.UpdatedAt, want.UpdatedAt)
}

func testSecretVersions(t *testing.T, db *store.DB) {
	f := newFixture(t, db)
	ctx := t.Context()
	t1 := &coffer.Tag{ID: store.NewID(), ProjectID: f.project.ID, Slug: "one", Name: "One", CreatedAt: t0, UpdatedAt: t0}
	t2 := &coffer.Tag{ID: store.NewID(), ProjectID: f.project.ID, Slug: "two", Name: "Two", CreatedAt: t0, UpdatedAt: t0}
	mustTx(t, db, func(tx *store.Tx) error {
		if err := tx.CreateTag(ctx, t1); err != nil {
			return err
		}
		return tx.CreateTag(ctx, t2)
	})
	user := &coffer.Actor{Kind: coffer.ActorUser, ID: f.user.ID}
	machine := &coffer.Actor{Kind: coffer.ActorIdentity, ID: store.NewID()}
	s := newSecret(f.project, f.dev, f.root, "", "V", []byte("v1"))
	s.Tags = []coffer.Tag{*t1}
	createSecret(t, db, s, user)

	actors := map[int]*coffer.Actor{1: user, 2: machine, 3: nil, 4: user}
	keys := map[int]string{1: "V", 2: "V", 3: "V_RENAMED", 4: "V_RENAMED"}
	cur := *s
	for v := 2; v <= 4; v++ {
		next := cur
		next.Version, next.Key, next.UpdatedAt = v, keys[v], at(v)
		next.SealedValue, next.SealedComment = fmt.Appendf(nil, "v%d", v), fmt.Appendf(nil, "c%d", v)
		next.Tags = []coffer.Tag{*t2}
		next.Metadata = []coffer.SecretMetadata{{Key: "v", Value: fmt.Sprint(v)}}
		mustTx(t, db, func(tx *store.Tx) error { return tx.UpdateSecret(ctx, &next, actors[v]) })
		cur = next
	}
	got, err := db.FindSecret(ctx, f.root.ID, coffer.SecretShared, "", "V_RENAMED")
	if err != nil {
		t.Fatal(err)
	}
	checkSecret(t, got, &cur, "dev", "/")

	// A writer that read version 1 and raises it to 2 has lost the race.
	stale := *s
	stale.Version, stale.SealedValue, stale.UpdatedAt = 2, []byte("stale"), at(9)
	err = db.InTx(ctx, func(tx *store.Tx) error { return tx.UpdateSecret(ctx, &stale, user) })
	wantCode(t, err, coffer.ECONFLICT)
	if !errors.Is(err, store.ErrStale) {
		t.Fatalf("a stale update does not wrap store.ErrStale (the services retry on it): %v", err)
	}
	if got, err := db.FindSecretVersion(ctx, s.ID, 2); err != nil || string(got.SealedValue) != "v2" {
		t.Fatalf("version 2 after a stale update = %+v, %v; want v2 unchanged", got, err)
	}

	all, err := db.ListSecretVersions(ctx, s.ID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 4 {
		t.Fatalf("ListSecretVersions = %d versions; want 4", len(all))
	}
	for i, v := range all {
		n := 4 - i
		if v.Version != n || v.SecretID != s.ID || v.Key != keys[n] || string(v.SealedValue) != fmt.Sprintf("v%d", n) {
			t.Errorf("version[%d] = %d %q %q; want %d %q v%d (newest first)", i, v.Version, v.Key, v.SealedValue, n, keys[n], n)
		}
		wantActor := actors[n]
		if wantActor == nil {
			wantActor = &coffer.Actor{}
		}
		if v.ActorKind != wantActor.Kind || v.ActorID != wantActor.ID {
			t.Errorf("version %d actor = %q %q; want %q %q", n, v.ActorKind, v.ActorID, wantActor.Kind, wantActor.ID)
		}
		wantCreated := at(n) // each version is stamped with the secret's UpdatedAt
		if n == 1 {
			wantCreated = t0
		}
		wantTime(t, fmt.Sprintf("version %d CreatedAt", n), v.CreatedAt, wantCreated)
	}
	pages := []struct {
		offset, limit int
		want          []int
	}{
		{1, 2, []int{3, 2}},
		{3, 5, []int{1}},
		{4, 5, nil},
		{0, 1, []int{4}},
	}
	for _, p := range pages {
		vs, err := db.ListSecretVersions(ctx, s.ID, p.offset, p.limit)
		if err != nil {
			t.Fatal(err)
		}
		var nums []int
		for _, v := range vs {
			nums = append(nums, v.Version)
		}
		if !slices.Equal(nums, p.want) {
			t.Errorf("ListSecretVersions(offset %d, limit %d) = %v; want %v", p.offset, p.limit, nums, p.want)
		}
	}
	v2, err := db.FindSecretVersion(ctx, s.ID, 2)
	if err != nil {
		t.Fatal(err)
	}
	if v2.Version != 2 || string(v2.SealedComment) != "c2" || v2.ActorKind != coffer.ActorIdentity {
		t.Errorf("FindSecretVersion(2) = %+v", v2)
	}
	_, err = db.FindSecretVersion(ctx, s.ID, 99)
	wantCode(t, err, coffer.ENOTFOUND)

	// Delete takes the versions and the tag links along: a new secret with the same id starts
	// without either.
	mustTx(t, db, func(tx *store.Tx) error { return tx.DeleteSecret(ctx, s.ID) })
	_, err = db.FindSecret(ctx, f.root.ID, coffer.SecretShared, "", "V_RENAMED")
	wantCode(t, err, coffer.ENOTFOUND)
	if vs, err := db.ListSecretVersions(ctx, s.ID, 0, 10); err != nil || len(vs) != 0 {
		t.Fatalf("versions after DeleteSecret = %v, %v; want none", vs, err)
	}
	again := newSecret(f.project, f.dev, f.root, "", "V", []byte("again"))
	again.ID = s.ID
	createSecret(t, db, again, nil)
	if got, err := db.FindSecret(ctx, f.root.ID, coffer.SecretShared, "", "V"); err != nil || len(got.Tags) != 0 {
		t.Fatalf("re-created secret = %+v, %v; want no tags left from the deleted one", got, err)
	}
	if vs, err := db.ListSecretVersions(ctx, s.ID, 0, 10); err != nil || len(vs) != 1 {
		t.Fatalf("versions of the re-created secret = %d, %v; want 1", len(vs), err)
	}
	wantCode(t, db.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteSecret(ctx, store.NewID()) }), coffer.ENOTFOUND)
}

func testSecretConflict(t *testing.T, db *store.DB) {
	f := newFixture(t, db)
	ctx := t.Context()
	u2 := createUser(t, db, "u2@example.com")
	sub := mkdirAll(t, db, f.dev.ID, "/sub")
	stagingRoot := findFolder(t, db, f.staging.ID, "/")
	createSecret(t, db, newSecret(f.project, f.dev, f.root, "", "K", []byte("1")), nil)
	createSecret(t, db, newSecret(f.project, f.dev, f.root, f.user.ID, "K", []byte("2")), nil)
	// Same key elsewhere, or for another owner, is another secret.
	for _, s := range []*store.SealedSecret{
		newSecret(f.project, f.dev, f.root, u2.ID, "K", []byte("3")),
		newSecret(f.project, f.dev, sub, "", "K", []byte("4")),
		newSecret(f.project, f.staging, stagingRoot, "", "K", []byte("5")),
		newSecret(f.project, f.dev, f.root, "", "k", []byte("6")), // names are case-sensitive
	} {
		createSecret(t, db, s, nil)
	}
	for _, dup := range []*store.SealedSecret{
		newSecret(f.project, f.dev, f.root, "", "K", []byte("x")),
		newSecret(f.project, f.dev, f.root, f.user.ID, "K", []byte("y")),
	} {
		wantConflict(t, db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateSecret(ctx, dup, nil) }))
	}
	// Renaming onto a taken name conflicts too.
	other := newSecret(f.project, f.dev, f.root, "", "OTHER", []byte("o"))
	createSecret(t, db, other, nil)
	other.Version, other.Key = 2, "K"
	wantConflict(t, db.InTx(ctx, func(tx *store.Tx) error { return tx.UpdateSecret(ctx, other, nil) }))
	if got, err := db.FindSecrets(ctx, store.SecretFilter{FolderIDs: []string{f.root.ID}, OwnerID: f.user.ID}); err != nil || len(got) != 4 {
		t.Fatalf("secrets after conflicts = %d, %v; want 4", len(got), err)
	}
}

// testSealedBytes checks that sealed values and comments come back byte for byte: NUL bytes,
// high bytes, invalid UTF-8, empty, and the largest value allowed.
func testSealedBytes(t *testing.T, db *store.DB) {
	f := newFixture(t, db)
	ctx := t.Context()
	all := make([]byte, 512)
	for i := range all {
		all[i] = byte(i)
	}
	big := make([]byte, coffer.MaxSecretValueBytes+64)
	for i := range big {
		big[i] = byte(i*7 + i>>8)
	}
	values := []struct {
		name           string
		value, comment []byte
	}{
		{"every byte", all, slices.Clone(all[250:260])},
		{"nul", []byte{0}, []byte{0, 0}},
		{"high", []byte{0xff, 0xfe, 0x80, 0x00, 0xff}, []byte{0xc3}},
		{"invalid utf8", []byte("\xc3\x28 \xed\xa0\x80"), []byte("'; DROP TABLE secrets; --")},
		{"empty comment", []byte{1}, []byte{}},
		{"largest", big, big[:1024]},
	}
	var ids []string
	for i, v := range values {
		s := newSecret(f.project, f.dev, f.root, "", fmt.Sprintf("B%d", i), v.value)
		s.SealedComment = v.comment
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateSecret(ctx, s, nil) }); err != nil {
			t.Fatalf("%s: CreateSecret: %v", v.name, err)
		}
		ids = append(ids, s.ID)
	}
	// nil is NULL to both drivers, and the columns are NOT NULL: a value is always sealed (an
	// empty comment seals to a non-empty ciphertext), so a nil one is a caller's bug.
	for _, nilCase := range []struct{ value, comment []byte }{{nil, []byte{1}}, {[]byte{1}, nil}} {
		s := newSecret(f.project, f.dev, f.root, "", "NIL", nilCase.value)
		s.SealedComment = nilCase.comment
		err := db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateSecret(ctx, s, nil) })
		if err == nil || store.IsConflict(err) {
			t.Errorf("CreateSecret with nil sealed value %v / comment %v: err = %v; want a NOT NULL violation", nilCase.value == nil, nilCase.comment == nil, err)
		}
	}
	got, err := db.FindSecrets(ctx, store.SecretFilter{FolderIDs: []string{f.root.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(values) {
		t.Fatalf("FindSecrets = %d secrets; want %d", len(got), len(values))
	}
	for i, v := range values {
		wantBytes(t, v.name+" value", got[i].SealedValue, v.value)
		wantBytes(t, v.name+" comment", got[i].SealedComment, v.comment)
		ver, err := db.FindSecretVersion(ctx, ids[i], 1)
		if err != nil {
			t.Fatal(err)
		}
		wantBytes(t, v.name+" version value", ver.SealedValue, v.value)
		wantBytes(t, v.name+" version comment", ver.SealedComment, v.comment)
	}
}
