-- +goose Up
-- Project key rotation (internal/projects/keys.go). projects.key_term is the term of the data
-- key every new ciphertext of the project is sealed with. A write transaction reads it under a
-- row lock that a rotation's lock excludes, so once a rotation has committed no transaction
-- seals with an older term: the re-seal job then moves every stored ciphertext to the new term,
-- and only after none is left does it retire the older keys (retired_at set, wrapped emptied:
-- the key is destroyed, its row kept as history).
ALTER TABLE projects ADD COLUMN key_term INTEGER NOT NULL DEFAULT 1;
UPDATE projects SET key_term = COALESCE((SELECT max(k.term) FROM project_keys k WHERE k.project_id = projects.id), 1);
ALTER TABLE project_keys ADD COLUMN retired_at BIGINT;

-- +goose Down
ALTER TABLE project_keys DROP COLUMN retired_at;
ALTER TABLE projects DROP COLUMN key_term;
