-- traces: one row per trace, from its spans.
--   trace_id VARCHAR, root_name VARCHAR (the root span's name; without a root, the earliest
--   span's), root_span_id VARCHAR, has_root BOOLEAN (a span without parent was seen),
--   services, span_names VARCHAR[] (distinct, sorted), start_ts, end_ts TIMESTAMP (UTC), duration_ms DOUBLE
--   (end_ts - start_ts), span_count, error_count, unfinished_count BIGINT,
--   status ('error' if any span failed, else 'unfinished' if any span is, else 'ok')
-- Parameters: none. Needs the view `spans` (spans.sql).
CREATE OR REPLACE VIEW traces AS
WITH per_trace AS (
    SELECT
        trace_id,
        coalesce(
            arg_min(name, (start_ts, span_id)) FILTER (WHERE parent_id IS NULL),
            arg_min(name, (start_ts, span_id))
        ) AS root_name,
        coalesce(
            arg_min(span_id, (start_ts, span_id)) FILTER (WHERE parent_id IS NULL),
            arg_min(span_id, (start_ts, span_id))
        ) AS root_span_id,
        bool_or(parent_id IS NULL) AS has_root,
        list_sort(list_distinct(list(service))) AS services,
        list_sort(list_distinct(list(name))) AS span_names,
        min(start_ts) AS start_ts,
        max(coalesce(end_ts, start_ts)) AS end_ts,
        count(*) AS span_count,
        count(*) FILTER (WHERE status = 'error') AS error_count,
        count(*) FILTER (WHERE status = 'unfinished') AS unfinished_count
    FROM spans
    GROUP BY trace_id
)
SELECT
    trace_id,
    root_name,
    root_span_id,
    has_root,
    services,
    span_names,
    start_ts,
    end_ts,
    date_diff('microsecond', start_ts, end_ts) / 1000.0 AS duration_ms,
    span_count,
    error_count,
    unfinished_count,
    CASE
        WHEN error_count > 0 THEN 'error'
        WHEN unfinished_count > 0 THEN 'unfinished'
        ELSE 'ok'
    END AS status
FROM per_trace;
