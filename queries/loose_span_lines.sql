-- loose_span_lines: the span lines not yet joined into a whole span row: those of the JSONL
-- files, of compacted files without a span file, and the fragments of span files (a span whose
-- start and end lines were compacted in different batches, or whose end is still in a live
-- file) written back as the start or end line they stand for. Same columns as
-- jsonl_span_lines.sql. spans.sql joins these on (trace_id, span_id), as it joined every line
-- before span files existed: the cost grows with the spans not compacted, not with history.
-- Parameters: none. Needs the views `jsonl_span_lines`, `compacted_span_lines`, `span_rows`.
CREATE OR REPLACE VIEW loose_span_lines AS
SELECT * FROM jsonl_span_lines
UNION ALL
SELECT
    ts, trace_id, span_id, span, name, parent_id, duration_ms, status, error_type,
    error_message, exception, service, pid, filename, kind
FROM compacted_span_lines
UNION ALL
SELECT
    start_ts AS ts, trace_id, span_id, 'start' AS span, name, parent_id,
    CAST(NULL AS DOUBLE) AS duration_ms, CAST(NULL AS VARCHAR) AS status,
    CAST(NULL AS VARCHAR) AS error_type, CAST(NULL AS VARCHAR) AS error_message,
    CAST(NULL AS VARCHAR) AS exception, service, pid, filename, kind
FROM span_rows
WHERE has_start AND NOT has_end
UNION ALL
SELECT
    end_ts AS ts, trace_id, span_id, 'end' AS span, name, parent_id, duration_ms,
    CASE WHEN status = 'error' THEN 'error' ELSE 'ok' END AS status, error_type,
    error_message, exception, service, pid, filename, kind
FROM span_rows
WHERE has_end AND NOT has_start;
