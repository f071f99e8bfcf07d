// Package secrets is the service for a project's secret tree: secrets and their versions,
// folders, imports and tags, with reference expansion and import resolution done here, on
// the server. Every call is authorized through internal/authz; values are sealed by
// internal/keyring before they reach the store and opened only for a caller allowed to read
// them. Nothing here logs a value.
package secrets

import (
	"context"
	"fmt"
	"time"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/audit"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/cache"
	"github.com/cofferhq/coffer/internal/keyring"
	"github.com/cofferhq/coffer/internal/store"
)

// Service manages secrets, folders, imports and tags.
type Service struct {
	db     *store.DB
	keys   *keyring.Keyring
	authz  *authz.Authorizer
	now    func() time.Time
	cache  *cache.Cache // rendered listings; nil: none
	shared SharedCache  // sealed rendered listings shared by the nodes; nil: none
	// Audit records every change (in its transaction) and every read by a machine identity.
	Audit *audit.Log
}

// New returns a Service.
func New(db *store.DB, keys *keyring.Keyring, az *authz.Authorizer, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, keys: keys, authz: az, now: func() time.Time { return now().UTC().Truncate(time.Millisecond) }}
}

// Scope names a folder of a project: the project by id (or slug), an environment slug and a
// secret path.
type Scope struct {
	ProjectID   string
	ProjectSlug string
	Environment string
	Path        string
}

// located is a Scope resolved and authorized.
type located struct {
	grant *authz.Grant
	env   coffer.Environment
	path  string
}

// reader is what reads need from the store, inside a transaction or not.
type reader interface {
	FindFolderByPath(ctx context.Context, envID, path string) (*coffer.Folder, error)
	FindSecrets(ctx context.Context, f store.SecretFilter) ([]*store.SealedSecret, error)
	ListSecretImports(ctx context.Context, folderID string) ([]*coffer.SecretImport, error)
}

// locate validates a scope and resolves its project grant and environment.
func (s *Service) locate(ctx context.Context, sc Scope) (*located, error) {
	var g *authz.Grant
	var err error
	switch {
	case sc.ProjectID != "":
		g, err = s.authz.Project(ctx, sc.ProjectID)
	case sc.ProjectSlug != "":
		g, err = s.authz.ProjectBySlug(ctx, sc.ProjectSlug)
	default:
		return nil, coffer.Errorf(coffer.EVALIDATION, "projectId (workspaceId): required")
	}
	if err != nil {
		return nil, err
	}
	if sc.Environment == "" {
		return nil, coffer.Errorf(coffer.EVALIDATION, "environment: required")
	}
	env, ok := g.Project.Environment(sc.Environment)
	if !ok {
		return nil, coffer.Errorf(coffer.ENOTFOUND, "Environment with slug '%s' not found in project %s", sc.Environment, g.Project.ID)
	}
	p, err := coffer.CleanPath("secretPath", sc.Path)
	if err != nil {
		return nil, err
	}
	return &located{grant: g, env: env, path: p}, nil
}

// folder returns the folder at a located path, or a not-found error that names it.
func (l *located) folder(ctx context.Context, r reader) (*coffer.Folder, error) {
	return findFolder(ctx, r, l.env, l.path)
}

func findFolder(ctx context.Context, r reader, env coffer.Environment, path string) (*coffer.Folder, error) {
	f, err := r.FindFolderByPath(ctx, env.ID, path)
	if coffer.ErrorCode(err) == coffer.ENOTFOUND {
		return nil, coffer.Errorf(coffer.ENOTFOUND, "Folder with path '%s' in environment with slug '%s' not found", path, env.Slug)
	}
	return f, err
}

// inProjectTx runs fn in one write transaction that first takes the project's row lock
// (store.LockKeyTerm) and passes fn the key term new ciphertexts are sealed with. Every write
// of a project's secret tree goes through it, so all take their locks in one order: project,
// then folders, secrets and tags. That order, which the key rotation and the re-seal job keep
// too (project first), leaves no cycle for a deadlock; writes of one project were serialized
// on that row already by the revision triggers, so taking it first costs nothing.
//
// fn gets a context under which the keyring loads keys through tx (keyring.WithStore): while
// it holds the project's lock, nothing in it may wait for a second connection from a pool the
// writers queued behind that lock can hold entirely.
func (s *Service) inProjectTx(ctx context.Context, projectID string, fn func(ctx context.Context, tx *store.Tx, term uint32) error) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		term, err := tx.LockKeyTerm(ctx, projectID)
		if err != nil {
			return err
		}
		return fn(keyring.WithStore(ctx, tx), tx, term)
	})
}

// open decrypts a stored secret.
func (s *Service) open(ctx context.Context, ss *store.SealedSecret) (*coffer.Secret, error) {
	v, err := s.keys.Open(ctx, ss.ProjectID, keyring.SecretAAD(ss.ProjectID, ss.EnvironmentID, ss.ID, ss.Version, "value"), ss.SealedValue)
	if err != nil {
		return nil, fmt.Errorf("open value of secret %s v%d: %w", ss.ID, ss.Version, err)
	}
	c, err := s.keys.Open(ctx, ss.ProjectID, keyring.SecretAAD(ss.ProjectID, ss.EnvironmentID, ss.ID, ss.Version, "comment"), ss.SealedComment)
	if err != nil {
		return nil, fmt.Errorf("open comment of secret %s v%d: %w", ss.ID, ss.Version, err)
	}
	sec := ss.Secret
	sec.Value, sec.Comment = coffer.NewPlaintext(string(v)), coffer.NewPlaintext(string(c))
	return &sec, nil
}

func (s *Service) openAll(ctx context.Context, sealed []*store.SealedSecret) ([]*coffer.Secret, error) {
	out := make([]*coffer.Secret, len(sealed))
	for i, ss := range sealed {
		sec, err := s.open(ctx, ss)
		if err != nil {
			return nil, err
		}
		out[i] = sec
	}
	return out, nil
}

// seal encrypts a secret's value and comment for its current version with the project's data
// key of term (read by the write's transaction with LockKeyTerm).
func (s *Service) seal(ctx context.Context, sec *coffer.Secret, term uint32) (*store.SealedSecret, error) {
	v, err := s.keys.SealTerm(ctx, sec.ProjectID, term, keyring.SecretAAD(sec.ProjectID, sec.EnvironmentID, sec.ID, sec.Version, "value"), []byte(sec.Value.Reveal()))
	if err != nil {
		return nil, fmt.Errorf("seal value of secret %s: %w", sec.ID, err)
	}
	c, err := s.keys.SealTerm(ctx, sec.ProjectID, term, keyring.SecretAAD(sec.ProjectID, sec.EnvironmentID, sec.ID, sec.Version, "comment"), []byte(sec.Comment.Reveal()))
	if err != nil {
		return nil, fmt.Errorf("seal comment of secret %s: %w", sec.ID, err)
	}
	return &store.SealedSecret{Secret: *sec, SealedValue: v, SealedComment: c}, nil
}

// actorUserID returns the user id of a user actor, or "" for an identity: only users have
// personal secrets.
func actorUserID(a *coffer.Actor) string {
	if a != nil && a.Kind == coffer.ActorUser {
		return a.ID
	}
	return ""
}
