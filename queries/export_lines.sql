-- export_lines: the lines to export (span lines, span events, log lines), one trace after
-- another: trace_id VARCHAR (NULL for a log line outside any trace, last), line VARCHAR (the
-- JSON line), filename VARCHAR (the file it came from: its name holds the host).
-- logtrace's file headers are left out.
-- Parameters: $trace_ids VARCHAR[] (the traces to export; NULL: every trace),
--   $untraced BOOLEAN (also the log lines outside any trace).
SELECT trace_id, CAST(fields AS VARCHAR) AS line, filename
FROM events
WHERE (
        trace_id IS NOT NULL
        AND ($trace_ids IS NULL OR trace_id IN (SELECT unnest($trace_ids)))
    )
    OR (
        $untraced
        AND trace_id IS NULL
        AND NOT (coalesce(logger, '') = 'logtrace' AND coalesce(event, '') = 'logtrace.file')
    )
ORDER BY trace_id NULLS LAST, ts;
