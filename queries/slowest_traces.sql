-- slowest_traces: the longest traces, longest first: every column of `traces`.
-- Parameters: $since TIMESTAMP (UTC) or NULL: only traces that started then or later;
--   $limit BIGINT: at most this many rows.
SELECT *
FROM traces
WHERE $since IS NULL OR start_ts >= $since
ORDER BY duration_ms DESC, trace_id
LIMIT $limit;
