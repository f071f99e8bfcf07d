package projects

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/identity"
	"github.com/cofferhq/coffer/internal/keyring"
	"github.com/cofferhq/coffer/internal/store"
	"github.com/cofferhq/coffer/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }

// testNow is the fixed clock of every fixture: nanoseconds that the service must drop.
var testNow = time.Date(2025, 6, 1, 12, 0, 0, 123456789, time.UTC)

const testPassword = "correct horse battery staple"

// fixture is a service on a fresh, migrated database, with a raw handle for counting rows.
type fixture struct {
	dialect string
	db      *store.DB
	raw     *sql.DB
	root    []byte
	keys    *keyring.Keyring
	az      *authz.Authorizer
	ids     *identity.Service
	svc     *Service
}

// forEachDB runs fn, in parallel, against a fresh SQLite and a fresh PostgreSQL database.
func forEachDB(t *testing.T, fn func(t *testing.T, f *fixture)) {
	t.Helper()
	for _, dialect := range []string{store.SQLite, store.Postgres} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			fn(t, newFixture(t, dialect))
		})
	}
}

func newFixture(t *testing.T, dialect string) *fixture {
	t.Helper()
	ctx := context.Background()
	var dsn, rawDriver, rawDSN string
	switch dialect {
	case store.SQLite:
		dsn = filepath.Join(t.TempDir(), "coffer.db")
		rawDriver, rawDSN = "sqlite", "file:"+dsn+"?mode=ro"
	case store.Postgres:
		dsn = testenv.PostgresURL(t)
		rawDriver, rawDSN = "pgx", dsn
	}
	db, err := store.Open(ctx, dialect, dsn, store.Options{})
	if err != nil {
		t.Fatalf("open %s: %v", dialect, err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("migrate %s: %v", dialect, err)
	}
	raw, err := sql.Open(rawDriver, rawDSN)
	if err != nil {
		t.Fatalf("open raw %s: %v", dialect, err)
	}
	t.Cleanup(func() { raw.Close() })

	root, err := keyring.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := keyring.New(db, root)
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return testNow }
	az := &authz.Authorizer{DB: db}
	ids := identity.New(db, az, []byte("test-auth-secret-of-32-bytes-000"), now)
	return &fixture{dialect: dialect, db: db, raw: raw, root: root, keys: keys, az: az, ids: ids, svc: New(db, keys, az, ids, now)}
}

// count returns the number of rows of a table.
func (f *fixture) count(t *testing.T, table string) int {
	t.Helper()
	var n int
	if err := f.raw.QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// counts returns the row counts of the tables Bootstrap writes.
func (f *fixture) counts(t *testing.T) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range []string{"settings", "users", "organizations", "org_memberships", "identities", "access_tokens"} {
		out[table] = f.count(t, table)
	}
	return out
}

// bootstrap sets the instance up and returns the result and a context acting as its admin
// identity.
func (f *fixture) bootstrap(t *testing.T) (*BootstrapResult, context.Context) {
	t.Helper()
	res, err := f.svc.Bootstrap(context.Background(), "admin@example.com", testPassword, "Acme Corp")
	if err != nil {
		t.Fatalf("Bootstrap: %v", err)
	}
	return res, f.as(t, res.Token.Token)
}

// as returns a context whose actor is the one the token authenticates.
func (f *fixture) as(t *testing.T, token string) context.Context {
	t.Helper()
	a, err := f.ids.Authenticate(context.Background(), token, netip.MustParseAddr("127.0.0.1"))
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	return coffer.NewContextWithActor(context.Background(), a)
}

// identity creates an identity with an organization role in the admin's organization and
// returns it with a context acting as it.
func (f *fixture) identity(t *testing.T, adminCtx context.Context, name, orgRole string) (*coffer.Identity, context.Context) {
	t.Helper()
	ident, err := f.ids.CreateIdentity(adminCtx, coffer.ActorFromContext(adminCtx).OrgID, name, orgRole)
	if err != nil {
		t.Fatalf("CreateIdentity %s: %v", name, err)
	}
	return ident, f.as(t, f.token(t, ident))
}

// token issues a non-expiring token to an identity.
func (f *fixture) token(t *testing.T, ident *coffer.Identity) string {
	t.Helper()
	var issued *identity.Issued
	err := f.db.InTx(context.Background(), func(tx *store.Tx) (err error) {
		issued, err = f.ids.IssueTokenAuth(context.Background(), tx, ident)
		return err
	})
	if err != nil {
		t.Fatalf("IssueTokenAuth: %v", err)
	}
	return issued.Token
}

// otherOrg creates, directly through the store, a second organization with an admin identity,
// and returns the organization with a context acting as that admin.
func (f *fixture) otherOrg(t *testing.T) (*coffer.Organization, context.Context) {
	t.Helper()
	ctx := context.Background()
	org := &coffer.Organization{ID: store.NewID(), Name: "Other", Slug: "other-" + randomSuffix(6), CreatedAt: testNow, UpdatedAt: testNow}
	admin := &coffer.Identity{ID: store.NewID(), OrgID: org.ID, Name: "other-admin", OrgRole: coffer.RoleAdmin, CreatedAt: testNow, UpdatedAt: testNow}
	err := f.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateOrganization(ctx, org); err != nil {
			return err
		}
		return f.ids.CreateIdentityTx(ctx, tx, admin)
	})
	if err != nil {
		t.Fatalf("create other org: %v", err)
	}
	return org, f.as(t, f.token(t, admin))
}

// mustCreate creates a project with a name and slug ("" for a generated one) as the actor of ctx.
func (f *fixture) mustCreate(t *testing.T, ctx context.Context, name, slug string) *coffer.Project {
	t.Helper()
	p, err := f.svc.CreateProject(ctx, "", name, slug)
	if err != nil {
		t.Fatalf("CreateProject %s: %v", name, err)
	}
	return p
}

// wantCode fails unless err carries the domain code want ("" for no error) and, when given,
// its message contains each of msgParts.
func wantCode(t *testing.T, err error, want string, msgParts ...string) {
	t.Helper()
	if got := coffer.ErrorCode(err); got != want {
		t.Fatalf("error code = %q (%v), want %q", got, err, want)
	}
	var e *coffer.Error
	if want != "" && !errors.As(err, &e) {
		t.Fatalf("error %v is not a *coffer.Error", err)
	}
	for _, part := range msgParts {
		if !strings.Contains(coffer.ErrorMessage(err), part) {
			t.Errorf("error message %q does not contain %q", coffer.ErrorMessage(err), part)
		}
	}
}

func ptr[T any](v T) *T { return &v }
