-- +goose Up
-- The job table: background work (e-mail, audit streaming, pruning) claimed by any node with
-- FOR UPDATE SKIP LOCKED, held under a lease (locked_until) so that a job of a crashed node
-- runs again once the lease ends. Times are Unix milliseconds. A job's payload is opaque:
-- sealed by internal/keyring (SealSystem) when it carries anything secret (sealed = TRUE).
CREATE TABLE jobs (
    id           TEXT PRIMARY KEY,
    kind         TEXT COLLATE "C" NOT NULL,
    dedup_key    TEXT COLLATE "C" NOT NULL DEFAULT '',
    payload      BYTEA NOT NULL,
    sealed       BOOLEAN NOT NULL DEFAULT FALSE,
    status       TEXT NOT NULL,              -- pending | running | dead (done jobs are deleted)
    attempts     INTEGER NOT NULL DEFAULT 0, -- claims so far
    max_attempts INTEGER NOT NULL,
    run_at       BIGINT NOT NULL,            -- due time; while running, the end of the lease
    locked_by    TEXT NOT NULL DEFAULT '',
    locked_until BIGINT NOT NULL DEFAULT 0,
    last_error   TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
-- Due jobs, oldest first; dead jobs stay out of the index that the workers scan.
CREATE INDEX jobs_due ON jobs (run_at) WHERE status IN ('pending', 'running');
-- At most one live job per (kind, dedup key): a second enqueue is a no-op.
CREATE UNIQUE INDEX jobs_dedup ON jobs (kind, dedup_key) WHERE dedup_key <> '' AND status IN ('pending', 'running');
CREATE INDEX jobs_dead ON jobs (updated_at) WHERE status = 'dead';

-- Periodic jobs: one row per schedule; a node runs a period only if its compare-and-swap of
-- next_run_at from the value it read succeeds, so exactly one node runs each period.
CREATE TABLE job_schedules (
    name        TEXT PRIMARY KEY,
    next_run_at BIGINT NOT NULL,
    last_run_at BIGINT NOT NULL DEFAULT 0,
    last_node   TEXT NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE job_schedules;
DROP TABLE jobs;
