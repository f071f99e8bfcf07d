package secrets

import (
	"context"
	"strings"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/store"
)

// projectGrant authorizes a project-wide action on a subject.
func (s *Service) projectGrant(ctx context.Context, projectID string, a authz.Action, sub authz.Subject) (*authz.Grant, error) {
	if projectID == "" {
		return nil, coffer.Errorf(coffer.EVALIDATION, "projectId: required")
	}
	g, err := s.authz.Project(ctx, projectID)
	if err != nil {
		return nil, err
	}
	return g, g.Require(a, sub, "", "")
}

// TagInput describes a tag; on update nil fields stay.
type TagInput struct {
	Slug  *string
	Name  *string
	Color *string
}

func (in TagInput) apply(t *coffer.Tag) error {
	if in.Slug != nil {
		if err := coffer.ValidateSlug("slug", strings.TrimSpace(*in.Slug)); err != nil {
			return err
		}
		t.Slug = strings.TrimSpace(*in.Slug)
	}
	if in.Name != nil && *in.Name != "" {
		if err := coffer.ValidateName("name", *in.Name); err != nil {
			return err
		}
		t.Name = *in.Name
	}
	if t.Name == "" {
		t.Name = t.Slug
	}
	if in.Color != nil {
		if len(*in.Color) > 32 {
			return coffer.Errorf(coffer.EVALIDATION, "color: must be at most 32 characters")
		}
		t.Color = *in.Color
	}
	return nil
}

// ListTags returns a project's tags.
func (s *Service) ListTags(ctx context.Context, projectID string) ([]*coffer.Tag, error) {
	if _, err := s.projectGrant(ctx, projectID, authz.Read, authz.Tags); err != nil {
		return nil, err
	}
	return s.db.ListTags(ctx, projectID)
}

// GetTag returns a tag of a project by id or, when bySlug, by slug.
func (s *Service) GetTag(ctx context.Context, projectID, idOrSlug string, bySlug bool) (*coffer.Tag, error) {
	if _, err := s.projectGrant(ctx, projectID, authz.Read, authz.Tags); err != nil {
		return nil, err
	}
	var t *coffer.Tag
	var err error
	if bySlug {
		t, err = s.db.FindTagBySlug(ctx, projectID, idOrSlug)
	} else {
		t, err = s.db.FindTag(ctx, projectID, idOrSlug)
	}
	if coffer.ErrorCode(err) == coffer.ENOTFOUND {
		return nil, coffer.Errorf(coffer.ENOTFOUND, "Tag '%s' doesn't exist", idOrSlug)
	}
	return t, err
}

// CreateTag creates a tag in a project.
func (s *Service) CreateTag(ctx context.Context, projectID string, in TagInput) (*coffer.Tag, error) {
	if in.Slug == nil {
		return nil, coffer.Errorf(coffer.EVALIDATION, "slug: required")
	}
	if _, err := s.projectGrant(ctx, projectID, authz.Create, authz.Tags); err != nil {
		return nil, err
	}
	now := s.now()
	t := &coffer.Tag{ID: store.NewID(), ProjectID: projectID, CreatedAt: now, UpdatedAt: now}
	if err := in.apply(t); err != nil {
		return nil, err
	}
	err := s.inProjectTx(ctx, projectID, func(ctx context.Context, tx *store.Tx, _ uint32) error {
		if _, err := tx.FindTagBySlug(ctx, projectID, t.Slug); err == nil {
			return coffer.Errorf(coffer.ECONFLICT, "Tag with slug '%s' already exists", t.Slug)
		}
		if err := tx.CreateTag(ctx, t); err != nil {
			return err
		}
		return s.recordTag(ctx, tx, coffer.ActionTagCreate, t)
	})
	return t, err
}

// UpdateTag changes a tag.
func (s *Service) UpdateTag(ctx context.Context, projectID, id string, in TagInput) (*coffer.Tag, error) {
	if _, err := s.projectGrant(ctx, projectID, authz.Edit, authz.Tags); err != nil {
		return nil, err
	}
	var t *coffer.Tag
	err := s.inProjectTx(ctx, projectID, func(ctx context.Context, tx *store.Tx, _ uint32) error {
		var err error
		if t, err = tx.FindTag(ctx, projectID, id); coffer.ErrorCode(err) == coffer.ENOTFOUND {
			return coffer.Errorf(coffer.ENOTFOUND, "Tag '%s' doesn't exist", id)
		} else if err != nil {
			return err
		}
		oldSlug := t.Slug
		if err := in.apply(t); err != nil {
			return err
		}
		if t.Slug != oldSlug {
			if _, err := tx.FindTagBySlug(ctx, projectID, t.Slug); err == nil {
				return coffer.Errorf(coffer.ECONFLICT, "Tag with slug '%s' already exists", t.Slug)
			}
		}
		t.UpdatedAt = s.now()
		if err := tx.UpdateTag(ctx, t); err != nil {
			return err
		}
		return s.recordTag(ctx, tx, coffer.ActionTagUpdate, t)
	})
	return t, err
}

// DeleteTag deletes a tag and removes it from every secret.
func (s *Service) DeleteTag(ctx context.Context, projectID, id string) (*coffer.Tag, error) {
	if _, err := s.projectGrant(ctx, projectID, authz.Delete, authz.Tags); err != nil {
		return nil, err
	}
	var t *coffer.Tag
	err := s.inProjectTx(ctx, projectID, func(ctx context.Context, tx *store.Tx, _ uint32) error {
		var err error
		if t, err = tx.FindTag(ctx, projectID, id); coffer.ErrorCode(err) == coffer.ENOTFOUND {
			return coffer.Errorf(coffer.ENOTFOUND, "Tag '%s' doesn't exist", id)
		} else if err != nil {
			return err
		}
		if err := tx.DeleteTag(ctx, t.ID); err != nil {
			return err
		}
		return s.recordTag(ctx, tx, coffer.ActionTagDelete, t)
	})
	return t, err
}
