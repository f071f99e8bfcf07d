package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/audit"
	"github.com/cofferhq/coffer/internal/httpserver"
)

type auditData struct {
	Filter   auditFilter
	Events   []*coffer.AuditEvent
	Projects map[string]string // id → name
	Next     string            // URL of the next page; "" on the last
}

type auditFilter struct {
	ActorType, Actor, Action, Project, Environment string
}

// auditPage lists the organization's audit events, newest first, filtered by actor, action,
// project and environment (the same query and authorization as GET /api/v1/audit-logs).
func (wb *Web) auditPage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := auditFilter{ActorType: q.Get("actorType"), Actor: strings.TrimSpace(q.Get("actor")),
		Action: strings.TrimSpace(q.Get("action")), Project: q.Get("project"), Environment: strings.TrimSpace(q.Get("environment"))}
	query := audit.Query{ProjectID: f.Project, Environment: f.Environment, ActorType: f.ActorType, Actor: f.Actor,
		Cursor: q.Get("cursor"), Limit: 50}
	if f.Action != "" {
		query.Actions = []string{f.Action}
	}
	d := auditData{Filter: f, Projects: map[string]string{}}
	if ps, err := wb.Projects.ListProjects(r.Context()); err == nil {
		for _, p := range ps {
			d.Projects[p.ID] = p.Name
		}
	}
	page, err := wb.Audit.Find(r.Context(), query)
	if err != nil {
		msg, ok := userMessage(err)
		if !ok {
			return err
		}
		wb.render(w, r, httpserver.StatusOf(coffer.ErrorCode(err)), "audit", &view{Title: "Audit log", Nav: "audit", Error: msg, D: d})
		return nil
	}
	d.Events = page.Events
	if page.NextCursor != "" {
		next := url.Values{}
		for k, v := range q {
			next[k] = v
		}
		next.Set("cursor", page.NextCursor)
		d.Next = "/audit?" + next.Encode()
	}
	wb.render(w, r, http.StatusOK, "audit", &view{Title: "Audit log", Nav: "audit", D: d})
	return nil
}
