-- +goose Up
-- One revision for the whole database, bumped with every project or organization revision
-- (see 00002). A node reads it once per round of requests (internal/cache): when it has not
-- moved since an entry was confirmed, nothing that entry depends on changed, on any node. It
-- replaces change notifications, which reach other nodes a moment after the commit: a request
-- that starts after a write committed always sees it.
CREATE TABLE coffer_revision (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    revision BIGINT NOT NULL
);
INSERT INTO coffer_revision (id, revision) VALUES (1, 0);

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION coffer_revision_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.revision = OLD.revision THEN
        NEW.revision := OLD.revision + 1;
    END IF;
    UPDATE coffer_revision SET revision = revision + 1 WHERE id = 1;
    RETURN NEW;
END $$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION coffer_notify_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE coffer_revision SET revision = revision + 1 WHERE id = 1;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION coffer_revision_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.revision = OLD.revision THEN
        NEW.revision := OLD.revision + 1;
    END IF;
    PERFORM pg_notify('coffer_changes', '');
    RETURN NEW;
END $$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION coffer_notify_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('coffer_changes', '');
    RETURN NULL;
END $$;
-- +goose StatementEnd
DROP TABLE coffer_revision;
