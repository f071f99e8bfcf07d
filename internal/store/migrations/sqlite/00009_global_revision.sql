-- +goose Up
-- Nothing: SQLite is served by one process, whose cache learns of every commit directly. (On
-- PostgreSQL this migration adds the database-wide revision that nodes poll; see there.)
SELECT 1;

-- +goose Down
SELECT 1;
