package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/cofferhq/coffer"
)

// AuditRow is an audit event as stored: its keys and metadata as the JSON text that was
// hashed, so that verification hashes exactly the bytes in the table.
type AuditRow struct {
	coffer.AuditEvent
	KeysJSON     string
	MetadataJSON string
}

const auditColumns = `id, seq, created_at, actor_type, actor_id, actor_name, ip, user_agent, action, org_id, project_id,
 environment, secret_path, secret_keys, outcome, request_id, metadata, node, prev_hash, hash`

func scanAuditRow(rows *sql.Rows) (*AuditRow, error) {
	var r AuditRow
	var created int64
	err := rows.Scan(&r.ID, &r.Seq, &created, &r.ActorType, &r.ActorID, &r.ActorName, &r.IP, &r.UserAgent, &r.Action,
		&r.OrgID, &r.ProjectID, &r.Environment, &r.SecretPath, &r.KeysJSON, &r.Outcome, &r.RequestID, &r.MetadataJSON,
		&r.Node, &r.PrevHash, &r.Hash)
	r.Time = fromMS(created)
	return &r, err
}

func (c conn) auditRows(ctx context.Context, query string, args ...any) ([]*AuditRow, error) {
	rows, err := c.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*AuditRow
	for rows.Next() {
		r, err := scanAuditRow(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ChainPoint is a position in the audit chain: a sequence number and the hash of that event.
type ChainPoint struct {
	Seq  int64
	Hash string
}

// LockAuditHead returns the head of the audit chain, locked until the transaction ends (on
// SQLite the transaction already holds the database's write lock). Take it last in a
// transaction: every appender waits for it.
func (tx *Tx) LockAuditHead(ctx context.Context) (ChainPoint, error) {
	var p ChainPoint
	err := tx.queryRow(ctx, `SELECT seq, hash FROM audit_chain WHERE name = 'head'`+tx.forUpdate()).Scan(&p.Seq, &p.Hash)
	if err != nil {
		return p, fmt.Errorf("lock audit chain head: %w", err)
	}
	return p, nil
}

// AppendAuditRows inserts rows, whose Seq, PrevHash and Hash the caller has chained from the
// head it locked, and moves the head to the last one. committed, when not nil, is called with
// the rows after the transaction commits (and never if it does not).
func (tx *Tx) AppendAuditRows(ctx context.Context, rows []*AuditRow, committed func([]*AuditRow)) error {
	if committed != nil && len(rows) > 0 {
		all := rows
		tx.onCommit = append(tx.onCommit, func() { committed(all) })
	}
	if len(rows) == 0 {
		return nil
	}
	if err := tx.insertAuditRows(ctx, rows); err != nil {
		return fmt.Errorf("append audit events: %w", err)
	}
	last := rows[len(rows)-1]
	if _, err := tx.exec(ctx, `UPDATE audit_chain SET seq = ?, hash = ? WHERE name = 'head'`, last.Seq, last.Hash); err != nil {
		return fmt.Errorf("move audit chain head: %w", err)
	}
	return nil
}

func auditArgs(r *AuditRow) []any {
	return []any{r.ID, r.Seq, ms(r.Time), r.ActorType, r.ActorID, r.ActorName, r.IP, r.UserAgent, r.Action,
		r.OrgID, r.ProjectID, r.Environment, r.SecretPath, r.KeysJSON, r.Outcome, r.RequestID, r.MetadataJSON,
		r.Node, r.PrevHash, r.Hash}
}

// insertAuditRows inserts rows with multi-row INSERTs: fewer round trips on PostgreSQL, fewer
// statements to parse on SQLite (where the driver's cost of binding grows with the statement,
// hence shorter ones).
func (tx *Tx) insertAuditRows(ctx context.Context, rows []*AuditRow) error {
	perStatement := 100 // 20 parameters each: 2,000 of PostgreSQL's 65,535
	if !tx.d.numbered {
		perStatement = 25
	}
	for len(rows) > 0 {
		n := min(len(rows), perStatement)
		var q strings.Builder
		q.WriteString(`INSERT INTO audit_events (` + auditColumns + `) VALUES `)
		args := make([]any, 0, 20*n)
		for i, r := range rows[:n] {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(" + placeholders(20) + ")")
			args = append(args, auditArgs(r)...)
		}
		if _, err := tx.exec(ctx, q.String(), args...); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// AuditChainState returns the head (last event appended) and the anchor (last event removed
// by retention; verification starts after it).
func (c conn) AuditChainState(ctx context.Context) (head, anchor ChainPoint, err error) {
	rows, err := c.query(ctx, `SELECT name, seq, hash FROM audit_chain`)
	if err != nil {
		return head, anchor, err
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var p ChainPoint
		if err := rows.Scan(&name, &p.Seq, &p.Hash); err != nil {
			return head, anchor, err
		}
		switch name {
		case "head":
			head = p
		case "anchor":
			anchor = p
		}
	}
	return head, anchor, rows.Err()
}

// AuditChain returns up to limit events with seq > after, in chain order.
func (c conn) AuditChain(ctx context.Context, after int64, limit int) ([]*AuditRow, error) {
	return c.auditRows(ctx, `SELECT `+auditColumns+` FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
}

// AuditEventsOfNode returns up to limit events appended by node with seq > after, in chain
// order (what a node streams).
func (c conn) AuditEventsOfNode(ctx context.Context, node string, after int64, limit int) ([]*AuditRow, error) {
	return c.auditRows(ctx, `SELECT `+auditColumns+` FROM audit_events WHERE node = ? AND seq > ? ORDER BY seq LIMIT ?`, node, after, limit)
}

// AuditFilter selects audit events, newest first. Zero fields do not filter.
type AuditFilter struct {
	OrgID       string
	ProjectIDs  []string // any of them; nil: any project
	ActorID     string   // an actor's id, or a user's e-mail or identity's name
	ActorType   string
	Actions     []string
	Environment string
	SecretPath  string
	Start, End  time.Time // created_at >= Start, < End
	BeforeSeq   int64     // seq < BeforeSeq (the cursor)
	Offset      int
	Limit       int
}

// FindAuditEvents returns the events f selects, newest (highest seq) first.
func (c conn) FindAuditEvents(ctx context.Context, f AuditFilter) ([]*AuditRow, error) {
	var where []string
	var args []any
	add := func(cond string, a ...any) { where = append(where, cond); args = append(args, a...) }
	add("org_id = ?", f.OrgID)
	if f.ProjectIDs != nil {
		if len(f.ProjectIDs) == 0 {
			return nil, nil
		}
		add("project_id IN ("+placeholders(len(f.ProjectIDs))+")", toAny(f.ProjectIDs)...)
	}
	if f.ActorID != "" {
		add("(actor_id = ? OR actor_name = ?)", f.ActorID, f.ActorID)
	}
	if f.ActorType != "" {
		add("actor_type = ?", f.ActorType)
	}
	if len(f.Actions) > 0 {
		add("action IN ("+placeholders(len(f.Actions))+")", toAny(f.Actions)...)
	}
	if f.Environment != "" {
		add("environment = ?", f.Environment)
	}
	if f.SecretPath != "" {
		add("secret_path = ?", f.SecretPath)
	}
	if !f.Start.IsZero() {
		add("created_at >= ?", ms(f.Start))
	}
	if !f.End.IsZero() {
		add("created_at < ?", ms(f.End))
	}
	if f.BeforeSeq > 0 {
		add("seq < ?", f.BeforeSeq)
	}
	q := `SELECT ` + auditColumns + ` FROM audit_events WHERE ` + strings.Join(where, " AND ") + ` ORDER BY seq DESC LIMIT ? OFFSET ?`
	return c.auditRows(ctx, q, append(args, f.Limit, f.Offset)...)
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// PruneAuditEvents removes, oldest first, at most max events of the chain's prefix that ends
// before the first event created at or after cutoff, and moves the anchor to the last one
// removed so that verification still starts from a known hash. It returns how many it removed.
func (tx *Tx) PruneAuditEvents(ctx context.Context, cutoff time.Time, max int) (int, error) {
	// Prunes from several nodes take turns on the anchor row, each seeing the other's result.
	var anchor int64
	if err := tx.queryRow(ctx, `SELECT seq FROM audit_chain WHERE name = 'anchor'`+tx.forUpdate()).Scan(&anchor); err != nil {
		return 0, err
	}
	// The chain's prefix: every event before the first one that is recent enough. An event a
	// few milliseconds older that comes after it (times and sequence differ slightly across
	// nodes) is kept, never a newer one removed.
	var keepFrom sql.NullInt64
	if err := tx.queryRow(ctx, `SELECT MIN(seq) FROM audit_events WHERE created_at >= ?`, ms(cutoff)).Scan(&keepFrom); err != nil {
		return 0, err
	}
	var last sql.NullInt64
	q := `SELECT MAX(seq) FROM (SELECT seq FROM audit_events WHERE seq < ? ORDER BY seq LIMIT ?) p`
	limitSeq := int64(1<<63 - 1)
	if keepFrom.Valid {
		limitSeq = keepFrom.Int64
	}
	if err := tx.queryRow(ctx, q, limitSeq, max).Scan(&last); err != nil {
		return 0, err
	}
	if !last.Valid || last.Int64 <= anchor {
		return 0, nil
	}
	var hash string
	if err := tx.queryRow(ctx, `SELECT hash FROM audit_events WHERE seq = ?`, last.Int64).Scan(&hash); err != nil {
		return 0, err
	}
	res, err := tx.exec(ctx, `DELETE FROM audit_events WHERE seq <= ?`, last.Int64)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	if _, err := tx.exec(ctx, `UPDATE audit_chain SET seq = ?, hash = ? WHERE name = 'anchor'`, last.Int64, hash); err != nil {
		return 0, err
	}
	return int(n), nil
}
