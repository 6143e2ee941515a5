-- whole_spans: the view `spans` (spans.sql) when there is nothing to join: every file read is a
-- compacted file with its span file, and no span row is a fragment (split_spans.sql). spans.sql
-- then gives the span rows as they are, and so does this file: the same columns and rows. What
-- it saves is planning: binding spans.sql binds six views (the span files' three times), and for
-- a question over one batch that took longer than answering it.
-- Parameters: none. Needs the view `span_rows`.
CREATE OR REPLACE VIEW spans AS
SELECT
    trace_id, span_id, parent_id, name, kind, service, host, pid, start_ts, end_ts,
    duration_ms, status, error_type, error_message, exception, attributes, has_start, has_end,
    filename
FROM span_rows
WHERE has_start AND has_end;
