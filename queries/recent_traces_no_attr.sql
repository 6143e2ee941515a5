-- recent_traces_no_attr: recent_traces.sql without its attribute filter, for when none is
-- given: the same columns and rows as recent_traces with $attr_key NULL. DuckDB plans the
-- attribute filter's subquery (a scan of every whole line) even when $attr_key is NULL;
-- this file leaves it out, so `logtrace ls` without --attr reads only span fields.
-- Parameters (each NULL for "any"):
--   $since, $until      TIMESTAMP (UTC): traces active at some time in [since, until)
--   $service            VARCHAR: one of the trace's services
--   $name               VARCHAR: the trace has a span of this name
--   $status             VARCHAR: 'ok', 'error' or 'unfinished'
--   $min_duration_ms    DOUBLE: at least this long
--   $limit              BIGINT: at most this many rows
-- In two steps, as recent_traces.sql: the traces are chosen from the columns of `traces`
-- that the filters and the order need, then only the chosen ones get their other columns.
SELECT *
FROM traces
WHERE trace_id IN (
    SELECT trace_id
    FROM traces
    WHERE ($since IS NULL OR end_ts >= $since)
        AND ($until IS NULL OR start_ts < $until)
        AND ($service IS NULL OR list_contains(services, $service))
        AND ($status IS NULL OR status = $status)
        AND ($min_duration_ms IS NULL OR duration_ms >= $min_duration_ms)
        AND ($name IS NULL OR list_contains(span_names, $name))
    ORDER BY start_ts DESC, trace_id
    LIMIT $limit
)
ORDER BY start_ts DESC, trace_id;
