package audit

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/store"
)

// MaxLimit is the largest page a query returns; DefaultLimit the page when none is asked.
const (
	MaxLimit     = 1000
	DefaultLimit = 100
)

// Query selects events of one organization, newest first. Zero fields do not filter.
type Query struct {
	OrgID       string // must be the actor's organization; "" means it
	ProjectID   string
	Environment string
	SecretPath  string
	ActorType   string   // user, identity or anonymous
	Actor       string   // an actor's id, a user's e-mail or an identity's name
	Actions     []string // e.g. secret.read
	Start, End  time.Time
	Cursor      string // from a previous Page; opaque
	Offset      int
	Limit       int // 1 to MaxLimit; DefaultLimit when zero
}

// Page is one page of events and the cursor of the next ("" when this is the last).
type Page struct {
	Events     []*coffer.AuditEvent
	NextCursor string
}

// Reader answers audit queries for the request's actor: organization owners and admins see
// their organization's events; project admins see the events of their project and must name it.
type Reader struct {
	DB    *store.DB
	Authz *authz.Authorizer
}

// Find returns a page of the events q selects. It returns EFORBIDDEN for an actor who is
// neither an organization admin nor an admin of q.ProjectID, and EVALIDATION for a bad field.
func (rd *Reader) Find(ctx context.Context, q Query) (*Page, error) {
	actor := coffer.ActorFromContext(ctx)
	if actor == nil {
		return nil, coffer.Errorf(coffer.EUNAUTHORIZED, "authentication required")
	}
	if q.OrgID != "" && q.OrgID != actor.OrgID {
		return nil, coffer.Errorf(coffer.EFORBIDDEN, "you are not a member of organization %s", q.OrgID)
	}
	f := store.AuditFilter{OrgID: actor.OrgID, ActorID: q.Actor, Actions: q.Actions, Environment: q.Environment,
		SecretPath: q.SecretPath, Start: q.Start, End: q.End, Offset: q.Offset, Limit: q.Limit}
	switch q.ActorType {
	case "", coffer.AuditActorUser, coffer.AuditActorIdentity, coffer.AuditActorAnonymous, coffer.AuditActorSystem:
		f.ActorType = q.ActorType
	default:
		return nil, coffer.Errorf(coffer.EVALIDATION, "actorType: must be user, identity, anonymous or system")
	}
	switch {
	case f.Limit == 0:
		f.Limit = DefaultLimit
	case f.Limit < 0 || f.Limit > MaxLimit:
		return nil, coffer.Errorf(coffer.EVALIDATION, "limit: must be between 1 and %d", MaxLimit)
	}
	if f.Offset < 0 {
		return nil, coffer.Errorf(coffer.EVALIDATION, "offset: must not be negative")
	}
	if !q.Start.IsZero() && !q.End.IsZero() && !q.Start.Before(q.End) {
		return nil, coffer.Errorf(coffer.EVALIDATION, "startDate: must be before endDate")
	}
	if q.Cursor != "" {
		seq, err := decodeCursor(q.Cursor)
		if err != nil {
			return nil, err
		}
		f.BeforeSeq = seq
	}
	if err := rd.authorize(ctx, actor, q.ProjectID, &f); err != nil {
		return nil, err
	}
	rows, err := rd.DB.FindAuditEvents(ctx, f)
	if err != nil {
		return nil, err
	}
	p := &Page{Events: make([]*coffer.AuditEvent, len(rows))}
	for i, r := range rows {
		p.Events[i] = fromRow(r)
	}
	if len(rows) == f.Limit {
		p.NextCursor = encodeCursor(rows[len(rows)-1].Seq)
	}
	return p, nil
}

// authorize narrows f to what the actor may see.
func (rd *Reader) authorize(ctx context.Context, actor *coffer.Actor, projectID string, f *store.AuditFilter) error {
	role, err := rd.Authz.OrgRole(ctx, actor)
	if err != nil {
		return err
	}
	if role == coffer.RoleOwner || role == coffer.RoleAdmin {
		if projectID != "" {
			f.ProjectIDs = []string{projectID}
		}
		return nil
	}
	if projectID == "" {
		return coffer.Errorf(coffer.EFORBIDDEN, "only organization admins may read the audit log of the whole organization; project admins name their project with projectId")
	}
	g, err := rd.Authz.Project(ctx, projectID)
	if err != nil {
		return err
	}
	if err := g.Require(authz.Read, authz.AuditLogs, "", ""); err != nil {
		return err
	}
	f.ProjectIDs = []string{g.Project.ID}
	return nil
}

func encodeCursor(seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("seq:" + strconv.FormatInt(seq, 10)))
}

func decodeCursor(c string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		if s, ok := strings.CutPrefix(string(b), "seq:"); ok {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
				return n, nil
			}
		}
	}
	return 0, coffer.Errorf(coffer.EVALIDATION, "cursor: not a cursor this server returned")
}
