-- trace_logs: the log lines and span events of one trace, in time order: every column of `logs`.
-- Parameters: $trace_id, the full 32-hex trace id.
SELECT *
FROM logs
WHERE trace_id = $trace_id
ORDER BY ts, span_id, message;
