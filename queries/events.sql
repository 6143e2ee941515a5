-- events: one row per JSON line of the files, JSONL and compacted alike (lines that are not JSON
-- are skipped: see skipped_lines.sql). The documented fields are typed columns; a value of the
-- wrong type is NULL, never an error. Every field, documented or not, stays reachable through
-- `fields`: fields->>'user_id'. A JSON line from another program has NULL in the columns it
-- lacks (ts too).
--   ts TIMESTAMP (UTC), level, event, logger, service VARCHAR, pid BIGINT,
--   trace_id, span_id, trace_flags, span ('start'|'end'|'event'|NULL), name, parent_id VARCHAR,
--   duration_ms DOUBLE, status, error_type, error_message, exception VARCHAR,
--   fields JSON (the whole line), filename VARCHAR
-- Parameters: none. Needs the views `jsonl_lines` and `compacted`.
CREATE OR REPLACE VIEW events AS
SELECT
    try_cast(json ->> 'ts' AS TIMESTAMP) AS ts,
    json ->> 'level' AS level,
    json ->> 'event' AS event,
    json ->> 'logger' AS logger,
    json ->> 'service' AS service,
    try_cast(json ->> 'pid' AS BIGINT) AS pid,
    json ->> 'trace_id' AS trace_id,
    json ->> 'span_id' AS span_id,
    json ->> 'trace_flags' AS trace_flags,
    json ->> 'span' AS span,
    json ->> 'name' AS name,
    json ->> 'parent_id' AS parent_id,
    CASE WHEN abs(try_cast(json ->> 'duration_ms' AS DOUBLE)) <= 1e12 THEN try_cast(json ->> 'duration_ms' AS DOUBLE) END AS duration_ms,
    json ->> 'status' AS status,
    json ->> 'error_type' AS error_type,
    json ->> 'error_message' AS error_message,
    json ->> 'exception' AS exception,
    json AS fields,
    filename
FROM jsonl_lines
WHERE json IS NOT NULL
UNION ALL
SELECT
    ts, level, event, logger, service, pid, trace_id, span_id, trace_flags, span, name,
    parent_id, duration_ms, status, error_type, error_message, exception,
    json AS fields,
    filename
FROM compacted
WHERE readable;
