-- error_traces: traces with at least one failed span, newest first: every column of `traces`,
-- then first_error_span, first_error_type, first_error_message (the failed span that started
-- first) .
-- Parameters: $since TIMESTAMP (UTC) or NULL: only traces that started then or later;
--   $limit BIGINT: at most this many rows.
WITH failed AS (
    SELECT
        trace_id,
        arg_min(name, (start_ts, span_id)) AS first_error_span,
        arg_min(error_type, (start_ts, span_id)) AS first_error_type,
        arg_min(error_message, (start_ts, span_id)) AS first_error_message
    FROM spans
    WHERE status = 'error'
    GROUP BY trace_id
)
SELECT t.*, f.first_error_span, f.first_error_type, f.first_error_message
FROM traces AS t
JOIN failed AS f USING (trace_id)
WHERE $since IS NULL OR t.start_ts >= $since
ORDER BY t.start_ts DESC, t.trace_id
LIMIT $limit;
