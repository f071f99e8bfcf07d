-- +goose Up
-- Revisions for exact cache invalidation (internal/cache). projects.revision changes with every
-- write that can change what a read of the project returns (its environments, folders, secrets,
-- tags, imports, keys and memberships); organizations.revision with every write that can change
-- who may do what in the organization (its memberships, identities and their universal-auth
-- settings, access-token revocations and renewals). A node that cached something about a project
-- compares these two numbers to know, in one indexed query, whether its copy is still exact.
-- SQLite is served by one process, which also learns of its own commits directly.
ALTER TABLE projects ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
ALTER TABLE organizations ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
-- +goose StatementBegin
CREATE TRIGGER projects_revision AFTER UPDATE ON projects WHEN NEW.revision = OLD.revision BEGIN
    UPDATE projects SET revision = revision + 1 WHERE id = NEW.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER organizations_revision AFTER UPDATE ON organizations WHEN NEW.revision = OLD.revision BEGIN
    UPDATE organizations SET revision = revision + 1 WHERE id = NEW.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER environments_bump_insert AFTER INSERT ON environments BEGIN
    UPDATE projects SET revision = revision + 1 WHERE id = NEW.project_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER environments_bump_update AFTER UPDATE ON environments BEGIN
    UPDATE projects SET revision = revision + 1 WHERE id = NEW.project_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER environments_bump_delete AFTER DELETE ON environments BEGIN
    UPDATE projects SET revision = revision + 1 WHERE id = OLD.project_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER environments_bump_move AFTER UPDATE ON environments WHEN OLD.project_id <> NEW.project_id BEGIN
    UPDATE projects SET revision = revision + 1 WHERE id = OLD.project_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER project_memberships_bump_insert AFTER INSERT ON project_memberships BEGIN
    UPDATE projects SET revision = revision + 1 WHERE id = NEW.project_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER project_memberships_bump_update AFTER UPDATE ON project_memberships BEGIN
    UPDATE projects SET revision = revision + 1 WHERE id = NEW.project_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER project_memberships_bump_delete AFTER DELETE ON project_memberships BEGIN
    UPDATE projects SET revision = revision + 1 WHERE id = OLD.project_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER project_memberships_bump_move AFTER UPDATE ON project_memberships WHEN OLD.project_id <> NEW.project_id BEGIN
    UPDATE projects SET revision = revision + 1 WHERE id = OLD.project_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER project_keys_bump_insert AFTER INSERT ON project_keys BEGIN
    UPDATE projects SET revision = revision + 1 WHERE id = NEW.project_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER project_keys_bump_update AFTER UPDATE ON project_keys BEGIN
    UPDATE projects SET revision = revision + 1 WHERE id = NEW.project_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER project_keys_bump_delete AFTER DELETE ON project_keys BEGIN
    UPDATE projects SET revision = revision + 1 WHERE id = OLD.project_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER project_keys_bump_move AFTER UPDATE ON project_keys WHEN OLD.project_id <> NEW.project_id BEGIN
    UPDATE projects SET revision = revision + 1 WHERE id = OLD.project_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER tags_bump_insert AFTER INSERT ON tags BEGIN
    UPDATE projects SET revision = revision + 1 WHERE id = NEW.project_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER tags_bump_update AFTER UPDATE ON tags BEGIN
    UPDATE projects SET revision = revision + 1 WHERE id = NEW.project_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER tags_bump_delete AFTER DELETE ON tags BEGIN
    UPDATE projects SET revision = revision + 1 WHERE id = OLD.project_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER tags_bump_move AFTER UPDATE ON tags WHEN OLD.project_id <> NEW.project_id BEGIN
    UPDATE projects SET revision = revision + 1 WHERE id = OLD.project_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER secrets_bump_insert AFTER INSERT ON secrets BEGIN
    UPDATE projects SET revision = revision + 1 WHERE id = NEW.project_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER secrets_bump_update AFTER UPDATE ON secrets BEGIN
    UPDATE projects SET revision = revision + 1 WHERE id = NEW.project_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER secrets_bump_delete AFTER DELETE ON secrets BEGIN
    UPDATE projects SET revision = revision + 1 WHERE id = OLD.project_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER secrets_bump_move AFTER UPDATE ON secrets WHEN OLD.project_id <> NEW.project_id BEGIN
    UPDATE projects SET revision = revision + 1 WHERE id = OLD.project_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER folders_bump_insert AFTER INSERT ON folders BEGIN
    UPDATE projects SET revision = revision + 1 WHERE id = (SELECT project_id FROM environments WHERE id = NEW.environment_id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER folders_bump_update AFTER UPDATE ON folders BEGIN
    UPDATE projects SET revision = revision + 1 WHERE id = (SELECT project_id FROM environments WHERE id = NEW.environment_id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER folders_bump_delete AFTER DELETE ON folders BEGIN
    UPDATE projects SET revision = revision + 1 WHERE id = (SELECT project_id FROM environments WHERE id = OLD.environment_id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER secret_imports_bump_insert AFTER INSERT ON secret_imports BEGIN
    UPDATE projects SET revision = revision + 1 WHERE id = (SELECT e.project_id FROM folders f JOIN environments e ON e.id = f.environment_id WHERE f.id = NEW.folder_id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER secret_imports_bump_update AFTER UPDATE ON secret_imports BEGIN
    UPDATE projects SET revision = revision + 1 WHERE id = (SELECT e.project_id FROM folders f JOIN environments e ON e.id = f.environment_id WHERE f.id = NEW.folder_id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER secret_imports_bump_delete AFTER DELETE ON secret_imports BEGIN
    UPDATE projects SET revision = revision + 1 WHERE id = (SELECT e.project_id FROM folders f JOIN environments e ON e.id = f.environment_id WHERE f.id = OLD.folder_id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER secret_tags_bump_insert AFTER INSERT ON secret_tags BEGIN
    UPDATE projects SET revision = revision + 1 WHERE id = (SELECT project_id FROM secrets WHERE id = NEW.secret_id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER secret_tags_bump_update AFTER UPDATE ON secret_tags BEGIN
    UPDATE projects SET revision = revision + 1 WHERE id = (SELECT project_id FROM secrets WHERE id = NEW.secret_id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER secret_tags_bump_delete AFTER DELETE ON secret_tags BEGIN
    UPDATE projects SET revision = revision + 1 WHERE id = (SELECT project_id FROM secrets WHERE id = OLD.secret_id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER org_memberships_bump_insert AFTER INSERT ON org_memberships BEGIN
    UPDATE organizations SET revision = revision + 1 WHERE id = NEW.org_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER org_memberships_bump_update AFTER UPDATE ON org_memberships BEGIN
    UPDATE organizations SET revision = revision + 1 WHERE id = NEW.org_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER org_memberships_bump_delete AFTER DELETE ON org_memberships BEGIN
    UPDATE organizations SET revision = revision + 1 WHERE id = OLD.org_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER identities_bump_insert AFTER INSERT ON identities BEGIN
    UPDATE organizations SET revision = revision + 1 WHERE id = NEW.org_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER identities_bump_update AFTER UPDATE ON identities BEGIN
    UPDATE organizations SET revision = revision + 1 WHERE id = NEW.org_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER identities_bump_delete AFTER DELETE ON identities BEGIN
    UPDATE organizations SET revision = revision + 1 WHERE id = OLD.org_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER identity_universal_auths_bump_insert AFTER INSERT ON identity_universal_auths BEGIN
    UPDATE organizations SET revision = revision + 1 WHERE id = (SELECT org_id FROM identities WHERE id = NEW.identity_id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER identity_universal_auths_bump_update AFTER UPDATE ON identity_universal_auths BEGIN
    UPDATE organizations SET revision = revision + 1 WHERE id = (SELECT org_id FROM identities WHERE id = NEW.identity_id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER identity_universal_auths_bump_delete AFTER DELETE ON identity_universal_auths BEGIN
    UPDATE organizations SET revision = revision + 1 WHERE id = (SELECT org_id FROM identities WHERE id = OLD.identity_id);
END;
-- +goose StatementEnd
-- Only what changes a token's validity: not its use counter, which a use increments.
-- +goose StatementBegin
CREATE TRIGGER access_tokens_bump_update AFTER UPDATE OF revoked, renewed_at, ttl, max_ttl ON access_tokens BEGIN
    UPDATE organizations SET revision = revision + 1 WHERE id = NEW.org_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER access_tokens_bump_delete AFTER DELETE ON access_tokens BEGIN
    UPDATE organizations SET revision = revision + 1 WHERE id = OLD.org_id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER projects_revision;
DROP TRIGGER organizations_revision;
DROP TRIGGER access_tokens_bump_delete;
DROP TRIGGER access_tokens_bump_update;
DROP TRIGGER identity_universal_auths_bump_delete;
DROP TRIGGER identity_universal_auths_bump_update;
DROP TRIGGER identity_universal_auths_bump_insert;
DROP TRIGGER identities_bump_delete;
DROP TRIGGER identities_bump_update;
DROP TRIGGER identities_bump_insert;
DROP TRIGGER org_memberships_bump_delete;
DROP TRIGGER org_memberships_bump_update;
DROP TRIGGER org_memberships_bump_insert;
DROP TRIGGER secret_tags_bump_delete;
DROP TRIGGER secret_tags_bump_update;
DROP TRIGGER secret_tags_bump_insert;
DROP TRIGGER secret_imports_bump_delete;
DROP TRIGGER secret_imports_bump_update;
DROP TRIGGER secret_imports_bump_insert;
DROP TRIGGER folders_bump_delete;
DROP TRIGGER folders_bump_update;
DROP TRIGGER folders_bump_insert;
DROP TRIGGER secrets_bump_move;
DROP TRIGGER secrets_bump_delete;
DROP TRIGGER secrets_bump_update;
DROP TRIGGER secrets_bump_insert;
DROP TRIGGER tags_bump_move;
DROP TRIGGER tags_bump_delete;
DROP TRIGGER tags_bump_update;
DROP TRIGGER tags_bump_insert;
DROP TRIGGER project_keys_bump_move;
DROP TRIGGER project_keys_bump_delete;
DROP TRIGGER project_keys_bump_update;
DROP TRIGGER project_keys_bump_insert;
DROP TRIGGER project_memberships_bump_move;
DROP TRIGGER project_memberships_bump_delete;
DROP TRIGGER project_memberships_bump_update;
DROP TRIGGER project_memberships_bump_insert;
DROP TRIGGER environments_bump_move;
DROP TRIGGER environments_bump_delete;
DROP TRIGGER environments_bump_update;
DROP TRIGGER environments_bump_insert;
ALTER TABLE organizations DROP COLUMN revision;
ALTER TABLE projects DROP COLUMN revision;
