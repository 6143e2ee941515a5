-- copied_span_lines: the view `jsonl_span_lines` (same columns: see jsonl_span_lines.sql), made
-- from JSONL lines already read into a relation `jsonl_lines` instead of from the files. Used
-- for one trace, whose few lines Reader.trace copies out first (trace_lines.sql).
-- Parameters: none. Needs a relation `jsonl_lines` (filename VARCHAR, json JSON).
CREATE OR REPLACE VIEW jsonl_span_lines AS
SELECT
    try_cast(f.ts AS TIMESTAMP) AS ts,
    f.trace_id,
    f.span_id,
    f.span,
    f.name,
    f.parent_id,
    -- NaN, infinities and values past 1e12 ms (31 years) are no duration: NULL
    CASE WHEN abs(try_cast(f.duration_ms AS DOUBLE)) <= 1e12 THEN try_cast(f.duration_ms AS DOUBLE) END AS duration_ms,
    f.status,
    f.error_type,
    f.error_message,
    f.exception,
    f.service,
    try_cast(f.pid AS BIGINT) AS pid,
    filename,
    f.kind
FROM (
    SELECT
        -- One parse per line for all its fields (->> would parse once per field).
        json_transform(
            json,
            '{"ts": "VARCHAR", "trace_id": "VARCHAR", "span_id": "VARCHAR", "span": "VARCHAR",
              "name": "VARCHAR", "parent_id": "VARCHAR", "duration_ms": "VARCHAR",
              "status": "VARCHAR", "error_type": "VARCHAR", "error_message": "VARCHAR",
              "exception": "VARCHAR", "service": "VARCHAR", "pid": "VARCHAR",
              "kind": "VARCHAR"}'
        ) AS f,
        filename
    FROM jsonl_lines
    WHERE json IS NOT NULL
)
WHERE list_contains(['start', 'end'], f.span);
