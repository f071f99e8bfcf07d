package secrets

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/keyring"
	"github.com/cofferhq/coffer/internal/store"
)

// Change is one secret to create, update or delete. Nil fields are left as they are (on
// create: empty).
type Change struct {
	Key                string
	NewKey             string // rename, on update
	Type               coffer.SecretType
	Value              *string
	Comment            *string
	SkipMultiline      *bool
	TagIDs             *[]string
	Metadata           *[]coffer.SecretMetadata
	ReminderNote       *string
	ReminderRepeatDays *int
}

// UpdateMode says what an update does with keys that do not exist.
type UpdateMode string

// Update modes (Infisical's names).
const (
	FailOnNotFound UpdateMode = "failOnNotFound"
	Upsert         UpdateMode = "upsert"
	Ignore         UpdateMode = "ignore"
)

// ParseUpdateMode validates a mode; empty means FailOnNotFound.
func ParseUpdateMode(s string) (UpdateMode, error) {
	switch m := UpdateMode(s); m {
	case "":
		return FailOnNotFound, nil
	case FailOnNotFound, Upsert, Ignore:
		return m, nil
	}
	return "", coffer.Errorf(coffer.EVALIDATION, "mode: must be failOnNotFound, upsert or ignore")
}

// validate checks the fields of a change; field names the change in messages ("secrets[3]").
func (c *Change) validate(field string, needValue bool) error {
	if err := coffer.ValidateSecretKey(field+".secretKey", c.Key); err != nil {
		return err
	}
	if c.NewKey != "" {
		if err := coffer.ValidateSecretKey(field+".newSecretName", c.NewKey); err != nil {
			return err
		}
	}
	if needValue && c.Value == nil {
		return coffer.Errorf(coffer.EVALIDATION, "%s.secretValue: required", field)
	}
	if c.Value != nil && len(*c.Value) > coffer.MaxSecretValueBytes {
		return coffer.Errorf(coffer.EVALIDATION, "%s.secretValue: must be at most %d bytes", field, coffer.MaxSecretValueBytes)
	}
	if c.Value != nil && !utf8.ValidString(*c.Value) {
		return coffer.Errorf(coffer.EVALIDATION, "%s.secretValue: must be valid UTF-8 text", field)
	}
	if c.Comment != nil && len(*c.Comment) > coffer.MaxSecretCommentLen {
		return coffer.Errorf(coffer.EVALIDATION, "%s.secretComment: must be at most %d bytes", field, coffer.MaxSecretCommentLen)
	}
	if c.ReminderNote != nil && len(*c.ReminderNote) > coffer.MaxReminderNoteLen {
		return coffer.Errorf(coffer.EVALIDATION, "%s.secretReminderNote: must be at most %d bytes", field, coffer.MaxReminderNoteLen)
	}
	if c.ReminderRepeatDays != nil && (*c.ReminderRepeatDays < 0 || *c.ReminderRepeatDays > 365) {
		return coffer.Errorf(coffer.EVALIDATION, "%s.secretReminderRepeatDays: must be between 0 and 365", field)
	}
	if c.TagIDs != nil && len(*c.TagIDs) > coffer.MaxTagsPerSecret {
		return coffer.Errorf(coffer.EVALIDATION, "%s.tagIds: at most %d tags", field, coffer.MaxTagsPerSecret)
	}
	if c.Metadata != nil {
		if len(*c.Metadata) > coffer.MaxMetadataEntries {
			return coffer.Errorf(coffer.EVALIDATION, "%s.secretMetadata: at most %d entries", field, coffer.MaxMetadataEntries)
		}
		for i, m := range *c.Metadata {
			if m.Key == "" || len(m.Key) > 256 || len(m.Value) > 1024 {
				return coffer.Errorf(coffer.EVALIDATION, "%s.secretMetadata[%d]: key must be 1 to 256 characters and value at most 1024", field, i)
			}
		}
	}
	return nil
}

// batch is the state shared by one write request.
type batch struct {
	s      *Service
	tx     *store.Tx
	l      *located
	folder *coffer.Folder
	actor  *coffer.Actor
	tags   map[string]coffer.Tag
	check  []*coffer.Secret // secrets whose value or name changed: their references must resolve
	term   uint32           // the project's key term, read under LockKeyTerm
}

// write resolves the scope, checks the changes and runs fn in one transaction, then checks that
// every reference in the values written resolves. Nothing is written unless all of it is.
func (s *Service) write(ctx context.Context, sc Scope, action authz.Action, changes []Change, needValue bool,
	fn func(ctx context.Context, b *batch) ([]*coffer.Secret, error)) ([]*coffer.Secret, error) {
	if len(changes) == 0 {
		return nil, coffer.Errorf(coffer.EVALIDATION, "secrets: at least one secret is required")
	}
	if len(changes) > coffer.MaxBatchSize {
		return nil, coffer.Errorf(coffer.EVALIDATION, "secrets: at most %d secrets per request", coffer.MaxBatchSize)
	}
	seen := make(map[string]bool, len(changes))
	for i := range changes {
		c := &changes[i]
		field := "secrets[" + strconv.Itoa(i) + "]"
		if len(changes) == 1 {
			field = "secret"
		}
		if err := c.validate(field, needValue); err != nil {
			return nil, err
		}
		k := string(c.Type) + "\x00" + c.Key
		if seen[k] {
			return nil, coffer.Errorf(coffer.EVALIDATION, "%s.secretKey: %s appears more than once in this request", field, c.Key)
		}
		seen[k] = true
	}
	l, err := s.locate(ctx, sc)
	if err != nil {
		return nil, err
	}
	if err := l.grant.Require(action, authz.Secrets, l.env.Slug, l.path); err != nil {
		return nil, err
	}
	for i := range changes {
		if _, _, err := secretType(changes[i].Type, l.grant.Actor); err != nil {
			return nil, err
		}
	}
	var out []*coffer.Secret
	err = s.inProjectTx(ctx, l.grant.Project.ID, func(ctx context.Context, tx *store.Tx, term uint32) error {
		folder, err := l.folder(ctx, tx)
		if err != nil {
			return err
		}
		b := &batch{s: s, tx: tx, l: l, folder: folder, actor: l.grant.Actor, term: term}
		if out, err = fn(ctx, b); err != nil {
			return err
		}
		if err := b.checkReferences(ctx); err != nil {
			return err
		}
		return s.recordWrite(ctx, tx, l, action, out)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// existing returns the secrets of the batch's folder by type and key.
func (b *batch) existing(ctx context.Context) (map[string]*store.SealedSecret, error) {
	sealed, err := b.tx.FindSecrets(ctx, store.SecretFilter{FolderIDs: []string{b.folder.ID}, OwnerID: actorUserID(b.actor)})
	if err != nil {
		return nil, err
	}
	m := make(map[string]*store.SealedSecret, len(sealed))
	for _, ss := range sealed {
		m[string(ss.Type)+"\x00"+ss.Key] = ss
	}
	return m, nil
}

func typeKey(c *Change) string {
	t := c.Type
	if t == "" {
		t = coffer.SecretShared
	}
	return string(t) + "\x00" + c.Key
}

// resolveTags looks up tag ids of the project, once per batch.
func (b *batch) resolveTags(ctx context.Context, field string, ids []string) ([]coffer.Tag, error) {
	if b.tags == nil {
		all, err := b.tx.ListTags(ctx, b.l.grant.Project.ID)
		if err != nil {
			return nil, err
		}
		b.tags = make(map[string]coffer.Tag, len(all))
		for _, t := range all {
			b.tags[t.ID] = *t
		}
	}
	out := make([]coffer.Tag, 0, len(ids))
	for _, id := range ids {
		t, ok := b.tags[id]
		if !ok {
			return nil, coffer.Errorf(coffer.ENOTFOUND, "%s.tagIds: tag %s not found in this project", field, id)
		}
		if !containsTag(out, id) {
			out = append(out, t)
		}
	}
	return out, nil
}

func containsTag(tags []coffer.Tag, id string) bool {
	for _, t := range tags {
		if t.ID == id {
			return true
		}
	}
	return false
}

// create inserts one new secret at version 1.
func (b *batch) create(ctx context.Context, c *Change) (*coffer.Secret, error) {
	typ, owner, _ := secretType(c.Type, b.actor)
	now := b.s.now()
	sec := &coffer.Secret{
		ID: store.NewID(), ProjectID: b.l.grant.Project.ID, EnvironmentID: b.l.env.ID, Environment: b.l.env.Slug,
		FolderID: b.folder.ID, Path: b.folder.Path, Type: typ, OwnerID: owner, Key: c.Key, Version: 1,
		Metadata: []coffer.SecretMetadata{}, Tags: []coffer.Tag{}, CreatedAt: now, UpdatedAt: now,
	}
	applyChange(sec, c)
	if c.TagIDs != nil {
		tags, err := b.resolveTags(ctx, "secret", *c.TagIDs)
		if err != nil {
			return nil, err
		}
		sec.Tags = tags
	}
	sealed, err := b.s.seal(ctx, sec, b.term)
	if err != nil {
		return nil, err
	}
	b.check = append(b.check, sec)
	return sec, b.tx.CreateSecret(ctx, sealed, b.actor)
}

// update writes a new version of an existing secret.
func (b *batch) update(ctx context.Context, cur *store.SealedSecret, c *Change) (*coffer.Secret, error) {
	sec, err := b.s.open(ctx, cur)
	if err != nil {
		return nil, err
	}
	applyChange(sec, c)
	if c.NewKey != "" {
		sec.Key = c.NewKey
	}
	if c.TagIDs != nil {
		if sec.Tags, err = b.resolveTags(ctx, "secret", *c.TagIDs); err != nil {
			return nil, err
		}
	}
	sec.Version++
	sec.UpdatedAt = b.s.now()
	sealed, err := b.s.seal(ctx, sec, b.term)
	if err != nil {
		return nil, err
	}
	if c.Value != nil || c.NewKey != "" {
		b.check = append(b.check, sec)
	}
	return sec, b.tx.UpdateSecret(ctx, sealed, b.actor)
}

func applyChange(sec *coffer.Secret, c *Change) {
	if c.Value != nil {
		sec.Value = coffer.NewPlaintext(*c.Value)
	}
	if c.Comment != nil {
		sec.Comment = coffer.NewPlaintext(*c.Comment)
	}
	if c.SkipMultiline != nil {
		sec.SkipMultilineEncoding = *c.SkipMultiline
	}
	if c.Metadata != nil {
		sec.Metadata = append([]coffer.SecretMetadata{}, *c.Metadata...)
	}
	if c.ReminderNote != nil {
		sec.ReminderNote = *c.ReminderNote
	}
	if c.ReminderRepeatDays != nil {
		sec.ReminderRepeatDays = *c.ReminderRepeatDays
	}
}

// checkReferences expands every value written against the state inside the transaction, so a
// missing reference or a cycle fails the request and changes nothing.
func (b *batch) checkReferences(ctx context.Context) error {
	if len(b.check) == 0 {
		return nil
	}
	rv := newResolver(b.s, b.tx, b.l.grant)
	for _, sec := range b.check {
		if _, err := rv.expand(ctx, sec); err != nil {
			return err
		}
	}
	return nil
}

// Create creates secrets in one folder, all or none. A key that exists fails the request.
func (s *Service) Create(ctx context.Context, sc Scope, changes []Change) ([]*coffer.Secret, error) {
	return s.write(ctx, sc, authz.Create, changes, true, func(ctx context.Context, b *batch) ([]*coffer.Secret, error) {
		cur, err := b.existing(ctx)
		if err != nil {
			return nil, err
		}
		var exists []string
		for i := range changes {
			c := &changes[i]
			if cur[typeKey(c)] != nil {
				exists = append(exists, c.Key)
			} else if c.Type == coffer.SecretPersonal && cur[string(coffer.SecretShared)+"\x00"+c.Key] == nil {
				return nil, coffer.Errorf(coffer.EINVALID, "Failed to create personal secret override for no corresponding shared secret: %s", c.Key)
			}
		}
		if len(exists) > 0 {
			return nil, coffer.Errorf(coffer.ECONFLICT, "Secret already exist: %s", strings.Join(exists, ","))
		}
		out := make([]*coffer.Secret, 0, len(changes))
		for i := range changes {
			sec, err := b.create(ctx, &changes[i])
			if err != nil {
				return nil, err
			}
			out = append(out, sec)
		}
		return out, nil
	})
}

// Update changes secrets of one folder, all or none. Keys that do not exist fail the request
// (FailOnNotFound), are created (Upsert) or are skipped (Ignore).
func (s *Service) Update(ctx context.Context, sc Scope, mode UpdateMode, changes []Change) ([]*coffer.Secret, error) {
	var out []*coffer.Secret
	var err error
	// A concurrent update of the same secret fails the version check; the whole batch is then
	// retried on fresh state, a bounded number of times.
	for attempt := 0; attempt < 3; attempt++ {
		out, err = s.write(ctx, sc, authz.Edit, changes, false, func(ctx context.Context, b *batch) ([]*coffer.Secret, error) {
			return b.updateAll(ctx, mode, changes)
		})
		if !errors.Is(err, store.ErrStale) {
			break
		}
	}
	return out, err
}

func (b *batch) updateAll(ctx context.Context, mode UpdateMode, changes []Change) ([]*coffer.Secret, error) {
	cur, err := b.existing(ctx)
	if err != nil {
		return nil, err
	}
	var missing, clash []string
	final := make(map[string]bool, len(changes)) // the name each change leaves, by type
	for i := range changes {
		c := &changes[i]
		if cur[typeKey(c)] == nil && mode == FailOnNotFound {
			missing = append(missing, c.Key)
		}
		nk := *c
		if c.NewKey != "" {
			nk.Key = c.NewKey
		}
		if c.NewKey != "" && c.NewKey != c.Key && cur[typeKey(&nk)] != nil || final[typeKey(&nk)] {
			clash = append(clash, nk.Key)
		}
		final[typeKey(&nk)] = true
	}
	if len(missing) > 0 {
		return nil, coffer.Errorf(coffer.ENOTFOUND, "Secret does not exist: %s in path %s", strings.Join(missing, ", "), b.folder.Path)
	}
	if len(clash) > 0 {
		return nil, coffer.Errorf(coffer.ECONFLICT, "Secret with new name already exists: %s", strings.Join(clash, ", "))
	}
	out := make([]*coffer.Secret, 0, len(changes))
	for i := range changes {
		c := &changes[i]
		var sec *coffer.Secret
		switch ss := cur[typeKey(c)]; {
		case ss != nil:
			sec, err = b.update(ctx, ss, c)
		case mode == Upsert:
			if err := b.l.grant.Require(authz.Create, authz.Secrets, b.l.env.Slug, b.l.path); err != nil {
				return nil, err
			}
			if c.Value == nil {
				return nil, coffer.Errorf(coffer.EVALIDATION, "secrets[%d].secretValue: required to create %s", i, c.Key)
			}
			sec, err = b.create(ctx, c)
		default: // Ignore
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, sec)
	}
	return out, nil
}

// Delete deletes secrets of one folder, all or none, and returns them as they were.
func (s *Service) Delete(ctx context.Context, sc Scope, changes []Change) ([]*coffer.Secret, error) {
	return s.write(ctx, sc, authz.Delete, changes, false, func(ctx context.Context, b *batch) ([]*coffer.Secret, error) {
		cur, err := b.existing(ctx)
		if err != nil {
			return nil, err
		}
		var missing []string
		for i := range changes {
			if cur[typeKey(&changes[i])] == nil {
				missing = append(missing, changes[i].Key)
			}
		}
		if len(missing) > 0 {
			return nil, coffer.Errorf(coffer.ENOTFOUND, "Secret not found: %s in path %s", strings.Join(missing, ", "), b.folder.Path)
		}
		out := make([]*coffer.Secret, 0, len(changes))
		for i := range changes {
			ss := cur[typeKey(&changes[i])]
			sec, err := s.open(ctx, ss)
			if errors.Is(err, keyring.ErrDecrypt) {
				// A stored value that no longer opens (damaged, or sealed with a destroyed key)
				// can still be deleted: that is how an operator clears it. Its value is unknown.
				c := ss.Secret
				c.Value, c.Comment = coffer.NewPlaintext(""), coffer.NewPlaintext("")
				sec, err = &c, nil
			}
			if err != nil {
				return nil, err
			}
			if err := b.tx.DeleteSecret(ctx, ss.ID); err != nil {
				return nil, err
			}
			out = append(out, sec)
		}
		return out, nil
	})
}
