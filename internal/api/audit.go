package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/audit"
	"github.com/cofferhq/coffer/internal/httpserver"
)

// auditDenials records a permission.denied event when f fails with EFORBIDDEN, the answer of
// the services' authorization. The event names the route, the project and scope the request
// named in its path or query, and the reason; the request fails anyway, so a failure to record
// it is only logged.
func (a *API) auditDenials(f httpserver.HandlerFunc) httpserver.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		err := f(w, r)
		if coffer.ErrorCode(err) != coffer.EFORBIDDEN || a.Audit == nil {
			return err
		}
		q := r.URL.Query()
		ev := coffer.AuditEvent{
			Action: coffer.ActionPermissionDenied, Outcome: coffer.OutcomeDenied,
			ProjectID:   firstOf(r.PathValue("projectId"), q.Get("projectId"), q.Get("workspaceId")),
			Environment: q.Get("environment"), SecretPath: q.Get("secretPath"),
			Metadata: map[string]any{"route": r.Pattern, "reason": coffer.ErrorMessage(err)},
		}
		if name := r.PathValue("name"); name != "" {
			ev.SecretKeys = []string{name}
		}
		if rerr := a.Audit.Enqueue(r.Context(), ev); rerr != nil {
			a.Log.ErrorContext(r.Context(), "audit: cannot record a permission denial", "err", rerr)
		}
		return err
	}
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// wireAuditLog is an event in Infisical's audit-log shape, with Coffer's own fields beside.
type wireAuditLog struct {
	ID          string         `json:"id"`
	Seq         int64          `json:"seq"`
	Actor       wireAuditActor `json:"actor"`
	Event       wireAuditEvent `json:"event"`
	IPAddress   string         `json:"ipAddress"`
	UserAgent   string         `json:"userAgent"`
	OrgID       string         `json:"orgId"`
	ProjectID   string         `json:"projectId"`
	Environment string         `json:"environment"`
	SecretPath  string         `json:"secretPath"`
	SecretKeys  []string       `json:"secretKeys"`
	Outcome     string         `json:"outcome"`
	RequestID   string         `json:"requestId"`
	CreatedAt   string         `json:"createdAt"`
	Hash        string         `json:"hash"`
	PrevHash    string         `json:"prevHash"`
}

type wireAuditActor struct {
	Type     string         `json:"type"`
	Metadata map[string]any `json:"metadata"`
}

type wireAuditEvent struct {
	Type     string         `json:"type"`
	Metadata map[string]any `json:"metadata"`
}

func toWireAuditLog(ev *coffer.AuditEvent) wireAuditLog {
	am := map[string]any{}
	switch ev.ActorType {
	case coffer.AuditActorUser:
		am["userId"], am["email"], am["username"] = ev.ActorID, ev.ActorName, ev.ActorName
	case coffer.AuditActorIdentity:
		am["identityId"], am["name"] = ev.ActorID, ev.ActorName
	default:
		if ev.ActorName != "" {
			am["name"] = ev.ActorName
		}
	}
	keys := ev.SecretKeys
	if keys == nil {
		keys = []string{}
	}
	md := ev.Metadata
	if md == nil {
		md = map[string]any{}
	}
	return wireAuditLog{ID: ev.ID, Seq: ev.Seq, Actor: wireAuditActor{Type: ev.ActorType, Metadata: am},
		Event: wireAuditEvent{Type: ev.Action, Metadata: md}, IPAddress: ev.IP, UserAgent: ev.UserAgent, OrgID: ev.OrgID,
		ProjectID: ev.ProjectID, Environment: ev.Environment, SecretPath: ev.SecretPath, SecretKeys: keys, Outcome: ev.Outcome,
		RequestID: ev.RequestID, CreatedAt: isoTime(ev.Time), Hash: ev.Hash, PrevHash: ev.PrevHash}
}

// listAuditLogs serves GET /api/v1/organization/audit-logs (Infisical's route),
// /api/v1/organization/{orgId}/audit-logs and /api/v1/audit-logs: newest first, paged by
// offset (Infisical) or by the opaque cursor of the previous page (nextCursor).
func (a *API) listAuditLogs(w http.ResponseWriter, r *http.Request) error {
	q := httpserver.NewQuery(r)
	in := audit.Query{OrgID: r.PathValue("orgId"), ProjectID: q.String("projectId", "workspaceId"),
		Environment: q.String("environment"), SecretPath: q.String("secretPath"), ActorType: q.String("actorType"),
		Actor: q.String("actor", "actorId"), Cursor: q.String("cursor")}
	for _, v := range r.URL.Query()["eventType"] {
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				in.Actions = append(in.Actions, t)
			}
		}
	}
	var err error
	if in.Start, err = queryTime(q, "startDate"); err != nil {
		return err
	}
	if in.End, err = queryTime(q, "endDate"); err != nil {
		return err
	}
	if in.Offset, err = q.Int(0, "offset"); err != nil {
		return err
	}
	if in.Limit, err = q.Int(0, "limit"); err != nil {
		return err
	}
	page, err := a.AuditReader.Find(r.Context(), in)
	if err != nil {
		return err
	}
	logs := make([]wireAuditLog, len(page.Events))
	for i, ev := range page.Events {
		logs[i] = toWireAuditLog(ev)
	}
	httpserver.WriteJSON(w, r, http.StatusOK, map[string]any{"auditLogs": logs, "nextCursor": page.NextCursor})
	return nil
}

// queryTime reads an RFC 3339 time (or a date, YYYY-MM-DD, meaning its midnight UTC).
func queryTime(q httpserver.Query, name string) (time.Time, error) {
	v := q.String(name)
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, coffer.Errorf(coffer.EVALIDATION, "%s: must be an RFC 3339 time such as 2026-01-02T15:04:05Z", name)
}
