package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// AuditLog is one audit event, in Infisical's shape with Coffer's fields beside.
type AuditLog struct {
	ID    string `json:"id"`
	Seq   int64  `json:"seq"`
	Actor struct {
		Type     string         `json:"type"`
		Metadata map[string]any `json:"metadata"`
	} `json:"actor"`
	Event struct {
		Type     string         `json:"type"`
		Metadata map[string]any `json:"metadata"`
	} `json:"event"`
	IPAddress   string   `json:"ipAddress"`
	UserAgent   string   `json:"userAgent"`
	OrgID       string   `json:"orgId"`
	ProjectID   string   `json:"projectId"`
	Environment string   `json:"environment"`
	SecretPath  string   `json:"secretPath"`
	SecretKeys  []string `json:"secretKeys"`
	Outcome     string   `json:"outcome"`
	RequestID   string   `json:"requestId"`
	CreatedAt   string   `json:"createdAt"`
	Hash        string   `json:"hash"`
	PrevHash    string   `json:"prevHash"`
}

// AuditQuery selects audit events; zero fields do not filter.
type AuditQuery struct {
	ProjectID   string
	Environment string
	SecretPath  string
	ActorType   string   // user, identity or anonymous
	Actor       string   // an actor's id, a user's e-mail or an identity's name
	EventTypes  []string // actions, e.g. secret.read
	Start, End  time.Time
	Cursor      string // NextCursor of the previous page
	Limit       int    // 1 to 1000; the server's default when 0
}

// AuditLogs returns a page of audit events, newest first, and the cursor of the next page
// ("" after the last).
func (c *Client) AuditLogs(ctx context.Context, q AuditQuery) ([]AuditLog, string, error) {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set("projectId", q.ProjectID)
	set("environment", q.Environment)
	set("secretPath", q.SecretPath)
	set("actorType", q.ActorType)
	set("actor", q.Actor)
	set("eventType", strings.Join(q.EventTypes, ","))
	set("cursor", q.Cursor)
	if !q.Start.IsZero() {
		v.Set("startDate", q.Start.UTC().Format(time.RFC3339Nano))
	}
	if !q.End.IsZero() {
		v.Set("endDate", q.End.UTC().Format(time.RFC3339Nano))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	var out struct {
		AuditLogs  []AuditLog `json:"auditLogs"`
		NextCursor string     `json:"nextCursor"`
	}
	if err := c.Do(ctx, http.MethodGet, "/api/v1/audit-logs", v, nil, &out); err != nil {
		return nil, "", err
	}
	return out.AuditLogs, out.NextCursor, nil
}
