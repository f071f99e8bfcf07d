-- +goose Up
-- The audit log: one row per event, chained by SHA-256 (hash covers every other column and
-- prev_hash), so that an edited, removed or reordered row is found by `coffer audit verify`.
-- seq is assigned under the lock of the 'head' row of audit_chain, held until the appending
-- transaction commits: events commit in seq order and the chain stays linear across nodes.
-- Never a secret value here: keys, paths and metadata only.
CREATE TABLE audit_events (
    id          TEXT PRIMARY KEY,
    seq         INTEGER NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    actor_type  TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    actor_name  TEXT NOT NULL,
    ip          TEXT NOT NULL,
    user_agent  TEXT NOT NULL,
    action      TEXT NOT NULL,
    org_id      TEXT NOT NULL,
    project_id  TEXT NOT NULL,
    environment TEXT NOT NULL,
    secret_path TEXT NOT NULL,
    secret_keys TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    metadata    TEXT NOT NULL,
    node        TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_events_org ON audit_events (org_id, seq);
CREATE INDEX audit_events_project ON audit_events (project_id, seq);
CREATE INDEX audit_events_node ON audit_events (node, seq);
CREATE INDEX audit_events_created ON audit_events (created_at);

-- 'head': the last event appended (seq 0 and hash '' before the first). 'anchor': the last
-- event removed by retention, where verification starts (seq 0 and '' while nothing was).
CREATE TABLE audit_chain (
    name TEXT PRIMARY KEY,
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_chain (name, seq, hash) VALUES ('head', 0, ''), ('anchor', 0, '');

-- +goose Down
DROP TABLE audit_chain;
DROP TABLE audit_events;
