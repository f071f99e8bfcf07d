package secrets

import (
	"context"
	"strings"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/store"
)

// ListFolders returns the folders directly inside the scope's folder.
func (s *Service) ListFolders(ctx context.Context, sc Scope) ([]*coffer.Folder, error) {
	l, err := s.locate(ctx, sc)
	if err != nil {
		return nil, err
	}
	if err := l.grant.Require(authz.Read, authz.Folders, l.env.Slug, l.path); err != nil {
		return nil, err
	}
	parent, err := l.folder(ctx, s.db)
	if err != nil {
		return nil, err
	}
	return s.db.ListChildFolders(ctx, parent.ID)
}

// CreateFolder creates a folder named name inside the scope's folder, creating missing parent
// folders on the way. Creating a folder that exists returns it unchanged.
func (s *Service) CreateFolder(ctx context.Context, sc Scope, name string) (*coffer.Folder, error) {
	name = strings.TrimSpace(name)
	if err := coffer.ValidateFolderName("name", name); err != nil {
		return nil, err
	}
	l, err := s.locate(ctx, sc)
	if err != nil {
		return nil, err
	}
	target := coffer.JoinPath(l.path, name)
	if err := l.grant.Require(authz.Create, authz.Folders, l.env.Slug, target); err != nil {
		return nil, err
	}
	var out *coffer.Folder
	err = s.inProjectTx(ctx, l.grant.Project.ID, func(ctx context.Context, tx *store.Tx, _ uint32) error {
		parent, err := tx.FindFolderByPath(ctx, l.env.ID, "/")
		if err != nil {
			return err
		}
		for _, seg := range strings.Split(strings.TrimPrefix(target, "/"), "/") {
			p := coffer.JoinPath(parent.Path, seg)
			f, err := tx.FindFolderByPath(ctx, l.env.ID, p)
			if coffer.ErrorCode(err) == coffer.ENOTFOUND {
				now := s.now()
				f = &coffer.Folder{ID: store.NewID(), EnvironmentID: l.env.ID, ParentID: parent.ID, Name: seg, Path: p, Version: 1, CreatedAt: now, UpdatedAt: now}
				err = tx.CreateFolder(ctx, f)
			}
			if err != nil {
				return err
			}
			parent = f
		}
		out = parent
		return s.record(ctx, tx, l, coffer.ActionFolderCreate, nil, map[string]any{"folderId": out.ID, "folderPath": out.Path})
	})
	return out, err
}

// findChild returns a folder inside the scope's folder named by id or by name.
func findChild(ctx context.Context, tx *store.Tx, l *located, idOrName string) (*coffer.Folder, error) {
	parent, err := l.folder(ctx, tx)
	if err != nil {
		return nil, err
	}
	if coffer.ValidateFolderName("", idOrName) == nil {
		f, err := tx.FindFolderByPath(ctx, l.env.ID, coffer.JoinPath(parent.Path, idOrName))
		if err == nil || coffer.ErrorCode(err) != coffer.ENOTFOUND {
			return f, err
		}
	}
	f, err := tx.FindFolder(ctx, idOrName)
	if err == nil && f.ParentID == parent.ID {
		return f, nil
	} else if err != nil && coffer.ErrorCode(err) != coffer.ENOTFOUND {
		return nil, err
	}
	return nil, coffer.Errorf(coffer.ENOTFOUND, "Folder '%s' not found in path %s of environment '%s'", idOrName, l.path, l.env.Slug)
}

// RenameFolder renames a folder (by id or name) inside the scope's folder.
func (s *Service) RenameFolder(ctx context.Context, sc Scope, idOrName, newName string) (*coffer.Folder, error) {
	newName = strings.TrimSpace(newName)
	if err := coffer.ValidateFolderName("name", newName); err != nil {
		return nil, err
	}
	l, err := s.locate(ctx, sc)
	if err != nil {
		return nil, err
	}
	var out *coffer.Folder
	err = s.inProjectTx(ctx, l.grant.Project.ID, func(ctx context.Context, tx *store.Tx, _ uint32) error {
		f, err := findChild(ctx, tx, l, idOrName)
		if err != nil {
			return err
		}
		if err := l.grant.Require(authz.Edit, authz.Folders, l.env.Slug, f.Path); err != nil {
			return err
		}
		if f.Name == newName {
			out = f
			return nil
		}
		if _, err := tx.FindFolderByPath(ctx, l.env.ID, coffer.JoinPath(l.path, newName)); err == nil {
			return coffer.Errorf(coffer.ECONFLICT, "Folder with specified name already exists")
		}
		out = f
		md := map[string]any{"folderId": f.ID, "folderPath": f.Path, "newName": newName}
		if err := tx.RenameFolder(ctx, f, newName, s.now()); err != nil {
			return err
		}
		return s.record(ctx, tx, l, coffer.ActionFolderUpdate, nil, md)
	})
	return out, err
}

// DeleteFolder deletes a folder (by id or name) inside the scope's folder, with everything in
// it.
func (s *Service) DeleteFolder(ctx context.Context, sc Scope, idOrName string) (*coffer.Folder, error) {
	if idOrName == "" {
		return nil, coffer.Errorf(coffer.EVALIDATION, "folder: id or name required")
	}
	l, err := s.locate(ctx, sc)
	if err != nil {
		return nil, err
	}
	var out *coffer.Folder
	err = s.inProjectTx(ctx, l.grant.Project.ID, func(ctx context.Context, tx *store.Tx, _ uint32) error {
		f, err := findChild(ctx, tx, l, idOrName)
		if err != nil {
			return err
		}
		if err := l.grant.Require(authz.Delete, authz.Folders, l.env.Slug, f.Path); err != nil {
			return err
		}
		out = f
		if err := tx.DeleteFolder(ctx, f); err != nil {
			return err
		}
		return s.record(ctx, tx, l, coffer.ActionFolderDelete, nil, map[string]any{"folderId": f.ID, "folderPath": f.Path})
	})
	return out, err
}
