-- error_traces (Spark SQL): traces with at least one failed span, newest first, as logtrace's
-- error_traces.sql: trace_id, root_name, start_ts, end_ts, span_count, error_count,
-- first_error_span, first_error_type (of the failed span that started first).
-- Needs the view `spans` (spans.sql). Parameters: none.
WITH per_trace AS (
    SELECT
        trace_id,
        coalesce(
            min_by(name, struct(start_ts, span_id)) FILTER (WHERE parent_id IS NULL),
            min_by(name, struct(start_ts, span_id))
        ) AS root_name,
        min(start_ts) AS start_ts,
        max(coalesce(end_ts, start_ts)) AS end_ts,
        count(*) AS span_count,
        count_if(status = 'error') AS error_count,
        min_by(name, struct(start_ts, span_id)) FILTER (WHERE status = 'error')
            AS first_error_span,
        min_by(error_type, struct(start_ts, span_id)) FILTER (WHERE status = 'error')
            AS first_error_type
    FROM spans
    GROUP BY trace_id
)
SELECT *
FROM per_trace
WHERE error_count > 0
ORDER BY start_ts DESC, trace_id;
