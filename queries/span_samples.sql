-- span_samples: one row per span of the chosen traces, for comparisons (logtrace compare):
--   trace_id, span_id, name, service, status VARCHAR, duration_ms DOUBLE (NULL while unfinished)
-- Parameters (each NULL for "any"):
--   $since, $until TIMESTAMP (UTC): spans that started in [since, until)
--   $service, $name VARCHAR: the span's service, name
--   $attr_key, $attr_value VARCHAR: spans of traces in which some span has this attribute at
--     this value (compared as text): a version set on the root marks its whole trace
SELECT trace_id, span_id, name, service, status, duration_ms
FROM spans
WHERE ($since IS NULL OR start_ts >= $since)
    AND ($until IS NULL OR start_ts < $until)
    AND ($service IS NULL OR service = $service)
    AND ($name IS NULL OR name = $name)
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
ORDER BY trace_id, span_id;
