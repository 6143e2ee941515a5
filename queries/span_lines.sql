-- span_lines: the span start and end lines of all the files (JSONL and compacted), typed:
--   ts TIMESTAMP (UTC), trace_id, span_id, span ('start' | 'end'), name, parent_id VARCHAR,
--   duration_ms DOUBLE, status, error_type, error_message, exception, service VARCHAR,
--   pid BIGINT, filename VARCHAR, kind VARCHAR (NULL: internal)
-- Parameters: none. Needs the views `jsonl_span_lines` and `compacted`.
CREATE OR REPLACE VIEW span_lines AS
SELECT * FROM jsonl_span_lines
UNION ALL
SELECT
    ts, trace_id, span_id, span, name, parent_id, duration_ms, status, error_type,
    error_message, exception, service, pid, filename, attributes ->> 'kind' AS kind
FROM compacted
WHERE list_contains(['start', 'end'], span);
