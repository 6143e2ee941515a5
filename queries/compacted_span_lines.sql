-- compacted_span_lines: the span start and end lines of the compacted files that have no span
-- file beside them (written before span files existed, or by a compaction that did not make
-- one), typed as in jsonl_span_lines.sql, with kind VARCHAR and attributes JSON (the line's
-- user fields). The span lines of compacted files with a span file are in its rows instead.
-- Parameters: none; the files come from the variable logtrace_parquet_bare (a list).
CREATE OR REPLACE VIEW compacted_span_lines AS
SELECT
    ts, trace_id, span_id, span, name, parent_id, duration_ms, status, error_type,
    error_message, exception, service, pid,
    parse_dirpath(filename) || '/' || source AS filename,
    attributes ->> 'kind' AS kind,
    coalesce(attributes, '{}') AS attributes
FROM read_parquet(getvariable('logtrace_parquet_bare'), filename = true)
WHERE list_contains(['start', 'end'], span);
