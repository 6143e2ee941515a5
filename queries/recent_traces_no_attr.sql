-- recent_traces_no_attr: recent_traces.sql without its attribute filter, for when none is
-- given: the same columns and rows as recent_traces with $attr_key NULL. DuckDB plans the
-- attribute filter's subquery (a scan of every whole line) even when $attr_key is NULL;
-- this file leaves it out, so `logtrace ls` without --attr reads only span fields.
-- Parameters (each NULL for "any"):
--   $since, $until      TIMESTAMP (UTC): traces active at some time in [since, until)
--   $service            VARCHAR: one of the trace's services
--   $name               VARCHAR: the trace has a span of this name
--   $status             VARCHAR: 'ok', 'error' or 'unfinished'
--   $min_duration_ms    DOUBLE: at least this long
--   $limit              BIGINT: at most this many rows
-- Two ways to the same rows, of which DuckDB plans one (the file lists are constants):
-- - every file read is Parquet (compacted files with span files): in two steps. The traces are
--   chosen from the columns of `traces` that the filters and the order need (DuckDB computes
--   only those aggregates: a trace's times and counts, its services or span names only when
--   filtered on), then only the chosen ones get their other columns (root span, lists of
--   services and names), read again by trace id, which prunes the span files' row groups.
-- - JSONL files, or compacted files without span files: one pass over `traces` (a second
--   read would parse their lines twice).
SELECT *
FROM traces
-- Only Parquet: no JSONL file, no compacted file without its span file.
WHERE coalesce(len(getvariable('logtrace_files')), 0) = 0
    AND coalesce(len(getvariable('logtrace_parquet_bare')), 0) = 0
    AND trace_id IN (
        SELECT trace_id
        FROM traces
        WHERE ($since IS NULL OR end_ts >= $since)
            AND ($until IS NULL OR start_ts < $until)
            AND ($service IS NULL OR list_contains(services, $service))
            AND ($status IS NULL OR status = $status)
            AND ($min_duration_ms IS NULL OR duration_ms >= $min_duration_ms)
            AND ($name IS NULL OR list_contains(span_names, $name))
        ORDER BY start_ts DESC, trace_id
        LIMIT $limit
    )
UNION ALL
(
    SELECT *
    FROM traces
    WHERE (
        coalesce(len(getvariable('logtrace_files')), 0) > 0
        OR coalesce(len(getvariable('logtrace_parquet_bare')), 0) > 0
    )
        AND ($since IS NULL OR end_ts >= $since)
        AND ($until IS NULL OR start_ts < $until)
        AND ($service IS NULL OR list_contains(services, $service))
        AND ($status IS NULL OR status = $status)
        AND ($min_duration_ms IS NULL OR duration_ms >= $min_duration_ms)
        AND ($name IS NULL OR list_contains(span_names, $name))
    ORDER BY start_ts DESC, trace_id
    LIMIT $limit
)
ORDER BY start_ts DESC, trace_id;
