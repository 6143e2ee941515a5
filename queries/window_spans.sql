-- window_spans: every span of the traces whose root started in a window (and, if given, that
-- have a span of a name), for analyses over many traces (critical-path shares, advise):
--   trace_id, span_id, parent_id, name, service, status VARCHAR, start_ts TIMESTAMP (UTC),
--   duration_ms DOUBLE; by trace (newest first), then start.
-- Parameters:
--   $since, $until TIMESTAMP (UTC), each NULL for "any": traces that started in [since, until)
--   $name VARCHAR, NULL for "any": only traces with a span of this name
--   $limit BIGINT: at most this many traces, the newest
WITH chosen AS (
    SELECT trace_id, start_ts AS trace_start
    FROM traces
    WHERE ($since IS NULL OR start_ts >= $since)
        AND ($until IS NULL OR start_ts < $until)
        AND ($name IS NULL OR list_contains(span_names, $name))
    ORDER BY start_ts DESC, trace_id
    LIMIT $limit
)
SELECT s.trace_id, s.span_id, s.parent_id, s.name, s.service, s.status, s.start_ts, s.duration_ms
FROM spans AS s
JOIN chosen AS c USING (trace_id)
ORDER BY c.trace_start DESC, s.trace_id, s.start_ts, s.span_id;
