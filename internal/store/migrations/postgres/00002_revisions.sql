-- +goose Up
-- Revisions for exact cache invalidation (internal/cache). projects.revision changes with every
-- write that can change what a read of the project returns (its environments, folders, secrets,
-- tags, imports, keys and memberships); organizations.revision with every write that can change
-- who may do what in the organization (its memberships, identities and their universal-auth
-- settings, access-token revocations and renewals). A node that cached something about a project
-- compares these two numbers to know, in one indexed query, whether its copy is still exact.
-- Every bump also sends a notification on channel coffer_changes (delivered at commit, to every
-- node listening): nodes that hear it revalidate what they cached before serving it again.
ALTER TABLE projects ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
ALTER TABLE organizations ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;

-- +goose StatementBegin
CREATE FUNCTION coffer_revision_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.revision = OLD.revision THEN
        NEW.revision := OLD.revision + 1;
    END IF;
    PERFORM pg_notify('coffer_changes', '');
    RETURN NEW;
END $$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION coffer_notify_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('coffer_changes', '');
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER projects_revision BEFORE UPDATE ON projects
    FOR EACH ROW EXECUTE FUNCTION coffer_revision_on_update();
CREATE TRIGGER organizations_revision BEFORE UPDATE ON organizations
    FOR EACH ROW EXECUTE FUNCTION coffer_revision_on_update();
CREATE TRIGGER projects_deleted AFTER DELETE ON projects
    FOR EACH STATEMENT EXECUTE FUNCTION coffer_notify_changes();
CREATE TRIGGER organizations_deleted AFTER DELETE ON organizations
    FOR EACH STATEMENT EXECUTE FUNCTION coffer_notify_changes();

-- coffer_bump(kind): TG_ARGV[0] names how the changed row leads to its project or organization.
-- +goose StatementBegin
CREATE FUNCTION coffer_bump() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r RECORD;
BEGIN
    IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
    CASE TG_ARGV[0]
    WHEN 'project' THEN
        UPDATE projects SET revision = revision + 1 WHERE id = r.project_id;
    WHEN 'environment' THEN
        UPDATE projects SET revision = revision + 1
         WHERE id = (SELECT project_id FROM environments WHERE id = r.environment_id);
    WHEN 'folder' THEN
        UPDATE projects SET revision = revision + 1
         WHERE id = (SELECT e.project_id FROM folders f JOIN environments e ON e.id = f.environment_id WHERE f.id = r.folder_id);
    WHEN 'secret' THEN
        UPDATE projects SET revision = revision + 1
         WHERE id = (SELECT project_id FROM secrets WHERE id = r.secret_id);
    WHEN 'org' THEN
        UPDATE organizations SET revision = revision + 1 WHERE id = r.org_id;
    WHEN 'identity' THEN
        UPDATE organizations SET revision = revision + 1
         WHERE id = (SELECT org_id FROM identities WHERE id = r.identity_id);
    END CASE;
    IF TG_OP = 'UPDATE' AND TG_ARGV[0] = 'project' THEN
        IF OLD.project_id <> NEW.project_id THEN
            UPDATE projects SET revision = revision + 1 WHERE id = OLD.project_id;
        END IF;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER environments_bump AFTER INSERT OR UPDATE OR DELETE ON environments
    FOR EACH ROW EXECUTE FUNCTION coffer_bump('project');
CREATE TRIGGER project_memberships_bump AFTER INSERT OR UPDATE OR DELETE ON project_memberships
    FOR EACH ROW EXECUTE FUNCTION coffer_bump('project');
CREATE TRIGGER project_keys_bump AFTER INSERT OR UPDATE OR DELETE ON project_keys
    FOR EACH ROW EXECUTE FUNCTION coffer_bump('project');
CREATE TRIGGER tags_bump AFTER INSERT OR UPDATE OR DELETE ON tags
    FOR EACH ROW EXECUTE FUNCTION coffer_bump('project');
CREATE TRIGGER secrets_bump AFTER INSERT OR UPDATE OR DELETE ON secrets
    FOR EACH ROW EXECUTE FUNCTION coffer_bump('project');
CREATE TRIGGER folders_bump AFTER INSERT OR UPDATE OR DELETE ON folders
    FOR EACH ROW EXECUTE FUNCTION coffer_bump('environment');
CREATE TRIGGER secret_imports_bump AFTER INSERT OR UPDATE OR DELETE ON secret_imports
    FOR EACH ROW EXECUTE FUNCTION coffer_bump('folder');
CREATE TRIGGER secret_tags_bump AFTER INSERT OR UPDATE OR DELETE ON secret_tags
    FOR EACH ROW EXECUTE FUNCTION coffer_bump('secret');
CREATE TRIGGER org_memberships_bump AFTER INSERT OR UPDATE OR DELETE ON org_memberships
    FOR EACH ROW EXECUTE FUNCTION coffer_bump('org');
CREATE TRIGGER identities_bump AFTER INSERT OR UPDATE OR DELETE ON identities
    FOR EACH ROW EXECUTE FUNCTION coffer_bump('org');
CREATE TRIGGER identity_universal_auths_bump AFTER INSERT OR UPDATE OR DELETE ON identity_universal_auths
    FOR EACH ROW EXECUTE FUNCTION coffer_bump('identity');
-- Only what changes a token's validity: not its use counter, which a use increments.
CREATE TRIGGER access_tokens_bump AFTER UPDATE OF revoked, renewed_at, ttl, max_ttl OR DELETE ON access_tokens
    FOR EACH ROW EXECUTE FUNCTION coffer_bump('org');

-- +goose Down
DROP TRIGGER access_tokens_bump ON access_tokens;
DROP TRIGGER identity_universal_auths_bump ON identity_universal_auths;
DROP TRIGGER identities_bump ON identities;
DROP TRIGGER org_memberships_bump ON org_memberships;
DROP TRIGGER secret_tags_bump ON secret_tags;
DROP TRIGGER secret_imports_bump ON secret_imports;
DROP TRIGGER folders_bump ON folders;
DROP TRIGGER secrets_bump ON secrets;
DROP TRIGGER tags_bump ON tags;
DROP TRIGGER project_keys_bump ON project_keys;
DROP TRIGGER project_memberships_bump ON project_memberships;
DROP TRIGGER environments_bump ON environments;
DROP FUNCTION coffer_bump();
DROP TRIGGER organizations_deleted ON organizations;
DROP TRIGGER projects_deleted ON projects;
DROP TRIGGER organizations_revision ON organizations;
DROP TRIGGER projects_revision ON projects;
DROP FUNCTION coffer_notify_changes();
DROP FUNCTION coffer_revision_on_update();
ALTER TABLE organizations DROP COLUMN revision;
ALTER TABLE projects DROP COLUMN revision;
