-- trace (Spark SQL): one trace's spans in start order, as logtrace show lists them:
-- trace_id, span_id, parent_id, name, kind, service, host, pid, start_ts, end_ts, duration_ms,
-- status, error_type, error_message. Span files are sorted by trace id, so Spark skips the row
-- groups whose min/max trace id cannot hold it.
-- Needs the view `spans` (spans.sql). Parameters: :trace_id, the full 32-hex trace id.
SELECT
    trace_id, span_id, parent_id, name, kind, service, host, pid, start_ts, end_ts,
    duration_ms, status, error_type, error_message
FROM spans
WHERE trace_id = :trace_id
ORDER BY start_ts, span_id;
