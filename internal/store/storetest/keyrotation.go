package storetest

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/keyring"
	"github.com/cofferhq/coffer/internal/store"
	"github.com/cofferhq/coffer/internal/testenv"
)

// Project key rotation: key terms, retired keys, the search for ciphertexts of older terms, their
// compare-and-swap replacement, and the lock that keeps writers and rotations apart.

// sealedAt is a stand-in for a ciphertext of term: the keyring's layout (the term, 4 bytes
// big-endian, then the format version) followed by tag, which tells rows apart.
func sealedAt(term uint32, tag string) []byte {
	return append(binary.BigEndian.AppendUint32(nil, term), append([]byte{1}, tag...)...)
}

// termOf is the term a stand-in ciphertext (or a real one) begins with.
func termOf(ct []byte) uint32 { return binary.BigEndian.Uint32(ct) }

// wrappedKey is the stand-in wrapped data key of a project's term.
func wrappedKey(p *coffer.Project, term uint32) keyring.WrappedKey {
	return keyring.WrappedKey{ProjectID: p.ID, Term: term, Wrapped: fmt.Appendf(nil, "wrapped key %d of %s", term, p.Slug)}
}

// openRaw returns a fresh, migrated database of dialect and a plain database/sql handle on it:
// a retired key's bytes are visible to SQL only, no store method returns them.
func openRaw(t *testing.T, dialect string) (*store.DB, *sql.DB) {
	t.Helper()
	var dsn, driver, rawDSN string
	switch dialect {
	case store.SQLite:
		dsn = filepath.Join(t.TempDir(), "coffer.db")
		driver, rawDSN = "sqlite", "file:"+dsn+"?mode=ro"
	case store.Postgres:
		dsn = testenv.PostgresURL(t)
		driver, rawDSN = "pgx", dsn
	default:
		t.Fatalf("unknown dialect %q", dialect)
	}
	db := open(t, dialect, dsn)
	raw, err := sql.Open(driver, rawDSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return db, raw
}

func wantKeyTerm(t *testing.T, db *store.DB, projectID string, want uint32) {
	t.Helper()
	if got, err := db.KeyTerm(t.Context(), projectID); err != nil || got != want {
		t.Fatalf("KeyTerm = %d, %v; want %d", got, err, want)
	}
	var got uint32
	mustTx(t, db, func(tx *store.Tx) (err error) {
		got, err = tx.LockKeyTerm(t.Context(), projectID)
		return err
	})
	if got != want {
		t.Fatalf("LockKeyTerm = %d; want %d", got, want)
	}
}

func wantKeyInfos(t *testing.T, db *store.DB, projectID string, want []store.ProjectKeyInfo) {
	t.Helper()
	got, err := db.ProjectKeyInfos(t.Context(), projectID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("ProjectKeyInfos = %+v; want %+v", got, want)
	}
	for i, w := range want {
		if got[i].Term != w.Term {
			t.Errorf("ProjectKeyInfos[%d].Term = %d; want %d", i, got[i].Term, w.Term)
		}
		wantTime(t, fmt.Sprintf("term %d CreatedAt", w.Term), got[i].CreatedAt, w.CreatedAt)
		if w.RetiredAt.IsZero() {
			if !got[i].RetiredAt.IsZero() {
				t.Errorf("term %d RetiredAt = %v; want zero (live)", w.Term, got[i].RetiredAt)
			}
		} else {
			wantTime(t, fmt.Sprintf("term %d RetiredAt", w.Term), got[i].RetiredAt, w.RetiredAt)
		}
	}
}

func wantKeys(t *testing.T, what string, got []keyring.WrappedKey, want ...keyring.WrappedKey) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s = %d keys %v; want %d", what, len(got), got, len(want))
	}
	for i := range want {
		if got[i].ProjectID != want[i].ProjectID || got[i].Term != want[i].Term || !bytes.Equal(got[i].Wrapped, want[i].Wrapped) {
			t.Errorf("%s[%d] = project %s term %d %q; want project %s term %d %q", what, i,
				got[i].ProjectID, got[i].Term, got[i].Wrapped, want[i].ProjectID, want[i].Term, want[i].Wrapped)
		}
	}
}

// testProjectKeyTerms covers a project's key terms: the current term, new terms, key infos, and
// retirement, which destroys a key's bytes and hides it from every reader of keys.
func testProjectKeyTerms(t *testing.T, db *store.DB) {
	ctx := t.Context()
	db, raw := openRaw(t, db.Dialect())
	f := newFixture(t, db)
	other := createProject(t, db, f.org.ID, "other")

	// Migration 00010's default: a new project seals with term 1 before any key exists.
	wantKeyTerm(t, db, f.project.ID, 1)
	_, err := db.KeyTerm(ctx, store.NewID())
	wantCode(t, err, coffer.ENOTFOUND)
	wantCode(t, db.InTx(ctx, func(tx *store.Tx) error { _, err := tx.LockKeyTerm(ctx, store.NewID()); return err }), coffer.ENOTFOUND)

	mustTx(t, db, func(tx *store.Tx) error {
		if err := tx.CreateProjectKey(ctx, wrappedKey(f.project, 1), t0.UnixMilli()); err != nil {
			return err
		}
		return tx.CreateProjectKey(ctx, wrappedKey(other, 1), t0.UnixMilli())
	})
	for term := uint32(2); term <= 4; term++ {
		mustTx(t, db, func(tx *store.Tx) error {
			if err := tx.LockProject(ctx, f.project.ID); err != nil {
				return err
			}
			if err := tx.AddProjectKeyTerm(ctx, wrappedKey(f.project, term), at(int(term))); err != nil {
				return err
			}
			if got, err := tx.LockKeyTerm(ctx, f.project.ID); err != nil || got != term {
				return fmt.Errorf("LockKeyTerm in the rotating transaction = %d, %v; want %d", got, err, term)
			}
			return nil
		})
		wantKeyTerm(t, db, f.project.ID, term)
	}
	// A term that exists already, or an unknown project: refused, the term unchanged.
	wantConflict(t, db.InTx(ctx, func(tx *store.Tx) error { return tx.AddProjectKeyTerm(ctx, wrappedKey(f.project, 2), at(9)) }))
	wantKeyTerm(t, db, f.project.ID, 4)
	ghost := newProject(f.org.ID, "ghost")
	if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.AddProjectKeyTerm(ctx, wrappedKey(ghost, 1), at(9)) }); err == nil {
		t.Error("AddProjectKeyTerm of an unknown project succeeded")
	}
	if infos, err := db.ProjectKeyInfos(ctx, ghost.ID); err != nil || len(infos) != 0 {
		t.Errorf("ProjectKeyInfos of an unknown project = %v, %v; want none", infos, err)
	}
	wantKeyTerm(t, db, other.ID, 1)

	infos := []store.ProjectKeyInfo{{Term: 1, CreatedAt: t0}, {Term: 2, CreatedAt: at(2)}, {Term: 3, CreatedAt: at(3)}, {Term: 4, CreatedAt: at(4)}}
	wantKeyInfos(t, db, f.project.ID, infos)

	retire := func(below uint32, now time.Time) []uint32 {
		t.Helper()
		var got []uint32
		mustTx(t, db, func(tx *store.Tx) (err error) {
			got, err = tx.RetireProjectKeys(ctx, f.project.ID, below, now)
			return err
		})
		return got
	}
	if got := retire(3, at(10)); !slices.Equal(got, []uint32{1, 2}) {
		t.Fatalf("RetireProjectKeys(below 3) = %v; want [1 2]", got)
	}
	infos[0].RetiredAt, infos[1].RetiredAt = at(10), at(10)
	wantKeyInfos(t, db, f.project.ID, infos)
	if got := retire(3, at(11)); len(got) != 0 {
		t.Fatalf("RetireProjectKeys(below 3) again = %v; want none", got)
	}
	wantKeyInfos(t, db, f.project.ID, infos) // retired_at kept from the first time
	if got := retire(4, at(12)); !slices.Equal(got, []uint32{3}) {
		t.Fatalf("RetireProjectKeys(below 4) = %v; want [3] (1 and 2 are retired already)", got)
	}
	infos[2].RetiredAt = at(12)
	wantKeyInfos(t, db, f.project.ID, infos)
	wantKeyInfos(t, db, other.ID, []store.ProjectKeyInfo{{Term: 1, CreatedAt: t0}})
	wantKeyTerm(t, db, f.project.ID, 4)

	// Readers of keys see live keys only.
	keys, err := db.ProjectKeys(ctx, f.project.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantKeys(t, "ProjectKeys", keys, wrappedKey(f.project, 4))
	keys, err = db.ProjectKeys(ctx, other.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantKeys(t, "ProjectKeys of the other project", keys, wrappedKey(other, 1))
	all, err := db.AllProjectKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byProject := func(a, b keyring.WrappedKey) int { return cmp.Compare(a.ProjectID, b.ProjectID) }
	wantAll := []keyring.WrappedKey{wrappedKey(f.project, 4), wrappedKey(other, 1)}
	slices.SortFunc(all, byProject)
	slices.SortFunc(wantAll, byProject)
	wantKeys(t, "AllProjectKeys", all, wantAll...)

	// A retired key cannot be rewrapped (root-key rotation); a live one can.
	for term := uint32(1); term <= 3; term++ {
		k := wrappedKey(f.project, term)
		k.Wrapped = []byte("rewrapped")
		wantCode(t, db.InTx(ctx, func(tx *store.Tx) error { return tx.UpdateProjectKey(ctx, k) }), coffer.ENOTFOUND)
	}
	live := wrappedKey(f.project, 4)
	live.Wrapped = []byte("rewrapped 4")
	mustTx(t, db, func(tx *store.Tx) error { return tx.UpdateProjectKey(ctx, live) })
	if keys, err = db.ProjectKeys(ctx, f.project.ID); err != nil {
		t.Fatal(err)
	}
	wantKeys(t, "ProjectKeys after UpdateProjectKey", keys, live)

	// The retired keys' bytes are gone: an empty value, not NULL, read back as empty.
	query := `SELECT term, wrapped IS NULL, length(wrapped), wrapped FROM project_keys WHERE project_id = ? ORDER BY term`
	if db.Dialect() == store.Postgres {
		query = `SELECT term, wrapped IS NULL, length(wrapped), wrapped FROM project_keys WHERE project_id = $1 ORDER BY term`
	}
	rows, err := raw.QueryContext(ctx, query, f.project.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var terms []uint32
	for rows.Next() {
		var term uint32
		var isNull bool
		var n int
		var wrapped []byte
		if err := rows.Scan(&term, &isNull, &n, &wrapped); err != nil {
			t.Fatal(err)
		}
		terms = append(terms, term)
		want := []byte{}
		if term == 4 {
			want = live.Wrapped
		}
		if isNull || n != len(want) || !bytes.Equal(wrapped, want) {
			t.Errorf("stored key of term %d: NULL %v, length %d, %d bytes read; want not NULL, %d bytes", term, isNull, n, len(wrapped), len(want))
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(terms, []uint32{1, 2, 3, 4}) {
		t.Errorf("stored key terms = %v; want 1 to 4 (retired rows are kept)", terms)
	}
}

// staleRows are every secret and kept version of a project, keyed by row id, as StaleCiphertexts
// reports them.
type staleRows map[string]store.StaleCiphertext

// projectRows reads every row of the project's secrets (shared and the user's personal ones in
// the root folders of envs) and of their versions.
func projectRows(t *testing.T, db *store.DB, userID string, envs ...coffer.Environment) (secrets, versions staleRows) {
	t.Helper()
	ctx := t.Context()
	var folders []string
	for _, e := range envs {
		folders = append(folders, findFolder(t, db, e.ID, "/").ID)
	}
	ss, err := db.FindSecrets(ctx, store.SecretFilter{FolderIDs: folders, OwnerID: userID})
	if err != nil {
		t.Fatal(err)
	}
	secrets, versions = staleRows{}, staleRows{}
	for _, s := range ss {
		secrets[s.ID] = store.StaleCiphertext{ID: s.ID, SecretID: s.ID, EnvironmentID: s.EnvironmentID, Version: s.Version,
			Value: s.SealedValue, Comment: s.SealedComment}
		vs, err := db.ListSecretVersions(ctx, s.ID, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			versions[v.ID] = store.StaleCiphertext{ID: v.ID, IsVersion: true, SecretID: s.ID, EnvironmentID: s.EnvironmentID,
				Version: v.Version, Value: v.SealedValue, Comment: v.SealedComment}
		}
	}
	return secrets, versions
}

// below returns the rows whose value or comment is of a term below term, compared as numbers.
func (rows staleRows) below(term uint32) staleRows {
	out := staleRows{}
	for id, r := range rows {
		if termOf(r.Value) < term || termOf(r.Comment) < term {
			out[id] = r
		}
	}
	return out
}

// pageStale reads StaleCiphertexts through its cursor, limit rows at a time.
func pageStale(t *testing.T, db *store.DB, projectID string, term uint32, versions bool, limit int) []store.StaleCiphertext {
	t.Helper()
	var out []store.StaleCiphertext
	after := ""
	for range 1000 {
		batch, err := db.StaleCiphertexts(t.Context(), projectID, term, versions, after, limit)
		if err != nil {
			t.Fatal(err)
		}
		if len(batch) > limit {
			t.Fatalf("StaleCiphertexts(limit %d) returned %d rows", limit, len(batch))
		}
		if len(batch) == 0 {
			return out
		}
		out = append(out, batch...)
		after = batch[len(batch)-1].ID
	}
	t.Fatalf("StaleCiphertexts(term %d, versions %v, limit %d): the cursor never reached the end", term, versions, limit)
	return nil
}

// wantStale fails the test unless got holds every row of want exactly once, as stored, and
// nothing else.
func wantStale(t *testing.T, what string, got []store.StaleCiphertext, want staleRows) {
	t.Helper()
	seen := map[string]bool{}
	for _, g := range got {
		w, ok := want[g.ID]
		switch {
		case seen[g.ID]:
			t.Errorf("%s: row %s returned twice", what, g.ID)
		case !ok:
			t.Errorf("%s: row %s (terms %d/%d) returned; it is not stale or not the project's", what, g.ID, termOf(g.Value), termOf(g.Comment))
		case g.IsVersion != w.IsVersion || g.SecretID != w.SecretID || g.EnvironmentID != w.EnvironmentID || g.Version != w.Version ||
			!bytes.Equal(g.Value, w.Value) || !bytes.Equal(g.Comment, w.Comment):
			t.Errorf("%s: row %s = %+v; want %+v", what, g.ID, g, w)
		}
		seen[g.ID] = true
	}
	for id, w := range want {
		if !seen[id] {
			t.Errorf("%s: row %s (terms %d/%d) missing", what, id, termOf(w.Value), termOf(w.Comment))
		}
	}
}

// testStaleCiphertexts checks that StaleCiphertexts and CountStaleCiphertexts find exactly the
// project's rows with a value or a comment of an older term, that terms compare as numbers
// across byte boundaries, and that the cursor visits every row once.
func testStaleCiphertexts(t *testing.T, db *store.DB) {
	ctx := t.Context()
	f := newFixture(t, db)
	terms := []uint32{1, 127, 128, 255, 256, 257, 65535, 65536, 65537, 1 << 24}
	const newest = 1<<24 + 1 // no row is stale at any threshold up to this term
	prodRoot := findFolder(t, db, f.prod.ID, "/")
	add := func(i int, key string, value, comment uint32) *store.SealedSecret {
		env, folder, owner := f.dev, f.root, ""
		if i%2 == 1 {
			env, folder = f.prod, prodRoot
		}
		if i%3 == 2 {
			owner = f.user.ID
		}
		s := newSecret(f.project, env, folder, owner, key, sealedAt(value, key+" value"))
		s.SealedComment = sealedAt(comment, key+" comment")
		createSecret(t, db, s, nil)
		return s
	}
	update := func(s *store.SealedSecret, value, comment uint32) {
		s.Version++
		s.SealedValue, s.SealedComment = sealedAt(value, fmt.Sprint(s.Key, " value v", s.Version)), sealedAt(comment, fmt.Sprint(s.Key, " comment v", s.Version))
		mustTx(t, db, func(tx *store.Tx) error { return tx.UpdateSecret(ctx, s, nil) })
	}
	byKey := map[string]*store.SealedSecret{}
	for i, term := range terms {
		byKey[fmt.Sprint("VALUE_", term)] = add(i, fmt.Sprint("VALUE_", term), term, newest)
		byKey[fmt.Sprint("COMMENT_", term)] = add(i+1, fmt.Sprint("COMMENT_", term), newest, term)
	}
	// History: a kept version of an older term than its secret's current one, and the reverse.
	update(byKey["VALUE_1"], 65536, newest)
	update(byKey["COMMENT_256"], newest, 255)
	update(byKey["VALUE_65537"], 1, 1)

	// Another project with everything of term 1: never the first project's.
	other := createProject(t, db, f.org.ID, "other")
	otherDev := mustEnv(t, other, "dev")
	o := newSecret(other, otherDev, findFolder(t, db, otherDev.ID, "/"), "", "OTHER", sealedAt(1, "other value"))
	o.SealedComment = sealedAt(1, "other comment")
	createSecret(t, db, o, nil)
	o.Version, o.SealedValue = 2, sealedAt(1, "other value v2")
	mustTx(t, db, func(tx *store.Tx) error { return tx.UpdateSecret(ctx, o, nil) })

	secrets, versions := projectRows(t, db, f.user.ID, f.dev, f.prod)
	if len(secrets) != 2*len(terms) || len(versions) != 2*len(terms)+3 {
		t.Fatalf("the project has %d secrets, %d versions; want %d, %d", len(secrets), len(versions), 2*len(terms), 2*len(terms)+3)
	}
	otherSecrets, otherVersions := projectRows(t, db, "", otherDev)

	thresholds := append([]uint32{2, newest, newest + 1}, terms...)
	for _, term := range thresholds {
		wantS, wantV := secrets.below(term), versions.below(term)
		for _, limit := range []int{1, 4, 1000} {
			wantStale(t, fmt.Sprintf("secrets below term %d, %d at a time", term, limit), pageStale(t, db, f.project.ID, term, false, limit), wantS)
			wantStale(t, fmt.Sprintf("versions below term %d, %d at a time", term, limit), pageStale(t, db, f.project.ID, term, true, limit), wantV)
		}
		if n, err := db.CountStaleCiphertexts(ctx, f.project.ID, term); err != nil || n != len(wantS)+len(wantV) {
			t.Errorf("CountStaleCiphertexts(term %d) = %d, %v; want %d", term, n, err, len(wantS)+len(wantV))
		}
	}
	// Spot checks that the numeric expectation is the one meant (not only self-consistent).
	if s, v := len(secrets.below(256)), len(versions.below(256)); s != 9 || v != 10 {
		// Secrets: VALUE_127/128/255, COMMENT_1/127/128/255, COMMENT_256 and VALUE_65537 (now
		// of term 255 and 1). Versions: v1 of VALUE_ and COMMENT_1/127/128/255, and the v2 of
		// COMMENT_256 and VALUE_65537.
		t.Errorf("rows below term 256: %d secrets, %d versions; want 9, 10", s, v)
	}
	if n := len(secrets.below(1)) + len(versions.below(1)); n != 0 {
		t.Errorf("rows below term 1 = %d; want 0", n)
	}

	wantStale(t, "the other project's secrets", pageStale(t, db, other.ID, 2, false, 1), otherSecrets)
	wantStale(t, "the other project's versions", pageStale(t, db, other.ID, 2, true, 1), otherVersions)
	if n, err := db.CountStaleCiphertexts(ctx, other.ID, 2); err != nil || n != 3 {
		t.Errorf("CountStaleCiphertexts(other project) = %d, %v; want 3", n, err)
	}
	if rows, err := db.StaleCiphertexts(ctx, store.NewID(), newest+1, false, "", 10); err != nil || len(rows) != 0 {
		t.Errorf("StaleCiphertexts of an unknown project = %v, %v; want none", rows, err)
	}
	if n, err := db.CountStaleCiphertexts(ctx, store.NewID(), newest+1); err != nil || n != 0 {
		t.Errorf("CountStaleCiphertexts of an unknown project = %d, %v; want 0", n, err)
	}
}

// testResealCiphertext checks that ResealCiphertext replaces a row only when its value and
// comment are still the bytes read.
func testResealCiphertext(t *testing.T, db *store.DB) {
	ctx := t.Context()
	f := newFixture(t, db)
	create := func(key string) *store.SealedSecret {
		s := newSecret(f.project, f.dev, f.root, "", key, sealedAt(1, key+" value"))
		s.SealedComment = sealedAt(1, key+" comment")
		createSecret(t, db, s, nil)
		return s
	}
	staleOf := func(id string, versions bool) store.StaleCiphertext {
		t.Helper()
		rows := pageStale(t, db, f.project.ID, 2, versions, 100)
		for _, r := range rows {
			if r.ID == id || (versions && r.SecretID == id && r.Version == 1) {
				return r
			}
		}
		t.Fatalf("no stale row %s (versions %v) in %d rows", id, versions, len(rows))
		return store.StaleCiphertext{}
	}
	reseal := func(old store.StaleCiphertext, value, comment []byte) bool {
		t.Helper()
		var ok bool
		mustTx(t, db, func(tx *store.Tx) (err error) {
			ok, err = tx.ResealCiphertext(ctx, old, value, comment)
			return err
		})
		return ok
	}
	wantRow := func(what string, s *store.SealedSecret, version int, value, comment []byte) {
		t.Helper()
		if version == 0 {
			got, err := db.FindSecret(ctx, s.FolderID, s.Type, s.OwnerID, s.Key)
			if err != nil {
				t.Fatal(err)
			}
			wantBytes(t, what+" value", got.SealedValue, value)
			wantBytes(t, what+" comment", got.SealedComment, comment)
			return
		}
		got, err := db.FindSecretVersion(ctx, s.ID, version)
		if err != nil {
			t.Fatal(err)
		}
		wantBytes(t, what+" value", got.SealedValue, value)
		wantBytes(t, what+" comment", got.SealedComment, comment)
	}

	// Unchanged since read: replaced, the secret's row and its version's separately.
	s := create("KEY")
	row := staleOf(s.ID, false)
	if !reseal(row, sealedAt(2, "KEY value"), sealedAt(2, "KEY comment")) {
		t.Fatal("ResealCiphertext of an unchanged secret = false; want true")
	}
	wantRow("resealed secret", s, 0, sealedAt(2, "KEY value"), sealedAt(2, "KEY comment"))
	wantRow("its version", s, 1, sealedAt(1, "KEY value"), sealedAt(1, "KEY comment"))
	// The same read again (another node's job): the row has changed since, left alone.
	if reseal(row, sealedAt(3, "late"), sealedAt(3, "late")) {
		t.Error("ResealCiphertext of a row resealed since read = true; want false")
	}
	wantRow("secret resealed twice", s, 0, sealedAt(2, "KEY value"), sealedAt(2, "KEY comment"))
	vrow := staleOf(s.ID, true)
	if !reseal(vrow, sealedAt(2, "KEY value v1"), sealedAt(2, "KEY comment v1")) {
		t.Fatal("ResealCiphertext of an unchanged version = false; want true")
	}
	wantRow("resealed version", s, 1, sealedAt(2, "KEY value v1"), sealedAt(2, "KEY comment v1"))
	if reseal(vrow, sealedAt(3, "late"), sealedAt(3, "late")) {
		t.Error("ResealCiphertext of a version resealed since read = true; want false")
	}
	wantRow("version resealed twice", s, 1, sealedAt(2, "KEY value v1"), sealedAt(2, "KEY comment v1"))
	wantRow("secret after its version's reseal", s, 0, sealedAt(2, "KEY value"), sealedAt(2, "KEY comment"))

	// A write between the read and the reseal, of the value only or of the comment only: the
	// write's bytes stay.
	for _, field := range []string{"value", "comment"} {
		s := create("WRITTEN_" + field)
		row := staleOf(s.ID, false)
		s.Version++
		if field == "value" {
			s.SealedValue = sealedAt(2, "new value")
		} else {
			s.SealedComment = sealedAt(2, "new comment")
		}
		mustTx(t, db, func(tx *store.Tx) error { return tx.UpdateSecret(ctx, s, nil) })
		if reseal(row, sealedAt(2, "resealed"), sealedAt(2, "resealed")) {
			t.Errorf("ResealCiphertext after a write of the %s = true; want false", field)
		}
		wantRow("secret written after the read ("+field+")", s, 0, s.SealedValue, s.SealedComment)
	}

	// A deleted row.
	gone := create("GONE")
	row = staleOf(gone.ID, false)
	mustTx(t, db, func(tx *store.Tx) error { return tx.DeleteSecret(ctx, gone.ID) })
	if reseal(row, sealedAt(2, "x"), sealedAt(2, "y")) {
		t.Error("ResealCiphertext of a deleted secret = true; want false")
	}
}

// goTx runs fn in a transaction in a goroutine; the channel receives InTx's result.
func goTx(ctx context.Context, db *store.DB, fn func(tx *store.Tx) error) <-chan error {
	done := make(chan error, 1)
	go func() { done <- db.InTx(ctx, fn) }()
	return done
}

// holdTx runs fn in a transaction in a goroutine and keeps the transaction open, with the locks
// fn took, until the returned function is called; that function commits it and returns the
// result.
func holdTx(t *testing.T, db *store.DB, fn func(tx *store.Tx) error) (commit func() error) {
	t.Helper()
	ctx := t.Context()
	held, release := make(chan error, 1), make(chan struct{})
	done := goTx(ctx, db, func(tx *store.Tx) error {
		err := fn(tx)
		held <- err
		if err != nil {
			return err
		}
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	if err := waitDone(t, held, "the holding transaction"); err != nil {
		t.Fatalf("the holding transaction: %v", err)
	}
	var once sync.Once
	return func() error {
		once.Do(func() { close(release) })
		return waitDone(t, done, "the holding transaction's commit")
	}
}

// waitDone returns the result on done, failing the test if it takes longer than a slow machine
// could need.
func waitDone(t *testing.T, done <-chan error, what string) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not finish in 20s", what)
		return nil
	}
}

// stillBlocked fails the test if done has a result after a short wait. It can only pass wrongly
// (the transaction was slow to reach the lock), never fail wrongly: a transaction that has
// finished did not wait.
func stillBlocked(t *testing.T, done <-chan error, what string) {
	t.Helper()
	select {
	case err := <-done:
		t.Fatalf("%s finished (error: %v) while another transaction held the project's row", what, err)
	case <-time.After(300 * time.Millisecond):
	}
}

// testLockKeyTerm checks, on PostgreSQL, that LockKeyTerm and a rotation (LockProject, then
// AddProjectKeyTerm) exclude each other, so that no transaction seals with a term older than a
// committed rotation's. SQLite has one writer connection: its transactions never overlap.
func testLockKeyTerm(t *testing.T, db *store.DB) {
	if db.Dialect() != store.Postgres {
		t.Skip("SQLite's single writer runs one transaction at a time")
	}
	ctx := t.Context()
	f := newFixture(t, db)
	other := createProject(t, db, f.org.ID, "other")
	mustTx(t, db, func(tx *store.Tx) error {
		if err := tx.CreateProjectKey(ctx, wrappedKey(f.project, 1), t0.UnixMilli()); err != nil {
			return err
		}
		return tx.CreateProjectKey(ctx, wrappedKey(other, 1), t0.UnixMilli())
	})
	lockTerm := func(want uint32, got *uint32) func(tx *store.Tx) error {
		return func(tx *store.Tx) error {
			term, err := tx.LockKeyTerm(ctx, f.project.ID)
			if err == nil && want != 0 && term != want {
				err = fmt.Errorf("LockKeyTerm = %d; want %d", term, want)
			}
			if got != nil {
				*got = term
			}
			return err
		}
	}
	rotate := func(p *coffer.Project, term uint32) func(tx *store.Tx) error {
		return func(tx *store.Tx) error {
			if err := tx.LockProject(ctx, p.ID); err != nil {
				return err
			}
			return tx.AddProjectKeyTerm(ctx, wrappedKey(p, term), at(int(term)))
		}
	}

	// A writer holds term 1: the rotation to term 2 waits until it commits. Another project's
	// rotation does not.
	commit := holdTx(t, db, lockTerm(1, nil))
	rotation := goTx(ctx, db, rotate(f.project, 2))
	if err := waitDone(t, goTx(ctx, db, rotate(other, 2)), "the other project's rotation"); err != nil {
		t.Fatalf("the other project's rotation: %v", err)
	}
	stillBlocked(t, rotation, "the rotation")
	if err := commit(); err != nil {
		t.Fatal(err)
	}
	if err := waitDone(t, rotation, "the rotation"); err != nil {
		t.Fatalf("the rotation: %v", err)
	}
	wantKeyTerm(t, db, f.project.ID, 2)

	// A rotation to term 3 is under way: a writer's LockKeyTerm waits for it, then reads term 3.
	commit = holdTx(t, db, rotate(f.project, 3))
	var got uint32
	writer := goTx(ctx, db, lockTerm(0, &got))
	stillBlocked(t, writer, "LockKeyTerm")
	if err := commit(); err != nil {
		t.Fatal(err)
	}
	if err := waitDone(t, writer, "LockKeyTerm"); err != nil {
		t.Fatal(err)
	}
	if got != 3 {
		t.Fatalf("LockKeyTerm after the rotation committed = %d; want 3", got)
	}

	// Two writers of one project: the second LockKeyTerm waits for the first's commit (observed:
	// FOR NO KEY UPDATE conflicts with itself, as the revision triggers' UPDATE of the same row
	// did before LockKeyTerm existed), so writers of a project are serialized here already.
	commit = holdTx(t, db, lockTerm(3, nil))
	second := goTx(ctx, db, lockTerm(3, nil))
	stillBlocked(t, second, "a second LockKeyTerm")
	if err := commit(); err != nil {
		t.Fatal(err)
	}
	if err := waitDone(t, second, "the second LockKeyTerm"); err != nil {
		t.Fatal(err)
	}
}
