-- +goose Up
-- Text that is ordered or compared by prefix uses COLLATE "C" (byte order), as SQLite does, so
-- both engines list in the same order whatever the database's default collation (RDS: en_US).
-- Times are Unix milliseconds (BIGINT) so that one SQL text serves SQLite and PostgreSQL.
-- Secret values and comments are sealed by internal/keyring before they reach these tables.

-- Instance-wide settings and one-time markers (e.g. "bootstrapped"): the primary key makes a
-- marker's insert succeed exactly once, however many nodes race for it.
CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT COLLATE "C" NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE organizations (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    slug       TEXT COLLATE "C" NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE org_memberships (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    actor_kind TEXT NOT NULL,
    actor_id   TEXT NOT NULL,
    role       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (org_id, actor_kind, actor_id)
);
CREATE INDEX org_memberships_actor ON org_memberships (actor_kind, actor_id);

CREATE TABLE identities (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name       TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX identities_org ON identities (org_id);

CREATE TABLE identity_universal_auths (
    id                          TEXT PRIMARY KEY,
    identity_id                 TEXT NOT NULL UNIQUE REFERENCES identities (id) ON DELETE CASCADE,
    client_id                   TEXT NOT NULL UNIQUE,
    access_token_ttl            INTEGER NOT NULL,
    access_token_max_ttl        INTEGER NOT NULL,
    access_token_num_uses_limit INTEGER NOT NULL,
    client_secret_trusted_ips   TEXT NOT NULL,
    access_token_trusted_ips    TEXT NOT NULL,
    created_at                  BIGINT NOT NULL,
    updated_at                  BIGINT NOT NULL
);

CREATE TABLE identity_client_secrets (
    id             TEXT PRIMARY KEY,
    identity_id    TEXT NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    description    TEXT NOT NULL,
    prefix         TEXT NOT NULL,
    hash           BYTEA NOT NULL,
    ttl            INTEGER NOT NULL,
    num_uses_limit INTEGER NOT NULL,
    num_uses       INTEGER NOT NULL DEFAULT 0,
    revoked        BOOLEAN NOT NULL DEFAULT FALSE,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX identity_client_secrets_identity ON identity_client_secrets (identity_id);

CREATE TABLE access_tokens (
    id               TEXT PRIMARY KEY,
    actor_kind       TEXT NOT NULL,
    actor_id         TEXT NOT NULL,
    org_id           TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    auth_method      TEXT NOT NULL,
    client_secret_id TEXT NOT NULL DEFAULT '',
    ttl              INTEGER NOT NULL,
    max_ttl          INTEGER NOT NULL,
    num_uses_limit   INTEGER NOT NULL,
    num_uses         INTEGER NOT NULL DEFAULT 0,
    revoked          BOOLEAN NOT NULL DEFAULT FALSE,
    created_at       BIGINT NOT NULL,
    renewed_at       BIGINT NOT NULL
);
CREATE INDEX access_tokens_actor ON access_tokens (actor_kind, actor_id);

CREATE TABLE projects (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name       TEXT COLLATE "C" NOT NULL,
    slug       TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (org_id, slug)
);

CREATE TABLE project_keys (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    term       INTEGER NOT NULL,
    wrapped    BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, term)
);

CREATE TABLE project_memberships (
    id         TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    actor_kind TEXT NOT NULL,
    actor_id   TEXT NOT NULL,
    role       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (project_id, actor_kind, actor_id)
);
CREATE INDEX project_memberships_actor ON project_memberships (actor_kind, actor_id);

CREATE TABLE environments (
    id         TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    slug       TEXT COLLATE "C" NOT NULL,
    position   INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (project_id, slug)
);

-- path is the folder's full path ("/" for an environment's root, "/a/b" below it), kept in
-- step with renames, so that a path lookup and a subtree listing are one indexed query.
CREATE TABLE folders (
    id             TEXT PRIMARY KEY,
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    parent_id      TEXT REFERENCES folders (id) ON DELETE CASCADE,
    name           TEXT COLLATE "C" NOT NULL,
    path           TEXT COLLATE "C" NOT NULL,
    version        INTEGER NOT NULL DEFAULT 1,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    UNIQUE (environment_id, path)
);
CREATE INDEX folders_parent ON folders (parent_id);

CREATE TABLE secrets (
    id                   TEXT PRIMARY KEY,
    project_id           TEXT NOT NULL,
    environment_id       TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    folder_id            TEXT NOT NULL REFERENCES folders (id) ON DELETE CASCADE,
    name                 TEXT COLLATE "C" NOT NULL,
    type                 TEXT NOT NULL,
    owner_id             TEXT NOT NULL DEFAULT '',
    version              INTEGER NOT NULL,
    value                BYTEA NOT NULL,
    comment              BYTEA NOT NULL,
    reminder_note        TEXT NOT NULL DEFAULT '',
    reminder_repeat_days INTEGER NOT NULL DEFAULT 0,
    skip_multiline       BOOLEAN NOT NULL DEFAULT FALSE,
    metadata             TEXT NOT NULL DEFAULT '[]',
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    UNIQUE (folder_id, type, owner_id, name)
);

CREATE TABLE secret_versions (
    id             TEXT PRIMARY KEY,
    secret_id      TEXT NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
    version        INTEGER NOT NULL,
    name           TEXT COLLATE "C" NOT NULL,
    value          BYTEA NOT NULL,
    comment        BYTEA NOT NULL,
    skip_multiline BOOLEAN NOT NULL DEFAULT FALSE,
    actor_kind     TEXT NOT NULL,
    actor_id       TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    UNIQUE (secret_id, version)
);

CREATE TABLE tags (
    id         TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    slug       TEXT COLLATE "C" NOT NULL,
    name       TEXT NOT NULL,
    color      TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (project_id, slug)
);

CREATE TABLE secret_tags (
    secret_id TEXT NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
    tag_id    TEXT NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    PRIMARY KEY (secret_id, tag_id)
);
CREATE INDEX secret_tags_tag ON secret_tags (tag_id);

CREATE TABLE secret_imports (
    id            TEXT PRIMARY KEY,
    folder_id     TEXT NOT NULL REFERENCES folders (id) ON DELETE CASCADE,
    import_env_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    import_path   TEXT COLLATE "C" NOT NULL,
    position      INTEGER NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    UNIQUE (folder_id, import_env_id, import_path)
);

-- +goose Down
DROP TABLE secret_imports;
DROP TABLE secret_tags;
DROP TABLE tags;
DROP TABLE secret_versions;
DROP TABLE secrets;
DROP TABLE folders;
DROP TABLE environments;
DROP TABLE project_memberships;
DROP TABLE project_keys;
DROP TABLE projects;
DROP TABLE access_tokens;
DROP TABLE identity_client_secrets;
DROP TABLE identity_universal_auths;
DROP TABLE identities;
DROP TABLE org_memberships;
DROP TABLE organizations;
DROP TABLE users;
DROP TABLE settings;
