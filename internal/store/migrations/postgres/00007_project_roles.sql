-- +goose Up
-- Custom project roles (internal/authz): memberships hold a role by slug, a built-in one
-- (admin, member, viewer, no-access) or one of these. permissions is the role's rules as JSON
-- (subject, actions, inverted, environment and secret-path conditions). Every change bumps
-- projects.revision through coffer_bump (00002), which also notifies the other nodes, so that
-- no node keeps serving a grant resolved from the role's old rules.
CREATE TABLE project_roles (
    id          TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    slug        TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    permissions TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (project_id, slug)
);
CREATE TRIGGER project_roles_bump AFTER INSERT OR UPDATE OR DELETE ON project_roles
    FOR EACH ROW EXECUTE FUNCTION coffer_bump('project');

-- +goose Down
DROP TRIGGER project_roles_bump ON project_roles;
DROP TABLE project_roles;
