// Package storetest is the conformance suite of internal/store: the same tests run against
// SQLite and PostgreSQL, which proves that the store's one SQL text serves both engines. It
// also gives other packages' tests a fresh, migrated database (OpenSQLite, OpenPostgres).
//
// The suite stores arbitrary bytes where sealed values go: the store never sees plaintext, and
// neither does this package.
package storetest

import (
	"context"
	"database/sql"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"

	"github.com/cofferhq/coffer/internal/store"
	"github.com/cofferhq/coffer/internal/testenv"
)

// Run runs the conformance suite against databases made by open (each subtest gets a fresh,
// migrated DB). Subtests run in parallel.
func Run(t *testing.T, open func(t *testing.T) *store.DB) {
	tests := []struct {
		name string
		fn   func(t *testing.T, db *store.DB)
	}{
		{"MigrateTwiceIsNoop", testMigrateTwice},
		{"Users", testUsers},
		{"Organizations", testOrganizations},
		{"Memberships", testMemberships},
		{"Projects", testProjects},
		{"ProjectSlugConflict", testProjectSlugConflict},
		{"DeleteProjectCascades", testDeleteProjectCascades},
		{"ProjectKeys", testProjectKeys},
		{"ProjectKeyTerms", testProjectKeyTerms},
		{"StaleCiphertexts", testStaleCiphertexts},
		{"ResealCiphertext", testResealCiphertext},
		{"LockKeyTermExcludesRotation", testLockKeyTerm},
		{"FolderTree", testFolderTree},
		{"FindSecrets", testFindSecrets},
		{"SecretVersions", testSecretVersions},
		{"SecretConflict", testSecretConflict},
		{"SealedBytesRoundTrip", testSealedBytes},
		{"TxIsAllOrNothing", testTxAllOrNothing},
		{"TxPanicRollsBack", testTxPanic},
		{"Tags", testTags},
		{"ProjectRoles", testProjectRoles},
		{"SecretImports", testSecretImports},
		{"Identities", testIdentities},
		{"UniversalAuth", testUniversalAuth},
		{"ClientSecrets", testClientSecrets},
		{"UseClientSecretIsRaceSafe", testUseClientSecretRace},
		{"DeleteIdentity", testDeleteIdentity},
		{"AccessTokens", testAccessTokens},
		{"UseAccessTokenIsRaceSafe", testUseAccessTokenRace},
		{"ClaimSettingOnce", testClaimSetting},
		{"ActorLookups", testActorLookups},
		{"TimesAreUTCMilliseconds", testTimes},
		{"SQLiteWriteOutsideTxFails_ReadPoolIsReadOnly", testReadPoolReadOnly},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

// OpenSQLite returns a migrated SQLite database in a file of a temporary directory, closed
// when the test ends.
func OpenSQLite(t testing.TB) *store.DB {
	t.Helper()
	return open(t, store.SQLite, filepath.Join(t.TempDir(), "coffer.db"))
}

// OpenPostgres returns a migrated PostgreSQL database of its own (testenv.PostgresURL), closed
// and dropped when the test ends. Without PostgreSQL the test skips, or fails when CI=true. The
// calling package needs a TestMain that calls testenv.Run, which stops the throwaway server.
func OpenPostgres(t testing.TB) *store.DB {
	t.Helper()
	return open(t, store.Postgres, testenv.PostgresURL(t))
}

func open(t testing.TB, dialect, dsn string) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dialect, dsn, store.Options{})
	if err != nil {
		t.Fatalf("open %s: %v", dialect, err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close %s: %v", dialect, err)
		}
	})
	if err := db.Migrate(ctx, discard); err != nil {
		t.Fatalf("migrate %s: %v", dialect, err)
	}
	return db
}

var discard = slog.New(slog.DiscardHandler)

// MigrateConcurrently opens nodes handles on the empty database named by dialect and dsn (a
// PostgreSQL URL or an SQLite file path), checks that none reports it migrated, migrates it
// from every handle at once, and checks that each reports it migrated and that goose recorded
// every version exactly once. Concurrent migration is PostgreSQL's (an advisory lock); SQLite
// is one node, so call it with nodes = 1 there.
func MigrateConcurrently(t *testing.T, dialect, dsn string, nodes int) {
	t.Helper()
	ctx := t.Context()
	dbs := make([]*store.DB, nodes)
	for i := range dbs {
		db, err := store.Open(ctx, dialect, dsn, store.Options{MaxOpenConns: 2})
		if err != nil {
			t.Fatalf("open %s: %v", dialect, err)
		}
		t.Cleanup(func() { db.Close() })
		dbs[i] = db
	}
	if ok, err := dbs[0].Migrated(ctx); err != nil || ok {
		t.Fatalf("Migrated before Migrate = %v, %v; want false, nil", ok, err)
	}
	var wg sync.WaitGroup
	errs := make([]error, nodes)
	for i, db := range dbs {
		wg.Go(func() { errs[i] = db.Migrate(ctx, discard) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("node %d: Migrate: %v", i, err)
		}
	}
	for i, db := range dbs {
		if ok, err := db.Migrated(ctx); err != nil || !ok {
			t.Errorf("node %d: Migrated = %v, %v; want true, nil", i, ok, err)
		}
	}

	driver := map[string]string{store.SQLite: "sqlite", store.Postgres: "pgx"}[dialect]
	raw, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	rows, err := raw.QueryContext(ctx, `SELECT version_id, COUNT(*) FROM goose_db_version GROUP BY version_id ORDER BY version_id`)
	if err != nil {
		t.Fatalf("read goose_db_version: %v", err)
	}
	defer rows.Close()
	var versions []int64
	for rows.Next() {
		var v, n int64
		if err := rows.Scan(&v, &n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("goose_db_version has %d rows for version %d; want 1 (migrated more than once)", n, v)
		}
		versions = append(versions, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(versions) < 2 || versions[len(versions)-1] < 1 {
		t.Errorf("goose_db_version versions = %v; want 0 and every migration from 1", versions)
	}
}
