package projects

import (
	"context"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/store"
)

// record appends the audit event of a change inside its transaction.
func (s *Service) record(ctx context.Context, tx *store.Tx, action, orgID, projectID string, md map[string]any) error {
	return s.Audit.Record(ctx, tx, coffer.AuditEvent{Action: action, OrgID: orgID, ProjectID: projectID, Metadata: md})
}

// recordEnv records a change of an environment.
func (s *Service) recordEnv(ctx context.Context, tx *store.Tx, action string, p *coffer.Project, e *coffer.Environment) error {
	return s.Audit.Record(ctx, tx, coffer.AuditEvent{Action: action, OrgID: p.OrgID, ProjectID: p.ID, Environment: e.Slug,
		Metadata: map[string]any{"environmentId": e.ID, "name": e.Name, "position": e.Position}})
}
