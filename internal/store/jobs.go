package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Job statuses. A job that succeeds is deleted.
const (
	JobPending = "pending" // waiting for run_at
	JobRunning = "running" // claimed by a worker until its lease ends
	JobDead    = "dead"    // failed MaxAttempts times, or permanently; kept for inspection
)

// liveJob selects pending and running jobs. The statuses are literals, not parameters, so that
// PostgreSQL can use the partial indexes (jobs_due, jobs_dedup) in cached, generic plans too.
const liveJob = `status IN ('` + JobPending + `', '` + JobRunning + `')`

// DefaultJobMaxAttempts is the MaxAttempts of a job enqueued with zero.
const DefaultJobMaxAttempts = 10

// maxJobError bounds the stored last error of a job.
const maxJobError = 1000

// Job is one unit of background work in the job table. Payload is opaque to the store and is
// never logged; a payload that carries anything secret is sealed (Sealed) by internal/jobs.
type Job struct {
	ID          string    // empty: a new id is made at enqueue
	Kind        string    // e.g. "email.send"; names the handler
	Payload     []byte    // opaque bytes (JSON or sealed); never logged
	Sealed      bool      // Payload was sealed by internal/jobs (keyring.SealSystem) and is opened before the handler runs
	RunAt       time.Time // zero: now
	MaxAttempts int       // zero: DefaultJobMaxAttempts
	Key         string    // optional dedup key: a second enqueue of Kind+Key while one is pending or running is a no-op

	// Kept by the store and the worker.
	Status      string
	Attempts    int // claims so far, including the current one
	LastError   string
	LockedBy    string
	LockedUntil time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

const jobColumns = `id, kind, dedup_key, payload, sealed, status, attempts, max_attempts, run_at, locked_by, locked_until,
 last_error, created_at, updated_at`

func scanJob(s interface{ Scan(...any) error }) (Job, error) {
	var j Job
	var runAt, lockedUntil, created, updated int64
	err := s.Scan(&j.ID, &j.Kind, &j.Key, &j.Payload, &j.Sealed, &j.Status, &j.Attempts, &j.MaxAttempts, &runAt, &j.LockedBy,
		&lockedUntil, &j.LastError, &created, &updated)
	j.RunAt, j.LockedUntil, j.CreatedAt, j.UpdatedAt = fromMS(runAt), fromMS(lockedUntil), fromMS(created), fromMS(updated)
	return j, err
}

// EnqueueJob adds a job inside the transaction, so it exists only if the transaction commits.
// It returns the job's id, or the id of the pending job of the same Kind and Key that made
// this enqueue a no-op. Workers of this process are woken when the transaction commits.
func (tx *Tx) EnqueueJob(ctx context.Context, j Job) (string, error) {
	if j.Kind == "" {
		return "", fmt.Errorf("enqueue job: no kind")
	}
	if j.MaxAttempts <= 0 {
		j.MaxAttempts = DefaultJobMaxAttempts
	}
	if j.ID == "" {
		j.ID = NewID()
	}
	if j.Payload == nil {
		j.Payload = []byte{}
	}
	now := time.Now()
	if j.RunAt.IsZero() {
		j.RunAt = now
	}
	// DO NOTHING without a conflict target: the only conflict possible besides the id is the
	// partial unique index on (kind, dedup_key) of live jobs.
	res, err := tx.exec(ctx, `INSERT INTO jobs (id, kind, dedup_key, payload, sealed, status, attempts, max_attempts, run_at,
 created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		j.ID, j.Kind, j.Key, j.Payload, j.Sealed, JobPending, j.MaxAttempts, ms(j.RunAt), ms(now), ms(now))
	if err != nil {
		return "", fmt.Errorf("enqueue job %s: %w", j.Kind, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return "", err
	} else if n == 1 {
		tx.onCommit = append(tx.onCommit, tx.wake.notify)
		return j.ID, nil
	}
	if j.Key == "" {
		return "", fmt.Errorf("enqueue job %s: id %s is taken", j.Kind, j.ID)
	}
	var id string
	err = tx.queryRow(ctx, `SELECT id FROM jobs WHERE kind = ? AND dedup_key = ? AND dedup_key <> '' AND `+liveJob,
		j.Kind, j.Key).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("enqueue job %s: find the pending job of the same key: %w", j.Kind, err)
	}
	return id, nil
}

// EnqueueJob adds a job in its own transaction.
func (db *DB) EnqueueJob(ctx context.Context, j Job) (id string, err error) {
	err = db.InTx(ctx, func(tx *Tx) error {
		id, err = tx.EnqueueJob(ctx, j)
		return err
	})
	return id, err
}

// JobWake returns a channel closed the next time a transaction of this DB that enqueued a job
// commits. Workers wait on it between polls so that local work starts at once.
func (db *DB) JobWake() <-chan struct{} { return db.wake.wait() }

// jobWake is a broadcast: notify closes the current channel and makes the next one.
type jobWake struct {
	mu sync.Mutex
	ch chan struct{}
}

func (w *jobWake) wait() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ch == nil {
		w.ch = make(chan struct{})
	}
	return w.ch
}

func (w *jobWake) notify() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ch != nil {
		close(w.ch)
		w.ch = nil
	}
}

// ClaimJobs leases up to limit due jobs of the given kinds to worker until now+lease and
// returns them with Attempts counting this claim. On PostgreSQL, rows another node is claiming
// are skipped (FOR UPDATE SKIP LOCKED); SQLite has one writer, so the transaction alone makes
// the claim exclusive. A running job whose lease ended (its node died) is due again, unless it
// has used all its attempts (see ExpireJobs).
func (db *DB) ClaimJobs(ctx context.Context, worker string, kinds []string, now time.Time, lease time.Duration, limit int) ([]Job, error) {
	if len(kinds) == 0 || limit <= 0 {
		return nil, nil
	}
	until := ms(now.Add(lease))
	args := []any{JobRunning, worker, until, until, ms(now), ms(now)}
	for _, k := range kinds {
		args = append(args, k)
	}
	args = append(args, limit)
	var out []Job
	err := db.InTx(ctx, func(tx *Tx) error {
		lock := tx.forUpdate()
		if lock != "" {
			lock += " SKIP LOCKED"
		}
		rows, err := tx.query(ctx, `UPDATE jobs SET status = ?, attempts = attempts + 1, locked_by = ?, locked_until = ?, run_at = ?, updated_at = ?
 WHERE id IN (SELECT id FROM jobs WHERE `+liveJob+` AND run_at <= ? AND attempts < max_attempts AND kind IN (`+placeholders(len(kinds))+`)
 ORDER BY run_at LIMIT ?`+lock+`) RETURNING `+jobColumns, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			j, err := scanJob(rows)
			if err != nil {
				return err
			}
			out = append(out, j)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("claim jobs: %w", err)
	}
	return out, nil
}

// ExtendJobLease moves the end of a running job's lease to until. It reports false when the
// job is no longer this claim's (the lease ended and another worker took it).
func (db *DB) ExtendJobLease(ctx context.Context, j Job, until, now time.Time) (bool, error) {
	return db.finishJob(ctx, `UPDATE jobs SET locked_until = ?, run_at = ?, updated_at = ?`, j, ms(until), ms(until), ms(now))
}

// CompleteJob deletes a job that succeeded. It reports false when the job is no longer this
// claim's (its lease ended and another worker took it).
func (db *DB) CompleteJob(ctx context.Context, j Job) (bool, error) {
	return db.finishJob(ctx, `DELETE FROM jobs`, j)
}

// RetryJob returns a failed job to pending, due at runAt, keeping errMsg (truncated).
func (db *DB) RetryJob(ctx context.Context, j Job, runAt time.Time, errMsg string, now time.Time) (bool, error) {
	return db.finishJob(ctx, `UPDATE jobs SET status = ?, run_at = ?, locked_by = '', locked_until = 0, last_error = ?, updated_at = ?`,
		j, JobPending, ms(runAt), truncateError(errMsg), ms(now))
}

// ReleaseJob returns an interrupted job (its node is shutting down) to pending, due now, and
// does not count the attempt.
func (db *DB) ReleaseJob(ctx context.Context, j Job, errMsg string, now time.Time) (bool, error) {
	return db.finishJob(ctx, `UPDATE jobs SET status = ?, attempts = attempts - 1, run_at = ?, locked_by = '', locked_until = 0,
 last_error = ?, updated_at = ?`, j, JobPending, ms(now), truncateError(errMsg), ms(now))
}

// KillJob marks a job dead, keeping errMsg (truncated): it is not tried again.
func (db *DB) KillJob(ctx context.Context, j Job, errMsg string, now time.Time) (bool, error) {
	return db.finishJob(ctx, `UPDATE jobs SET status = ?, locked_by = '', locked_until = 0, last_error = ?, updated_at = ?`,
		j, JobDead, truncateError(errMsg), ms(now))
}

// finishJob runs stmt (without its WHERE) on the job only if it still holds this claim: same
// worker and same attempt.
func (db *DB) finishJob(ctx context.Context, stmt string, j Job, args ...any) (bool, error) {
	var n int64
	err := db.InTx(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, stmt+` WHERE id = ? AND status = ? AND locked_by = ? AND attempts = ?`,
			append(args, j.ID, JobRunning, j.LockedBy, j.Attempts)...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n == 1, err
}

// truncateError bounds a stored error message, cutting at a rune boundary.
func truncateError(s string) string {
	if len(s) <= maxJobError {
		return s
	}
	return strings.ToValidUTF8(s[:maxJobError], "") + "…"
}

// ExpireJobs marks dead the running jobs whose lease ended after their last attempt (their
// node died on every try), and returns how many.
func (c conn) ExpireJobs(ctx context.Context, now time.Time) (int64, error) {
	res, err := c.exec(ctx, `UPDATE jobs SET status = ?, locked_by = '', locked_until = 0, last_error = ?, updated_at = ?
 WHERE status = ? AND run_at <= ? AND attempts >= max_attempts`,
		JobDead, "lease ended during the last attempt (the node stopped or the handler overran its lease)", ms(now), JobRunning, ms(now))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// PruneDeadJobs deletes dead jobs last updated before before, and returns how many.
func (c conn) PruneDeadJobs(ctx context.Context, before time.Time) (int64, error) {
	res, err := c.exec(ctx, `DELETE FROM jobs WHERE status = '`+JobDead+`' AND updated_at < ?`, ms(before))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// FindJob returns a job by id.
func (c conn) FindJob(ctx context.Context, id string) (*Job, error) {
	j, err := scanJob(c.queryRow(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("job")
	} else if err != nil {
		return nil, err
	}
	return &j, nil
}

// SealedJobs returns the id, kind and payload of every job with a sealed payload (for
// root-key rotation, which re-seals them).
func (c conn) SealedJobs(ctx context.Context) ([]Job, error) {
	rows, err := c.query(ctx, `SELECT id, kind, payload FROM jobs WHERE sealed = TRUE ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Job
	for rows.Next() {
		j := Job{Sealed: true}
		if err := rows.Scan(&j.ID, &j.Kind, &j.Payload); err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// UpdateJobPayload replaces a job's payload (a re-sealed one).
func (c conn) UpdateJobPayload(ctx context.Context, id string, payload []byte) error {
	res, err := c.exec(ctx, `UPDATE jobs SET payload = ? WHERE id = ?`, payload, id)
	return expectRow(res, err, "job")
}

// JobCount is the number of jobs of one kind in one status.
type JobCount struct {
	Kind, Status string
	N            int64
}

// CountJobs returns how many jobs there are by kind and status (done jobs are deleted).
func (c conn) CountJobs(ctx context.Context) ([]JobCount, error) {
	rows, err := c.query(ctx, `SELECT kind, status, COUNT(*) FROM jobs GROUP BY kind, status ORDER BY kind, status`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []JobCount
	for rows.Next() {
		var n JobCount
		if err := rows.Scan(&n.Kind, &n.Status, &n.N); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// EnsureSchedule creates a periodic job's row, first due at next, unless it exists.
func (db *DB) EnsureSchedule(ctx context.Context, name string, next time.Time) error {
	return db.InTx(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, `INSERT INTO job_schedules (name, next_run_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`, name, ms(next))
		return err
	})
}

// ScheduleNext returns when a periodic job is next due.
func (c conn) ScheduleNext(ctx context.Context, name string) (time.Time, error) {
	var next int64
	err := c.queryRow(ctx, `SELECT next_run_at FROM job_schedules WHERE name = ?`, name).Scan(&next)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, notFound("job schedule")
	}
	return fromMS(next), err
}

// ClaimSchedule moves a periodic job's next run from seen (the value read by ScheduleNext) to
// next, and reports whether this call did it: of the nodes that read the same seen, exactly
// one wins, whatever their clocks say, and runs the period.
func (db *DB) ClaimSchedule(ctx context.Context, name string, seen, next, now time.Time, node string) (bool, error) {
	var n int64
	err := db.InTx(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `UPDATE job_schedules SET next_run_at = ?, last_run_at = ?, last_node = ? WHERE name = ? AND next_run_at = ?`,
			ms(next), ms(now), node, name, ms(seen))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n == 1, err
}

// PruneAccessTokens deletes the records of access tokens that expired before before, and
// returns how many. A pruned token is refused as unknown instead of as expired.
func (c conn) PruneAccessTokens(ctx context.Context, before time.Time) (int64, error) {
	b := ms(before)
	res, err := c.exec(ctx, `DELETE FROM access_tokens WHERE ttl > 0
 AND ((? - renewed_at) / 1000 > ttl OR (max_ttl > 0 AND (? - created_at) / 1000 > max_ttl))`, b, b)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// LatestJob returns the most recent job of kind with dedup key key, live or dead; ENOTFOUND
// when there is none (it succeeded and was deleted, or was pruned).
func (c conn) LatestJob(ctx context.Context, kind, key string) (*Job, error) {
	j, err := scanJob(c.queryRow(ctx, `SELECT `+jobColumns+` FROM jobs WHERE kind = ? AND dedup_key = ? ORDER BY created_at DESC, id DESC LIMIT 1`, kind, key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("job")
	} else if err != nil {
		return nil, err
	}
	return &j, nil
}
