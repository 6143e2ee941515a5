-- error_traces: traces with at least one failed span, newest first: every column of `traces`,
-- then first_error_span, first_error_type, first_error_message, all three of the failed span
-- that started first (a NULL type stays NULL: it is not taken from another span).
-- Parameters: $since TIMESTAMP (UTC) or NULL: only traces that started then or later;
--   $limit BIGINT: at most this many rows.
WITH failed AS (
    SELECT
        trace_id,
        name AS first_error_span,
        error_type AS first_error_type,
        error_message AS first_error_message
    FROM spans
    WHERE status = 'error'
    QUALIFY row_number() OVER (PARTITION BY trace_id ORDER BY start_ts NULLS LAST, span_id) = 1
)
SELECT t.*, f.first_error_span, f.first_error_type, f.first_error_message
FROM traces AS t
JOIN failed AS f USING (trace_id)
WHERE $since IS NULL OR t.start_ts >= $since
ORDER BY t.start_ts DESC, t.trace_id
LIMIT $limit;
