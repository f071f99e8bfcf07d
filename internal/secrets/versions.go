package secrets

import (
	"context"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/keyring"
	"github.com/cofferhq/coffer/internal/store"
)

// openVersion decrypts a kept version of a secret of project/environment.
func (s *Service) openVersion(ctx context.Context, sec *coffer.Secret, v *store.SealedVersion) (*coffer.SecretVersion, error) {
	val, err := s.keys.Open(ctx, sec.ProjectID, keyring.SecretAAD(sec.ProjectID, sec.EnvironmentID, sec.ID, v.Version, "value"), v.SealedValue)
	if err != nil {
		return nil, err
	}
	com, err := s.keys.Open(ctx, sec.ProjectID, keyring.SecretAAD(sec.ProjectID, sec.EnvironmentID, sec.ID, v.Version, "comment"), v.SealedComment)
	if err != nil {
		return nil, err
	}
	out := v.SecretVersion
	out.Value, out.Comment = coffer.NewPlaintext(string(val)), coffer.NewPlaintext(string(com))
	return &out, nil
}

// version returns sec as it was at version n.
func (s *Service) version(ctx context.Context, sec *coffer.Secret, n int) (*coffer.Secret, error) {
	sv, err := s.db.FindSecretVersion(ctx, sec.ID, n)
	if coffer.ErrorCode(err) == coffer.ENOTFOUND {
		return nil, coffer.Errorf(coffer.ENOTFOUND, "Secret '%s' has no version %d", sec.Key, n)
	} else if err != nil {
		return nil, err
	}
	v, err := s.openVersion(ctx, sec, sv)
	if err != nil {
		return nil, err
	}
	old := *sec
	old.Version, old.Key, old.Value, old.Comment = v.Version, v.Key, v.Value, v.Comment
	old.SkipMultilineEncoding, old.UpdatedAt = v.SkipMultilineEncoding, v.CreatedAt
	return &old, nil
}

// VersionsInput selects the history of one secret.
type VersionsInput struct {
	Scope
	Key    string
	Type   coffer.SecretType
	Offset int
	Limit  int
}

// Versions returns the kept versions of a secret, newest first.
func (s *Service) Versions(ctx context.Context, in VersionsInput) ([]*coffer.SecretVersion, error) {
	if in.Limit <= 0 || in.Limit > 100 {
		in.Limit = 100
	}
	if in.Offset < 0 {
		return nil, coffer.Errorf(coffer.EVALIDATION, "offset: must not be negative")
	}
	l, err := s.locate(ctx, in.Scope)
	if err != nil {
		return nil, err
	}
	if err := l.grant.Require(authz.Read, authz.Secrets, l.env.Slug, l.path); err != nil {
		return nil, err
	}
	sec, err := s.findOne(ctx, s.db, l, in.Key, in.Type)
	if err != nil {
		return nil, err
	}
	sealed, err := s.db.ListSecretVersions(ctx, sec.ID, in.Offset, in.Limit)
	if err != nil {
		return nil, err
	}
	out := make([]*coffer.SecretVersion, 0, len(sealed))
	for _, v := range sealed {
		ov, err := s.openVersion(ctx, &sec.Secret, v)
		if err != nil {
			return nil, err
		}
		out = append(out, ov)
	}
	return out, nil
}

// findOne returns one stored secret of a located folder.
func (s *Service) findOne(ctx context.Context, r interface {
	reader
	FindSecret(ctx context.Context, folderID string, typ coffer.SecretType, ownerID, key string) (*store.SealedSecret, error)
}, l *located, key string, t coffer.SecretType) (*store.SealedSecret, error) {
	typ, owner, err := secretType(t, l.grant.Actor)
	if err != nil {
		return nil, err
	}
	folder, err := l.folder(ctx, r)
	if err != nil {
		return nil, err
	}
	ss, err := r.FindSecret(ctx, folder.ID, typ, owner, key)
	if coffer.ErrorCode(err) == coffer.ENOTFOUND {
		return nil, coffer.Errorf(coffer.ENOTFOUND, "Secret with name '%s' not found", key)
	}
	return ss, err
}

// Rollback writes a new version of a secret whose value, comment and multi-line flag are those
// of an earlier version. History is never rewritten.
func (s *Service) Rollback(ctx context.Context, sc Scope, key string, t coffer.SecretType, version int) (*coffer.Secret, error) {
	if version <= 0 {
		return nil, coffer.Errorf(coffer.EVALIDATION, "version: must be a positive integer")
	}
	l, err := s.locate(ctx, sc)
	if err != nil {
		return nil, err
	}
	if err := l.grant.Require(authz.Read, authz.Secrets, l.env.Slug, l.path); err != nil {
		return nil, err
	}
	ss, err := s.findOne(ctx, s.db, l, key, t)
	if err != nil {
		return nil, err
	}
	cur, err := s.open(ctx, ss)
	if err != nil {
		return nil, err
	}
	old, err := s.version(ctx, cur, version)
	if err != nil {
		return nil, err
	}
	value, comment, skip := old.Value.Reveal(), old.Comment.Reveal(), old.SkipMultilineEncoding
	out, err := s.Update(ctx, sc, FailOnNotFound, []Change{{Key: key, Type: t, Value: &value, Comment: &comment, SkipMultiline: &skip}})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}
