-- +goose Up
-- Custom project roles (internal/authz): memberships hold a role by slug, a built-in one
-- (admin, member, viewer, no-access) or one of these. permissions is the role's rules as JSON
-- (subject, actions, inverted, environment and secret-path conditions). Every change bumps
-- projects.revision, like the tables of 00002, so that no node keeps serving a grant resolved
-- from the role's old rules.
CREATE TABLE project_roles (
    id          TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    slug        TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    permissions TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (project_id, slug)
);
-- +goose StatementBegin
CREATE TRIGGER project_roles_bump_insert AFTER INSERT ON project_roles BEGIN
    UPDATE projects SET revision = revision + 1 WHERE id = NEW.project_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER project_roles_bump_update AFTER UPDATE ON project_roles BEGIN
    UPDATE projects SET revision = revision + 1 WHERE id = NEW.project_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER project_roles_bump_delete AFTER DELETE ON project_roles BEGIN
    UPDATE projects SET revision = revision + 1 WHERE id = OLD.project_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER project_roles_bump_move AFTER UPDATE ON project_roles WHEN OLD.project_id <> NEW.project_id BEGIN
    UPDATE projects SET revision = revision + 1 WHERE id = OLD.project_id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER project_roles_bump_move;
DROP TRIGGER project_roles_bump_delete;
DROP TRIGGER project_roles_bump_update;
DROP TRIGGER project_roles_bump_insert;
DROP TABLE project_roles;
