package store

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Revisions and change notifications let a node cache what it read and know, exactly, when
// its copy may have gone stale (see migration 00002 and internal/cache):
//   - projects.revision and organizations.revision are bumped by triggers on every write that
//     can change what a read of the project, or an authorization in the organization, returns;
//   - every write transaction committed through this DB runs the OnCommit hooks;
//   - on PostgreSQL those triggers also notify channel "coffer_changes" at commit, which
//     ListenChanges delivers to every node, this one included.

// commitHooks are functions run after every successful write transaction.
type commitHooks struct {
	mu    sync.RWMutex
	hooks []func()
}

func (h *commitHooks) add(f func()) {
	h.mu.Lock()
	h.hooks = append(h.hooks, f)
	h.mu.Unlock()
}

func (h *commitHooks) run() {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, f := range h.hooks {
		f()
	}
}

// OnCommit registers f to run after every write transaction of this DB commits. f must be
// quick and must not use the DB.
func (db *DB) OnCommit(f func()) { db.commits.add(f) }

// latest is a connection that reads the newest committed data: the primary on PostgreSQL
// (never a replica, which may lag), the read pool on SQLite (WAL readers see every commit, and
// keeping them off the single writer connection keeps reads from queueing behind writes).
func (db *DB) latest() conn {
	if db.dialect == SQLite {
		return conn{q: db.r, d: db.conn.d}
	}
	return conn{q: db.w, d: db.conn.d}
}

// ProjectRevisions returns the revision of a project and of its organization, read from the
// newest committed data. A project that does not exist is ENOTFOUND.
func (db *DB) ProjectRevisions(ctx context.Context, projectID string) (project, org int64, err error) {
	err = db.latest().queryRow(ctx, `SELECT p.revision, o.revision FROM projects p JOIN organizations o ON o.id = p.org_id WHERE p.id = ?`,
		projectID).Scan(&project, &org)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, notFound("project")
	}
	return project, org, err
}

// OrgRevision returns the revision of an organization, read from the newest committed data.
func (db *DB) OrgRevision(ctx context.Context, orgID string) (int64, error) {
	var rev int64
	err := db.latest().queryRow(ctx, `SELECT revision FROM organizations WHERE id = ?`, orgID).Scan(&rev)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, notFound("organization")
	}
	return rev, err
}

// ChangesChannel is the PostgreSQL notification channel the revision triggers notify.
const ChangesChannel = "coffer_changes"

// CanListen reports whether ListenChanges can hear other nodes' writes: true on PostgreSQL.
// SQLite is served by one process, which learns of its own writes through OnCommit.
func (db *DB) CanListen() bool { return db.dialect == Postgres }

// ListenChanges listens on ChangesChannel on a connection of its own until ctx is done, calling
// onChange for every notification and onState(true) each time it starts listening,
// onState(false) each time it stops (connection lost; it reconnects with backoff up to 5 s).
// Between onState(false) and the next onState(true) notifications may have been missed: the
// caller must not trust what it cached during that time. It returns when ctx is done; on
// SQLite it returns at once.
func (db *DB) ListenChanges(ctx context.Context, onChange func(), onState func(up bool)) {
	if !db.CanListen() {
		return
	}
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := db.listen(ctx, onChange, onState)
		if ctx.Err() != nil {
			return
		}
		_ = err // the caller sees the state change; the error may quote the URL, so it is not returned
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (db *DB) listen(ctx context.Context, onChange func(), onState func(up bool)) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	c, err := pgx.Connect(cctx, db.dsn)
	cancel()
	if err != nil {
		return err
	}
	defer c.Close(context.WithoutCancel(ctx))
	if _, err := c.Exec(ctx, "LISTEN "+ChangesChannel); err != nil {
		return err
	}
	onState(true)
	defer onState(false)
	for {
		if _, err := c.WaitForNotification(ctx); err != nil {
			return err
		}
		onChange()
	}
}
