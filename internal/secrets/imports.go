package secrets

import (
	"context"
	"slices"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/store"
)

// ListImports returns the imports of the scope's folder by position.
func (s *Service) ListImports(ctx context.Context, sc Scope) ([]*coffer.SecretImport, error) {
	l, err := s.locate(ctx, sc)
	if err != nil {
		return nil, err
	}
	if err := l.grant.Require(authz.Read, authz.Imports, l.env.Slug, l.path); err != nil {
		return nil, err
	}
	f, err := l.folder(ctx, s.db)
	if err != nil {
		return nil, err
	}
	return s.db.ListSecretImports(ctx, f.ID)
}

// ImportSource names the folder an import brings secrets from.
type ImportSource struct {
	Environment string
	Path        string
}

// importSource validates a source and checks that the actor may read it.
func (l *located) importSource(ctx context.Context, r reader, src ImportSource) (coffer.Environment, *coffer.Folder, error) {
	if src.Environment == "" {
		return coffer.Environment{}, nil, coffer.Errorf(coffer.EVALIDATION, "import.environment: required")
	}
	env, ok := l.grant.Project.Environment(src.Environment)
	if !ok {
		return env, nil, coffer.Errorf(coffer.ENOTFOUND, "import.environment: environment with slug '%s' not found", src.Environment)
	}
	p, err := coffer.CleanPath("import.path", src.Path)
	if err != nil {
		return env, nil, err
	}
	if err := l.grant.Require(authz.Read, authz.Secrets, env.Slug, p); err != nil {
		return env, nil, err
	}
	f, err := findFolder(ctx, r, env, p)
	return env, f, err
}

// checkImportCycle refuses an import of src into dst when src (through its own imports)
// already reaches dst, or is dst.
func checkImportCycle(ctx context.Context, r reader, dst, src *coffer.Folder) error {
	seen := map[string]bool{}
	queue := []*coffer.Folder{src}
	for len(queue) > 0 {
		f := queue[0]
		queue = queue[1:]
		if f.ID == dst.ID {
			return coffer.Errorf(coffer.EINVALID, "Cyclic import not allowed: %s already imports this folder", src.Path)
		}
		if seen[f.ID] || len(seen) > 1000 {
			continue
		}
		seen[f.ID] = true
		imps, err := r.ListSecretImports(ctx, f.ID)
		if err != nil {
			return err
		}
		for _, imp := range imps {
			nf, err := r.FindFolderByPath(ctx, imp.ImportEnv.ID, imp.ImportPath)
			if err == nil {
				queue = append(queue, nf)
			} else if coffer.ErrorCode(err) != coffer.ENOTFOUND {
				return err
			}
		}
	}
	return nil
}

// CreateImport adds an import of src at the end of the scope's folder's imports.
func (s *Service) CreateImport(ctx context.Context, sc Scope, src ImportSource) (*coffer.SecretImport, error) {
	l, err := s.locate(ctx, sc)
	if err != nil {
		return nil, err
	}
	if err := l.grant.Require(authz.Create, authz.Imports, l.env.Slug, l.path); err != nil {
		return nil, err
	}
	var out *coffer.SecretImport
	err = s.inProjectTx(ctx, l.grant.Project.ID, func(ctx context.Context, tx *store.Tx, _ uint32) error {
		dst, err := l.folder(ctx, tx)
		if err != nil {
			return err
		}
		env, srcFolder, err := l.importSource(ctx, tx, src)
		if err != nil {
			return err
		}
		if err := checkImportCycle(ctx, tx, dst, srcFolder); err != nil {
			return err
		}
		imps, err := tx.ListSecretImports(ctx, dst.ID)
		if err != nil {
			return err
		}
		for _, imp := range imps {
			if imp.ImportEnv.ID == env.ID && imp.ImportPath == srcFolder.Path {
				return coffer.Errorf(coffer.ECONFLICT, "This folder already imports %s of environment '%s'", srcFolder.Path, env.Slug)
			}
		}
		now := s.now()
		out = &coffer.SecretImport{ID: store.NewID(), FolderID: dst.ID, EnvironmentID: l.env.ID, ImportEnv: env, ImportPath: srcFolder.Path,
			Position: len(imps) + 1, CreatedAt: now, UpdatedAt: now}
		if err := tx.CreateSecretImport(ctx, out); err != nil {
			return err
		}
		return s.record(ctx, tx, l, coffer.ActionImportCreate, nil, importMetadata(out))
	})
	return out, err
}

// ImportUpdate changes an import; nil fields stay.
type ImportUpdate struct {
	Environment *string
	Path        *string
	Position    *int
}

// UpdateImport changes an import's source or moves it to another position (1-based), shifting
// the others.
func (s *Service) UpdateImport(ctx context.Context, sc Scope, id string, upd ImportUpdate) (*coffer.SecretImport, error) {
	l, err := s.locate(ctx, sc)
	if err != nil {
		return nil, err
	}
	if err := l.grant.Require(authz.Edit, authz.Imports, l.env.Slug, l.path); err != nil {
		return nil, err
	}
	var out *coffer.SecretImport
	err = s.inProjectTx(ctx, l.grant.Project.ID, func(ctx context.Context, tx *store.Tx, _ uint32) error {
		dst, imps, idx, err := s.findImport(ctx, tx, l, id)
		if err != nil {
			return err
		}
		imp := imps[idx]
		if upd.Environment != nil || upd.Path != nil {
			src := ImportSource{Environment: imp.ImportEnv.Slug, Path: imp.ImportPath}
			if upd.Environment != nil {
				src.Environment = *upd.Environment
			}
			if upd.Path != nil {
				src.Path = *upd.Path
			}
			env, srcFolder, err := l.importSource(ctx, tx, src)
			if err != nil {
				return err
			}
			if err := checkImportCycle(ctx, tx, dst, srcFolder); err != nil {
				return err
			}
			for _, other := range imps {
				if other != imp && other.ImportEnv.ID == env.ID && other.ImportPath == srcFolder.Path {
					return coffer.Errorf(coffer.ECONFLICT, "This folder already imports %s of environment '%s'", srcFolder.Path, env.Slug)
				}
			}
			imp.ImportEnv, imp.ImportPath = env, srcFolder.Path
		}
		if upd.Position != nil {
			if *upd.Position < 1 || *upd.Position > len(imps) {
				return coffer.Errorf(coffer.EVALIDATION, "import.position: must be between 1 and %d", len(imps))
			}
			imps = slices.Delete(imps, idx, idx+1)
			imps = slices.Insert(imps, *upd.Position-1, imp)
		}
		out = imp
		if err := s.saveImports(ctx, tx, imps, imp); err != nil {
			return err
		}
		return s.record(ctx, tx, l, coffer.ActionImportUpdate, nil, importMetadata(imp))
	})
	return out, err
}

// saveImports renumbers imports 1..n and saves those that changed (and changed, always).
func (s *Service) saveImports(ctx context.Context, tx *store.Tx, imps []*coffer.SecretImport, changed *coffer.SecretImport) error {
	now := s.now()
	for i, imp := range imps {
		if imp.Position == i+1 && imp != changed {
			continue
		}
		imp.Position, imp.UpdatedAt = i+1, now
		if err := tx.UpdateSecretImport(ctx, imp); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) findImport(ctx context.Context, tx *store.Tx, l *located, id string) (*coffer.Folder, []*coffer.SecretImport, int, error) {
	dst, err := l.folder(ctx, tx)
	if err != nil {
		return nil, nil, 0, err
	}
	imps, err := tx.ListSecretImports(ctx, dst.ID)
	if err != nil {
		return nil, nil, 0, err
	}
	for i, imp := range imps {
		if imp.ID == id {
			return dst, imps, i, nil
		}
	}
	return nil, nil, 0, coffer.Errorf(coffer.ENOTFOUND, "Secret import %s not found in path %s of environment '%s'", id, l.path, l.env.Slug)
}

// DeleteImport removes an import; later imports move up.
func (s *Service) DeleteImport(ctx context.Context, sc Scope, id string) (*coffer.SecretImport, error) {
	l, err := s.locate(ctx, sc)
	if err != nil {
		return nil, err
	}
	if err := l.grant.Require(authz.Delete, authz.Imports, l.env.Slug, l.path); err != nil {
		return nil, err
	}
	var out *coffer.SecretImport
	err = s.inProjectTx(ctx, l.grant.Project.ID, func(ctx context.Context, tx *store.Tx, _ uint32) error {
		_, imps, idx, err := s.findImport(ctx, tx, l, id)
		if err != nil {
			return err
		}
		out = imps[idx]
		if err := tx.DeleteSecretImport(ctx, out.ID); err != nil {
			return err
		}
		if err := s.saveImports(ctx, tx, slices.Delete(imps, idx, idx+1), nil); err != nil {
			return err
		}
		return s.record(ctx, tx, l, coffer.ActionImportDelete, nil, importMetadata(out))
	})
	return out, err
}
