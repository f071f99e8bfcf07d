package store_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cofferhq/coffer/internal/store"
	"github.com/cofferhq/coffer/internal/store/storetest"
	"github.com/cofferhq/coffer/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }

// TestSQLite runs the conformance suite on SQLite files in temporary directories.
func TestSQLite(t *testing.T) {
	t.Parallel()
	t.Run("MigrateFresh", func(t *testing.T) {
		t.Parallel()
		storetest.MigrateConcurrently(t, store.SQLite, filepath.Join(t.TempDir(), "fresh.db"), 1)
	})
	storetest.Run(t, func(t *testing.T) *store.DB { return storetest.OpenSQLite(t) })
}

// TestPostgres runs the conformance suite on PostgreSQL, one database per subtest. It skips
// without PostgreSQL, and fails instead when CI=true.
func TestPostgres(t *testing.T) {
	t.Parallel()
	t.Run("MigrateConcurrently", func(t *testing.T) {
		t.Parallel()
		storetest.MigrateConcurrently(t, store.Postgres, testenv.PostgresURL(t), 10)
	})
	storetest.Run(t, func(t *testing.T) *store.DB { return storetest.OpenPostgres(t) })
}
