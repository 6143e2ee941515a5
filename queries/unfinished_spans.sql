-- unfinished_spans: spans that started and never ended (still running, or their process died),
-- newest first: every column of `spans`, then age_ms DOUBLE (from start to $now).
-- Parameters: $now TIMESTAMP (UTC): the time ages are measured to; $limit BIGINT.
SELECT *, date_diff('microsecond', start_ts, $now) / 1000.0 AS age_ms
FROM spans
WHERE status = 'unfinished'
ORDER BY start_ts DESC, trace_id, span_id
LIMIT $limit;
