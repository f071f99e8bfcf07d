package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/cofferhq/coffer"
	"github.com/cofferhq/coffer/internal/store"
)

// StreamJobKind is the kind of the job that delivers appended events to the HTTP endpoint.
const StreamJobKind = "audit.stream"

// JSONEvent is an event as streamed (one JSON object per line) and as `coffer audit list
// --output json` prints it.
type JSONEvent struct {
	ID          string         `json:"id"`
	Seq         int64          `json:"seq"`
	Time        time.Time      `json:"time"`
	Actor       JSONActor      `json:"actor"`
	IP          string         `json:"ip"`
	UserAgent   string         `json:"userAgent"`
	Action      string         `json:"action"`
	Outcome     string         `json:"outcome"`
	OrgID       string         `json:"orgId"`
	ProjectID   string         `json:"projectId"`
	Environment string         `json:"environment"`
	SecretPath  string         `json:"secretPath"`
	SecretKeys  []string       `json:"secretKeys"`
	RequestID   string         `json:"requestId"`
	Metadata    map[string]any `json:"metadata"`
	Node        string         `json:"node"`
	PrevHash    string         `json:"prevHash"`
	Hash        string         `json:"hash"`
}

// JSONActor is who did it.
type JSONActor struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Name string `json:"name"`
}

// ToJSON returns the JSON form of an event.
func ToJSON(ev *coffer.AuditEvent) JSONEvent {
	keys, md := ev.SecretKeys, ev.Metadata
	if keys == nil {
		keys = []string{}
	}
	if md == nil {
		md = map[string]any{}
	}
	return JSONEvent{ID: ev.ID, Seq: ev.Seq, Time: ev.Time, Actor: JSONActor{Type: ev.ActorType, ID: ev.ActorID, Name: ev.ActorName},
		IP: ev.IP, UserAgent: ev.UserAgent, Action: ev.Action, Outcome: ev.Outcome, OrgID: ev.OrgID, ProjectID: ev.ProjectID,
		Environment: ev.Environment, SecretPath: ev.SecretPath, SecretKeys: keys, RequestID: ev.RequestID, Metadata: md,
		Node: ev.Node, PrevHash: ev.PrevHash, Hash: ev.Hash}
}

func jsonLines(rows []*store.AuditRow) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	for _, r := range rows {
		enc.Encode(ToJSON(fromRow(r))) //nolint:errcheck // plain data always encodes
	}
	return b.Bytes()
}

// LineWriter writes events as JSON lines to a file or standard output, whole lines at a time.
type LineWriter struct {
	mu  sync.Mutex
	w   io.Writer
	c   io.Closer
	log *slog.Logger
}

// OpenStream opens the stream named by COFFER_AUDIT_STREAM_FILE: "-" is stdout, anything else
// a file opened for appending (created 0600).
func OpenStream(name string, stdout io.Writer, log *slog.Logger) (*LineWriter, error) {
	if log == nil {
		log = slog.Default()
	}
	if name == "-" {
		return &LineWriter{w: stdout, log: log}, nil
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open audit stream file: %w", err)
	}
	return &LineWriter{w: f, c: f, log: log}, nil
}

func (s *LineWriter) writeRows(rows []*store.AuditRow) {
	b := jsonLines(rows)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.w.Write(b); err != nil {
		s.log.Error("audit: cannot write to the audit stream", "events", len(rows), "err", err)
	}
}

// Close closes the file (not stdout).
func (s *LineWriter) Close() error {
	if s == nil || s.c == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.c.Close()
}

// enqueueDelivery adds, in the appending transaction, the job that posts these events to the
// HTTP endpoint: they are delivered if and only if they were recorded, retried by the job
// table while the endpoint fails.
func enqueueDelivery(ctx context.Context, tx *store.Tx, rows []*store.AuditRow) error {
	_, err := tx.EnqueueJob(ctx, store.Job{Kind: StreamJobKind, Payload: jsonLines(rows), MaxAttempts: 50})
	return err
}

// HTTPStream posts JSON lines to an endpoint (Content-Type application/x-ndjson).
type HTTPStream struct {
	URL    string
	Header string // "Name: value", or a bare value for Authorization; a secret, never logged
	Client *http.Client
}

// Deliver posts one job's lines; any answer but 2xx is an error, and the job is retried.
func (h *HTTPStream) Deliver(ctx context.Context, lines []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(lines))
	if err != nil {
		return fmt.Errorf("audit stream: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("User-Agent", "coffer-audit-stream")
	if h.Header != "" {
		name, value, ok := strings.Cut(h.Header, ":")
		if !ok {
			name, value = "Authorization", h.Header
		}
		req.Header.Set(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	c := h.Client
	if c == nil {
		c = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("audit stream: post: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16)) //nolint:errcheck // drain for keep-alive
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("audit stream: endpoint answered %d", resp.StatusCode)
	}
	return nil
}
