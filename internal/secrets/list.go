package secrets

import (
	"context"
	"slices"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/store"
)

// PersonalMode says how a user's personal secrets appear in a listing.
type PersonalMode int

// Personal modes.
const (
	PersonalNone     PersonalMode = iota // shared secrets only
	PersonalBoth                         // shared and personal side by side (v3: the client picks)
	PersonalOverride                     // a personal secret replaces the shared one of the same key
)

// ListInput selects the secrets of a folder.
type ListInput struct {
	Scope
	Recursive      bool
	Expand         bool
	IncludeImports bool
	Personal       PersonalMode
	TagSlugs       []string
}

// Listing is the answer to a list: the folder's own secrets and, when asked, its imports in
// order (the folder's own secrets win over imports; later imports win over earlier ones).
type Listing struct {
	Secrets []*coffer.Secret
	Imports []ImportBlock
}

// ImportBlock holds the secrets one import brings, nested imports flattened after its own.
type ImportBlock struct {
	Path        string
	Environment string
	FolderID    string
	Secrets     []*coffer.Secret
}

// List returns the secrets of a folder (and of its sub-folders when recursive).
func (s *Service) List(ctx context.Context, in ListInput) (*Listing, error) {
	l, err := s.locate(ctx, in.Scope)
	if err != nil {
		return nil, err
	}
	if err := l.grant.Require(authz.Read, authz.Secrets, l.env.Slug, l.path); err != nil {
		return nil, err
	}
	listing, err := s.list(ctx, in, l)
	if err != nil {
		return nil, err
	}
	if err := s.recordList(ctx, l, in, listingKeys(listing)); err != nil {
		return nil, err
	}
	return listing, nil
}

// list is List once the scope is located and the read allowed.
func (s *Service) list(ctx context.Context, in ListInput, l *located) (*Listing, error) {
	root, err := l.folder(ctx, s.db)
	if err != nil {
		return nil, err
	}
	folders := []*coffer.Folder{root}
	if in.Recursive {
		if folders, err = s.db.ListFolderTree(ctx, l.env.ID, l.path); err != nil {
			return nil, err
		}
	}
	ids := make([]string, 0, len(folders))
	for _, f := range folders {
		if l.grant.Can(authz.Read, authz.Secrets, l.env.Slug, f.Path) {
			ids = append(ids, f.ID)
		}
	}
	filter := store.SecretFilter{FolderIDs: ids, Type: coffer.SecretShared}
	if uid := actorUserID(l.grant.Actor); uid != "" && in.Personal != PersonalNone {
		filter.Type, filter.OwnerID = "", uid
	}
	sealed, err := s.db.FindSecrets(ctx, filter)
	if err != nil {
		return nil, err
	}
	own, err := s.openAll(ctx, sealed)
	if err != nil {
		return nil, err
	}
	rv := newResolver(s, s.db, l.grant)
	if in.Expand {
		seedFolders(rv, l.env.Slug, folders, ids, own)
	}
	if in.Personal == PersonalOverride {
		own = applyOverrides(own)
	}
	own = filterTags(own, in.TagSlugs)

	out := &Listing{Secrets: own}
	if in.IncludeImports {
		if out.Imports, err = s.resolveImports(ctx, s.db, l.grant, root); err != nil {
			return nil, err
		}
	}
	if in.Expand {
		if err := expandAll(ctx, rv, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// seedFolders tells the resolver the shared secrets of every listed folder, so references
// into them need no further query.
func seedFolders(rv *resolver, env string, folders []*coffer.Folder, readable []string, secrets []*coffer.Secret) {
	byFolder := map[string][]*coffer.Secret{}
	for _, sec := range secrets {
		byFolder[sec.FolderID] = append(byFolder[sec.FolderID], sec)
	}
	for _, f := range folders {
		if slices.Contains(readable, f.ID) {
			rv.seed(env, f.Path, byFolder[f.ID])
		}
	}
}

// applyOverrides replaces shared secrets by the personal secret of the same folder and key.
func applyOverrides(secrets []*coffer.Secret) []*coffer.Secret {
	type fk struct{ folder, key string }
	personal := map[fk]*coffer.Secret{}
	for _, sec := range secrets {
		if sec.Type == coffer.SecretPersonal {
			personal[fk{sec.FolderID, sec.Key}] = sec
		}
	}
	if len(personal) == 0 {
		return secrets
	}
	out := secrets[:0:0]
	for _, sec := range secrets {
		k := fk{sec.FolderID, sec.Key}
		switch p, ok := personal[k]; {
		case sec.Type == coffer.SecretShared && ok:
			out = append(out, p)
			delete(personal, k)
		case sec.Type == coffer.SecretPersonal && !ok:
			// already placed where its shared secret was
		default:
			out = append(out, sec)
			if sec.Type == coffer.SecretPersonal {
				delete(personal, k)
			}
		}
	}
	return out
}

func filterTags(secrets []*coffer.Secret, slugs []string) []*coffer.Secret {
	if len(slugs) == 0 {
		return secrets
	}
	out := secrets[:0:0]
	for _, sec := range secrets {
		for _, t := range sec.Tags {
			if slices.Contains(slugs, t.Slug) {
				out = append(out, sec)
				break
			}
		}
	}
	return out
}

// resolveImports lists the imports of a folder with the shared secrets each brings, nested
// imports flattened after the import's own secrets. Imports the actor may not read, and
// imports of folders that do not exist, bring nothing; cycles are cut.
func (s *Service) resolveImports(ctx context.Context, r reader, g *authz.Grant, folder *coffer.Folder) ([]ImportBlock, error) {
	imps, err := r.ListSecretImports(ctx, folder.ID)
	if err != nil || len(imps) == 0 {
		return nil, err
	}
	blocks := make([]ImportBlock, 0, len(imps))
	for _, imp := range imps {
		if !g.Can(authz.Read, authz.Secrets, imp.ImportEnv.Slug, imp.ImportPath) {
			continue
		}
		f, err := r.FindFolderByPath(ctx, imp.ImportEnv.ID, imp.ImportPath)
		if coffer.ErrorCode(err) == coffer.ENOTFOUND {
			continue
		} else if err != nil {
			return nil, err
		}
		secrets, err := s.importedSecrets(ctx, r, g, f, map[string]bool{folder.ID: true, f.ID: true}, 1)
		if err != nil {
			return nil, err
		}
		blocks = append(blocks, ImportBlock{Path: imp.ImportPath, Environment: imp.ImportEnv.Slug, FolderID: f.ID, Secrets: secrets})
	}
	return blocks, nil
}

func (s *Service) importedSecrets(ctx context.Context, r reader, g *authz.Grant, f *coffer.Folder, seen map[string]bool, depth int) ([]*coffer.Secret, error) {
	sealed, err := r.FindSecrets(ctx, store.SecretFilter{FolderIDs: []string{f.ID}, Type: coffer.SecretShared})
	if err != nil {
		return nil, err
	}
	out, err := s.openAll(ctx, sealed)
	if err != nil || depth >= coffer.MaxImportDepth {
		return out, err
	}
	nested, err := r.ListSecretImports(ctx, f.ID)
	if err != nil {
		return nil, err
	}
	for _, imp := range nested {
		if !g.Can(authz.Read, authz.Secrets, imp.ImportEnv.Slug, imp.ImportPath) {
			continue
		}
		nf, err := r.FindFolderByPath(ctx, imp.ImportEnv.ID, imp.ImportPath)
		if coffer.ErrorCode(err) == coffer.ENOTFOUND || err == nil && seen[nf.ID] {
			continue
		} else if err != nil {
			return nil, err
		}
		seen[nf.ID] = true
		more, err := s.importedSecrets(ctx, r, g, nf, seen, depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
	}
	return out, nil
}

// expandAll expands the references of every secret of a listing in place.
func expandAll(ctx context.Context, rv *resolver, l *Listing) error {
	all := l.Secrets
	for _, b := range l.Imports {
		all = append(all[:len(all):len(all)], b.Secrets...)
	}
	for _, sec := range all {
		v, err := rv.expand(ctx, sec)
		if err != nil {
			return err
		}
		sec.Value = coffer.NewPlaintext(v)
	}
	return nil
}

// GetInput selects one secret.
type GetInput struct {
	Scope
	Key            string
	Type           coffer.SecretType
	Version        int
	IncludeImports bool
	Expand         bool
}

// Get returns one secret of a folder: its current value, or the value of Version when set.
// When the folder has no such key and imports are included, the last import that has it
// answers.
func (s *Service) Get(ctx context.Context, in GetInput) (*coffer.Secret, error) {
	if in.Version < 0 {
		return nil, coffer.Errorf(coffer.EVALIDATION, "version: must be a positive integer")
	}
	l, err := s.locate(ctx, in.Scope)
	if err != nil {
		return nil, err
	}
	if err := l.grant.Require(authz.Read, authz.Secrets, l.env.Slug, l.path); err != nil {
		return nil, err
	}
	typ, owner, err := secretType(in.Type, l.grant.Actor)
	if err != nil {
		return nil, err
	}
	folder, err := l.folder(ctx, s.db)
	if err != nil {
		return nil, err
	}
	ss, err := s.db.FindSecret(ctx, folder.ID, typ, owner, in.Key)
	var sec *coffer.Secret
	switch {
	case err == nil:
		if sec, err = s.open(ctx, ss); err != nil {
			return nil, err
		}
		if in.Version > 0 && in.Version != sec.Version {
			if sec, err = s.version(ctx, sec, in.Version); err != nil {
				return nil, err
			}
		}
	case coffer.ErrorCode(err) == coffer.ENOTFOUND && in.IncludeImports && in.Version == 0:
		blocks, err := s.resolveImports(ctx, s.db, l.grant, folder)
		if err != nil {
			return nil, err
		}
		for i := len(blocks) - 1; i >= 0 && sec == nil; i-- {
			for _, imp := range blocks[i].Secrets {
				if imp.Key == in.Key {
					sec = imp
					break
				}
			}
		}
		if sec == nil {
			return nil, coffer.Errorf(coffer.ENOTFOUND, "Secret with name '%s' not found", in.Key)
		}
	case coffer.ErrorCode(err) == coffer.ENOTFOUND:
		return nil, coffer.Errorf(coffer.ENOTFOUND, "Secret with name '%s' not found", in.Key)
	default:
		return nil, err
	}
	if in.Expand {
		v, err := newResolver(s, s.db, l.grant).expand(ctx, sec)
		if err != nil {
			return nil, err
		}
		sec.Value = coffer.NewPlaintext(v)
	}
	if err := s.recordRead(ctx, l, coffer.ActionSecretRead, []string{sec.Key},
		map[string]any{"secretId": sec.ID, "version": sec.Version, "imported": sec.FolderID != folder.ID}); err != nil {
		return nil, err
	}
	return sec, nil
}

// secretType validates a requested secret type for an actor and returns the owner id to look
// personal secrets up by.
func secretType(t coffer.SecretType, a *coffer.Actor) (coffer.SecretType, string, error) {
	switch t {
	case "", coffer.SecretShared:
		return coffer.SecretShared, "", nil
	case coffer.SecretPersonal:
		uid := actorUserID(a)
		if uid == "" {
			return "", "", coffer.Errorf(coffer.EINVALID, "type: personal secrets belong to users; machine identities have none")
		}
		return coffer.SecretPersonal, uid, nil
	}
	return "", "", coffer.Errorf(coffer.EVALIDATION, "type: must be shared or personal")
}
