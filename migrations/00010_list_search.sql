-- +goose Up
-- A name search with many matches, listed by creation time, reads the head of the
-- created_at index and checks the name there (catalog's sampleSQL): with the name in
-- the index, that read is index-only, a few index pages for thousands of rows, instead
-- of a heap visit per row. The index replaces the one it extends (same key, same order).
CREATE INDEX pipelines_created_at_id_name_idx ON pipelines (created_at, id) INCLUDE (name);
DROP INDEX pipelines_created_at_id_idx;
CREATE INDEX sources_created_at_id_name_idx ON sources (created_at, id) INCLUDE (name);
DROP INDEX sources_created_at_id_idx;
CREATE INDEX destinations_created_at_id_name_idx ON destinations (created_at, id) INCLUDE (name);
DROP INDEX destinations_created_at_id_idx;

-- +goose Down
CREATE INDEX destinations_created_at_id_idx ON destinations (created_at, id);
DROP INDEX destinations_created_at_id_name_idx;
CREATE INDEX sources_created_at_id_idx ON sources (created_at, id);
DROP INDEX sources_created_at_id_name_idx;
CREATE INDEX pipelines_created_at_id_idx ON pipelines (created_at, id);
DROP INDEX pipelines_created_at_id_name_idx;
