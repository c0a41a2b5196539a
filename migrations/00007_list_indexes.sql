-- +goose Up
-- Lists whose cost grows with the page, not the fleet (issue 12). Every sort a list offers
-- has an index whose order is the sort's, ending with id so ties are stable; descending
-- sorts read the same index backwards (the whole key reversed, id included). The name
-- sorts use the existing unique (lower(name)) indexes: names cannot tie.

-- pg_trgm serves the name search (a case-insensitive substring, ILIKE '%q%') from an index.
-- It is a trusted extension (PostgreSQL 13+): a role with CREATE on the database may
-- create it; otherwise a superuser runs this statement once before migrating.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- One home for what a pipeline looks like when read: the pipeline with its source's and
-- destination's names and its runtime metadata. The single read and the list both select
-- from it.
CREATE VIEW pipeline_view AS
SELECT p.id, p.name, p.status, p.created_at, p.updated_at,
       p.source_id, s.name AS source_name,
       p.destination_id, d.name AS destination_name,
       m.status AS runtime_status, m.last_error, m.last_error_detail, m.last_error_at, m.last_start_at,
       m.preflight_warning
FROM pipelines p
JOIN sources s ON s.id = p.source_id
JOIN destinations d ON d.id = p.destination_id
JOIN pipeline_metadata m ON m.pipeline_id = p.id;

CREATE INDEX pipelines_created_at_id_idx ON pipelines (created_at, id);
CREATE INDEX pipelines_name_trgm_idx ON pipelines USING gin (name gin_trgm_ops);
-- The status sort puts errors first: the expression must be the one catalog.statusRank
-- writes, character for character, for the planner to match it. It also serves the
-- runtime-status filter (which the catalog writes as a rank).
CREATE INDEX pipeline_metadata_status_rank_idx ON pipeline_metadata
    ((CASE status WHEN 'ERROR' THEN 0 WHEN 'RUNNING' THEN 1 ELSE 2 END), pipeline_id);

CREATE INDEX sources_created_at_id_idx ON sources (created_at, id);
CREATE INDEX sources_host_id_idx ON sources (lower(pg_host), id);
CREATE INDEX sources_name_trgm_idx ON sources USING gin (name gin_trgm_ops);

CREATE INDEX destinations_created_at_id_idx ON destinations (created_at, id);
CREATE INDEX destinations_account_id_idx ON destinations (lower(snowflake_account), id);
CREATE INDEX destinations_name_trgm_idx ON destinations USING gin (name gin_trgm_ops);

-- The audit log is read newest first, filtered by entity, actor or action: each filter's
-- index ends with id, so a filtered page walks it backwards and stops after one page.
CREATE INDEX audit_events_entity_id_idx ON audit_events (entity_kind, entity_id, id);
CREATE INDEX audit_events_actor_user_id_id_idx ON audit_events (actor_user_id, id);
CREATE INDEX audit_events_actor_email_id_idx ON audit_events (lower(actor_email), id);
CREATE INDEX audit_events_action_id_idx ON audit_events (action, id);
DROP INDEX audit_events_entity_idx;
DROP INDEX audit_events_actor_user_id_idx;

-- +goose Down
CREATE INDEX audit_events_actor_user_id_idx ON audit_events (actor_user_id);
CREATE INDEX audit_events_entity_idx ON audit_events (entity_kind, entity_id);
DROP INDEX audit_events_action_id_idx;
DROP INDEX audit_events_actor_email_id_idx;
DROP INDEX audit_events_actor_user_id_id_idx;
DROP INDEX audit_events_entity_id_idx;
DROP INDEX destinations_name_trgm_idx;
DROP INDEX destinations_account_id_idx;
DROP INDEX destinations_created_at_id_idx;
DROP INDEX sources_name_trgm_idx;
DROP INDEX sources_host_id_idx;
DROP INDEX sources_created_at_id_idx;
DROP INDEX pipeline_metadata_status_rank_idx;
DROP INDEX pipelines_name_trgm_idx;
DROP INDEX pipelines_created_at_id_idx;
DROP VIEW pipeline_view;
-- pg_trgm stays: other objects may have come to depend on it.
