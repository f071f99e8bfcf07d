package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/store"
)

// t0 is the suite's clock: times come from the caller, so every test controls them. It is a
// whole millisecond, the precision the store keeps.
var t0 = time.Date(2025, 6, 7, 8, 9, 10, 123_000_000, time.UTC)

// at returns t0 plus n seconds.
func at(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }

// seq makes names unique within a test binary (databases are fresh, but readable names help).
var seq atomic.Int64

func uniq(prefix string) string { return fmt.Sprintf("%s-%d", prefix, seq.Add(1)) }

// fixture is an organization with a user and a project whose environments are dev, staging and
// prod, each with its root folder.
type fixture struct {
	db                 *store.DB
	org                *coffer.Organization
	user               *coffer.User
	project            *coffer.Project
	dev, staging, prod coffer.Environment
	root               *coffer.Folder // dev's "/"
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	f := &fixture{db: db}
	f.org = createOrg(t, db, uniq("org"))
	f.user = createUser(t, db, uniq("user")+"@example.com")
	f.project = createProject(t, db, f.org.ID, "app")
	f.dev, f.staging, f.prod = mustEnv(t, f.project, "dev"), mustEnv(t, f.project, "staging"), mustEnv(t, f.project, "prod")
	f.root = findFolder(t, db, f.dev.ID, "/")
	return f
}

func mustEnv(t *testing.T, p *coffer.Project, slug string) coffer.Environment {
	t.Helper()
	e, ok := p.Environment(slug)
	if !ok {
		t.Fatalf("project %s has no environment %q", p.Slug, slug)
	}
	return e
}

// mustTx runs fn in a write transaction and fails the test on error.
func mustTx(t *testing.T, db *store.DB, fn func(tx *store.Tx) error) {
	t.Helper()
	if err := db.InTx(t.Context(), fn); err != nil {
		t.Fatalf("InTx: %v", err)
	}
}

func createUser(t *testing.T, db *store.DB, email string) *coffer.User {
	t.Helper()
	u := &coffer.User{ID: store.NewID(), Email: email, PasswordHash: "$argon2id$fake", CreatedAt: t0, UpdatedAt: t0}
	mustTx(t, db, func(tx *store.Tx) error { return tx.CreateUser(t.Context(), u) })
	return u
}

func createOrg(t *testing.T, db *store.DB, slug string) *coffer.Organization {
	t.Helper()
	o := &coffer.Organization{ID: store.NewID(), Name: "Org " + slug, Slug: slug, CreatedAt: t0, UpdatedAt: t0}
	mustTx(t, db, func(tx *store.Tx) error { return tx.CreateOrganization(t.Context(), o) })
	return o
}

// newProject returns a project with copies of coffer.DefaultEnvironments (CreateProject fills
// their IDs: the package variable must not be shared).
func newProject(orgID, slug string) *coffer.Project {
	p := &coffer.Project{ID: store.NewID(), OrgID: orgID, Name: "Project " + slug, Slug: slug, CreatedAt: t0, UpdatedAt: t0,
		Environments: coffer.DefaultEnvironments()}
	for i := range p.Environments {
		p.Environments[i].CreatedAt, p.Environments[i].UpdatedAt = t0, t0
	}
	return p
}

func createProject(t *testing.T, db *store.DB, orgID, slug string) *coffer.Project {
	t.Helper()
	p := newProject(orgID, slug)
	mustTx(t, db, func(tx *store.Tx) error { return tx.CreateProject(t.Context(), p) })
	return p
}

func findFolder(t *testing.T, db *store.DB, envID, path string) *coffer.Folder {
	t.Helper()
	f, err := db.FindFolderByPath(t.Context(), envID, path)
	if err != nil {
		t.Fatalf("FindFolderByPath(%q): %v", path, err)
	}
	return f
}

// mkdirAll creates the folders of path that do not exist yet and returns the last one.
func mkdirAll(t *testing.T, db *store.DB, envID, path string) *coffer.Folder {
	t.Helper()
	var out *coffer.Folder
	mustTx(t, db, func(tx *store.Tx) error {
		ctx := t.Context()
		parent, err := tx.FindFolderByPath(ctx, envID, "/")
		if err != nil {
			return err
		}
		cur := "/"
		for _, name := range strings.Split(strings.Trim(path, "/"), "/") {
			cur = coffer.JoinPath(cur, name)
			f, err := tx.FindFolderByPath(ctx, envID, cur)
			if coffer.ErrorCode(err) == coffer.ENOTFOUND {
				f = &coffer.Folder{ID: store.NewID(), EnvironmentID: envID, ParentID: parent.ID, Name: name, Path: cur,
					Version: 1, CreatedAt: t0, UpdatedAt: t0}
				err = tx.CreateFolder(ctx, f)
			}
			if err != nil {
				return err
			}
			parent = f
		}
		out = parent
		return nil
	})
	return out
}

// newSecret returns an unsaved shared secret (or personal one when owner is set) of a folder.
func newSecret(p *coffer.Project, env coffer.Environment, folder *coffer.Folder, owner, key string, value []byte) *store.SealedSecret {
	s := &store.SealedSecret{SealedValue: value, SealedComment: []byte("sealed comment of " + key)}
	s.ID, s.ProjectID, s.EnvironmentID, s.FolderID = store.NewID(), p.ID, env.ID, folder.ID
	s.Type, s.OwnerID, s.Key, s.Version = coffer.SecretShared, owner, key, 1
	if owner != "" {
		s.Type = coffer.SecretPersonal
	}
	s.CreatedAt, s.UpdatedAt = t0, t0
	return s
}

func createSecret(t *testing.T, db *store.DB, s *store.SealedSecret, by *coffer.Actor) {
	t.Helper()
	mustTx(t, db, func(tx *store.Tx) error { return tx.CreateSecret(t.Context(), s, by) })
}

// wantCode fails the test unless err carries the domain error code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := coffer.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (err: %v); want %q", got, err, code)
	}
}

// wantConflict fails the test unless err is a unique-constraint conflict.
func wantConflict(t *testing.T, err error) {
	t.Helper()
	if !store.IsConflict(err) {
		t.Fatalf("store.IsConflict(%v) = false; want true", err)
	}
	wantCode(t, err, coffer.ECONFLICT)
}

// wantTime fails the test unless got is the instant want, in UTC.
func wantTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("%s = %v; want %v in UTC", what, got, want)
	}
}

func wantBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Errorf("%s = %x; want %x", what, got, want)
	}
}

// raceN runs fn from n goroutines started together and returns how many reported true.
func raceN(t *testing.T, n int, fn func(ctx context.Context) (bool, error)) int {
	t.Helper()
	start := make(chan struct{})
	results := make(chan error, n)
	var wins atomic.Int64
	for range n {
		go func() {
			<-start
			ok, err := fn(t.Context())
			if ok {
				wins.Add(1)
			}
			results <- err
		}()
	}
	close(start)
	var errs []error
	for range n {
		errs = append(errs, <-results)
	}
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent calls failed: %v", err)
	}
	return int(wins.Load())
}
