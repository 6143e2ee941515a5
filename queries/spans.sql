-- spans: one row per span, its start and end lines joined on (trace_id, span_id).
--   trace_id, span_id, parent_id (NULL for a root), name (the end line's: a server span may be
--   renamed by its route at its end; else the start line's), kind ('server', 'client',
--   'producer', 'consumer', 'internal'), service, host VARCHAR (from the file name), pid BIGINT,
--   start_ts, end_ts TIMESTAMP (UTC; end_ts NULL while unfinished), duration_ms DOUBLE (from the
--   end line: a monotonic clock), status ('ok' | 'error' | 'unfinished'), error_type,
--   error_message, exception VARCHAR, attributes JSON (user fields of the start line, then of
--   the end line, set by span.set()), has_start, has_end BOOLEAN, filename VARCHAR
-- A start with no end is 'unfinished' (in flight, or its process died). An end whose start was
-- rotated away still appears: the end line carries name and parent_id, and its start is
-- end_ts - duration_ms.
-- Whole spans of compacted history come from the span files as they are (span_rows.sql); the
-- rest (live and rotated JSONL files, fragments of spans split across batches, compacted files
-- without span files) is joined here from loose_span_lines.
-- Parameters: none. Needs the views `span_rows`, `loose_span_lines` and `span_attributes`.
-- The typed columns come from loose_span_lines alone; attributes are joined from
-- span_attributes, a join DuckDB drops when a query does not use them.
CREATE OR REPLACE VIEW spans AS
WITH joined AS (
    SELECT
        trace_id,
        span_id,
        coalesce(
            any_value(parent_id) FILTER (WHERE span = 'start'),
            any_value(parent_id) FILTER (WHERE span = 'end')
        ) AS parent_id,
        coalesce(any_value(name) FILTER (WHERE span = 'end'), any_value(name)) AS name,
        coalesce(any_value(kind) FILTER (WHERE span = 'start'), any_value(kind)) AS kind,
        coalesce(any_value(service) FILTER (WHERE span = 'start'), any_value(service)) AS service,
        coalesce(any_value(pid) FILTER (WHERE span = 'start'), any_value(pid)) AS pid,
        min(ts) FILTER (WHERE span = 'start') AS start_line_ts,
        max(ts) FILTER (WHERE span = 'end') AS end_ts,
        max(duration_ms) FILTER (WHERE span = 'end') AS duration_ms,
        any_value(status) FILTER (WHERE span = 'end') AS end_status,
        any_value(error_type) FILTER (WHERE span = 'end') AS error_type,
        any_value(error_message) FILTER (WHERE span = 'end') AS error_message,
        any_value(exception) FILTER (WHERE span = 'end') AS exception,
        count(*) FILTER (WHERE span = 'start') > 0 AS has_start,
        count(*) FILTER (WHERE span = 'end') > 0 AS has_end,
        min(filename) AS filename
    FROM loose_span_lines
    GROUP BY trace_id, span_id
    -- On aggregates, not the keys: a test of the keys would be pushed down to every line.
    HAVING count(trace_id) > 0 AND count(span_id) > 0
)
SELECT
    trace_id, span_id, parent_id, name, kind, service, host, pid, start_ts, end_ts,
    duration_ms, status, error_type, error_message, exception, attributes, has_start, has_end,
    filename
FROM span_rows
WHERE has_start AND has_end
UNION ALL
SELECT
    j.trace_id,
    j.span_id,
    j.parent_id,
    j.name,
    coalesce(j.kind, 'internal') AS kind,
    j.service,
    CASE WHEN regexp_full_match(parse_filename(j.filename), '[A-Za-z0-9.-]+_[A-Za-z0-9.-]+_[0-9]+_.*')
        THEN split_part(parse_filename(j.filename), '_', 2) END AS host,
    j.pid,
    coalesce(
        j.start_line_ts,
        j.end_ts - to_microseconds(CAST(round(coalesce(j.duration_ms, 0) * 1000) AS BIGINT))
    ) AS start_ts,
    j.end_ts,
    j.duration_ms,
    CASE
        WHEN NOT j.has_end THEN 'unfinished'
        WHEN j.end_status = 'error' OR j.error_type IS NOT NULL THEN 'error'
        ELSE 'ok'
    END AS status,
    j.error_type,
    j.error_message,
    j.exception,
    coalesce(a.attributes, '{}') AS attributes,
    j.has_start,
    j.has_end,
    j.filename
FROM joined AS j
LEFT JOIN span_attributes AS a ON a.trace_id = j.trace_id AND a.span_id = j.span_id;
