-- jsonl_span_lines: the span start and end lines of the JSONL files, as typed columns:
--   ts TIMESTAMP (UTC), trace_id, span_id, span ('start' | 'end'), name, parent_id VARCHAR,
--   duration_ms DOUBLE, status, error_type, error_message, exception, service VARCHAR,
--   pid BIGINT, filename VARCHAR, kind VARCHAR (NULL: internal)
-- DuckDB's JSON reader extracts only the declared keys, and only those a query uses, in one
-- pass: several times faster than extracting them from whole lines. A value of the wrong type is
-- NULL (or its JSON text), never an error; lines that are not JSON objects are skipped.
-- Parameters: none; the files come from the variable logtrace_files (see jsonl_lines.sql).
CREATE OR REPLACE VIEW jsonl_span_lines AS
SELECT
    try_cast(ts AS TIMESTAMP) AS ts,
    trace_id,
    span_id,
    span,
    name,
    parent_id,
    -- NaN, infinities and values past 1e12 ms (31 years) are no duration: NULL
    CASE WHEN abs(try_cast(duration_ms AS DOUBLE)) <= 1e12 THEN try_cast(duration_ms AS DOUBLE) END AS duration_ms,
    status,
    error_type,
    error_message,
    exception,
    service,
    try_cast(pid AS BIGINT) AS pid,
    filename,
    kind
FROM read_json(
    getvariable('logtrace_files'),
    format = 'newline_delimited',
    ignore_errors = true,
    -- Foreign lines up to 64 MiB are read (and judged); DuckDB's default stops at 16 MiB.
    maximum_object_size = 67108864,
    filename = true,
    auto_detect = false,
    columns = {
        ts: 'VARCHAR', trace_id: 'VARCHAR', span_id: 'VARCHAR', span: 'VARCHAR',
        name: 'VARCHAR', parent_id: 'VARCHAR', duration_ms: 'VARCHAR', status: 'VARCHAR',
        error_type: 'VARCHAR', error_message: 'VARCHAR', exception: 'VARCHAR',
        service: 'VARCHAR', pid: 'VARCHAR', kind: 'VARCHAR'
    }
)
-- Not `IN ('start', 'end')`: DuckDB rewrites that as two tests.
WHERE list_contains(['start', 'end'], span);
