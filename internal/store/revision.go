package store

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// Revisions let a node cache what it read and know, exactly, when its copy may have gone stale
// (see migrations 00002 and 00009, and internal/cache):
//   - projects.revision and organizations.revision are bumped by triggers on every write that
//     can change what a read of the project, or an authorization in the organization, returns;
//   - on PostgreSQL each such bump also bumps coffer_revision, the database-wide revision that
//     nodes poll (GlobalRevision);
//   - every write transaction committed through this DB runs the OnCommit hooks.

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

// Polled reports whether this database's cache must poll GlobalRevision to learn of other
// nodes' writes: true on PostgreSQL. SQLite is served by one process, which learns of its own
// writes through OnCommit.
func (db *DB) Polled() bool { return db.dialect == Postgres }

// GlobalRevision returns the database-wide revision (PostgreSQL; migration 00009), which moves
// with every project or organization revision, read from the primary.
func (db *DB) GlobalRevision(ctx context.Context) (int64, error) {
	var rev int64
	err := db.latest().queryRow(ctx, `SELECT revision FROM coffer_revision WHERE id = 1`).Scan(&rev)
	return rev, err
}
