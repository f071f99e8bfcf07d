package secrets

import (
	"context"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/store"
)

// writeActions names the audit action of each kind of secret write.
var writeActions = map[authz.Action]string{
	authz.Create: coffer.ActionSecretCreate,
	authz.Edit:   coffer.ActionSecretUpdate,
	authz.Delete: coffer.ActionSecretDelete,
}

// event is an audit event about the located scope. Metadata never holds a value.
func (l *located) event(action string, keys []string, md map[string]any) coffer.AuditEvent {
	return coffer.AuditEvent{Action: action, OrgID: l.grant.Project.OrgID, ProjectID: l.grant.Project.ID,
		Environment: l.env.Slug, SecretPath: l.path, SecretKeys: keys, Metadata: md}
}

// record appends the event of a change inside its transaction.
func (s *Service) record(ctx context.Context, tx *store.Tx, l *located, action string, keys []string, md map[string]any) error {
	return s.Audit.Record(ctx, tx, l.event(action, keys, md))
}

// recordWrite records a batch write: the keys written and their secret ids and versions.
func (s *Service) recordWrite(ctx context.Context, tx *store.Tx, l *located, action authz.Action, out []*coffer.Secret) error {
	keys, ids, versions := make([]string, len(out)), make([]string, len(out)), make([]int, len(out))
	for i, sec := range out {
		keys[i], ids[i], versions[i] = sec.Key, sec.ID, sec.Version
	}
	if len(out) == 0 {
		return nil // nothing written (update with mode ignore)
	}
	return s.record(ctx, tx, l, writeActions[action], keys, map[string]any{"secretIds": ids, "versions": versions})
}

// recordRead buffers the event of a read by a machine identity (users' reads are not
// recorded): the keys it was given, own and imported. The read fails if the event cannot be
// buffered, so no machine reads a secret unrecorded.
func (s *Service) recordRead(ctx context.Context, l *located, action string, keys []string, md map[string]any) error {
	if s.Audit == nil || l.grant.Actor == nil || l.grant.Actor.Kind != coffer.ActorIdentity {
		return nil
	}
	return s.Audit.Enqueue(ctx, l.event(action, keys, md))
}

// recordList records a listing read by a machine identity.
func (s *Service) recordList(ctx context.Context, l *located, in ListInput, keys []string) error {
	return s.recordRead(ctx, l, coffer.ActionSecretsList, keys,
		map[string]any{"recursive": in.Recursive, "includeImports": in.IncludeImports, "count": len(keys)})
}

// listingKeys returns the keys of every secret a listing hands out: the folder's own, then
// imported ones.
func listingKeys(l *Listing) []string {
	keys := make([]string, 0, len(l.Secrets))
	for _, sec := range l.Secrets {
		keys = append(keys, sec.Key)
	}
	for _, b := range l.Imports {
		for _, sec := range b.Secrets {
			keys = append(keys, sec.Key)
		}
	}
	return keys
}

func importMetadata(imp *coffer.SecretImport) map[string]any {
	return map[string]any{"importId": imp.ID, "importEnvironment": imp.ImportEnv.Slug, "importPath": imp.ImportPath, "position": imp.Position}
}

// recordTag records a change of a project's tag.
func (s *Service) recordTag(ctx context.Context, tx *store.Tx, action string, t *coffer.Tag) error {
	return s.Audit.Record(ctx, tx, coffer.AuditEvent{Action: action, ProjectID: t.ProjectID,
		Metadata: map[string]any{"tagId": t.ID, "slug": t.Slug}})
}
