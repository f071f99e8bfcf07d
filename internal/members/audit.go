package members

import (
	"context"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/store"
)

// record appends the audit event of a change of an organization's members, inside its
// transaction.
func (s *Service) record(ctx context.Context, tx *store.Tx, action, orgID string, md map[string]any) error {
	return s.Audit.Record(ctx, tx, coffer.AuditEvent{Action: action, OrgID: orgID, Metadata: md})
}
