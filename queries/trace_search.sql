-- trace_search: the trace list of `logtrace ui` (its Traces page): recent_traces.sql's filters,
-- plus words in a log message and a trace id prefix; the same columns (every column of
-- `traces`), newest first.
-- Parameters (each NULL for "any"):
--   $since, $until      TIMESTAMP (UTC): traces active at some time in [since, until)
--   $service            VARCHAR: one of the trace's services (with $kind: of that span)
--   $kind               VARCHAR: the trace has a span of this kind ('server', 'client', ...)
--   $name               VARCHAR: the trace has a span of this name
--   $status             VARCHAR: 'ok', 'error' or 'unfinished'
--   $min_duration_ms    DOUBLE: at least this long
--   $attr_key, $attr_value  VARCHAR: a span of the trace has this attribute with this value
--                       (compared as text)
--   $text               VARCHAR: a log line or span event of the trace has this text in its
--                       message (case-insensitive)
--   $prefix             VARCHAR: the trace id begins with these lowercase hex digits
--   $limit              BIGINT: at most this many rows
SELECT *
FROM traces
WHERE ($since IS NULL OR end_ts >= $since)
    AND ($until IS NULL OR start_ts < $until)
    AND ($service IS NULL OR list_contains(services, $service))
    AND ($status IS NULL OR status = $status)
    AND ($min_duration_ms IS NULL OR duration_ms >= $min_duration_ms)
    AND ($name IS NULL OR list_contains(span_names, $name))
    AND ($prefix IS NULL OR starts_with(trace_id, $prefix))
    AND (
        $kind IS NULL
        OR trace_id IN (
            SELECT trace_id
            FROM spans
            WHERE kind = $kind AND ($service IS NULL OR service = $service)
        )
    )
    AND (
        $attr_key IS NULL
        OR trace_id IN (
            -- The text test first: it is cheap, and it skips the JSON of most lines.
            SELECT trace_id
            FROM events
            WHERE contains(CAST(fields AS VARCHAR), CAST(to_json($attr_key::VARCHAR) AS VARCHAR))
                AND list_contains(['start', 'end'], span)
                -- the key as a quoted path: `/a`, `$.a` or `[0]` is a name, not a JSON path
                AND fields ->> ('$."' || replace(replace($attr_key, '\', '\\'), '"', '\"') || '"')
                    = $attr_value
        )
    )
    AND (
        $text IS NULL
        OR trace_id IN (
            SELECT trace_id
            FROM events
            WHERE (span IS NULL OR span = 'event')
                AND trace_id IS NOT NULL
                AND contains(lower(event), lower($text))
        )
    )
ORDER BY start_ts DESC, trace_id
LIMIT $limit;
