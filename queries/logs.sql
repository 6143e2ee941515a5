-- logs: the log lines (and span events) of the files, each with the span it belongs to.
--   ts TIMESTAMP (UTC), level, message (the `event` field), logger, service VARCHAR, pid BIGINT,
--   trace_id, span_id VARCHAR (NULL outside any span), span_name VARCHAR (NULL when the span's
--   lines are not in the files), is_span_event BOOLEAN (written by span.event()),
--   error_type, error_message, exception VARCHAR, fields JSON (the whole line), filename VARCHAR
-- JSON lines without a valid `ts` (from other programs) are left out.
-- Parameters: none. Needs the views `events` and `spans`.
CREATE OR REPLACE VIEW logs AS
SELECT
    e.ts,
    e.level,
    e.event AS message,
    e.logger,
    e.service,
    e.pid,
    e.trace_id,
    e.span_id,
    s.name AS span_name,
    coalesce(e.span = 'event', false) AS is_span_event,
    e.error_type,
    e.error_message,
    e.exception,
    e.fields,
    e.filename
FROM events AS e
LEFT JOIN spans AS s ON s.trace_id = e.trace_id AND s.span_id = e.span_id
WHERE (e.span IS NULL OR e.span = 'event') AND e.ts IS NOT NULL;
