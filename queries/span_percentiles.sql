-- span_percentiles: per span name, service and kind (a client span and the server span it
-- calls share a name, not their times), how often and how long: name, service, kind VARCHAR,
-- count, errors, unfinished BIGINT, error_rate DOUBLE (errors / count), p50_ms, p95_ms,
-- p99_ms, max_ms DOUBLE (over finished spans); most frequent first.
-- Parameters (each NULL for "any"):
--   $since, $until      TIMESTAMP (UTC): spans that started in [since, until)
--   $service, $name, $status, $kind VARCHAR: the span's service, name, status, kind
--   $min_duration_ms    DOUBLE: spans at least this long
--   $attr_key, $attr_value VARCHAR: spans with this attribute at this value (compared as text)
SELECT
    name, service, kind, count, errors, unfinished, error_rate,
    quantiles[1] AS p50_ms,
    quantiles[2] AS p95_ms,
    quantiles[3] AS p99_ms,
    max_ms
FROM (
    SELECT
        name,
        service,
        kind,
        count(*) AS count,
        count(*) FILTER (WHERE status = 'error') AS errors,
        count(*) FILTER (WHERE status = 'unfinished') AS unfinished,
        count(*) FILTER (WHERE status = 'error') / count(*) AS error_rate,
        -- One sort per group for the three (three quantile_cont calls sort three times).
        quantile_cont(duration_ms, [0.50, 0.95, 0.99]) AS quantiles,
        max(duration_ms) AS max_ms
    FROM spans
    WHERE ($since IS NULL OR start_ts >= $since)
        AND ($until IS NULL OR start_ts < $until)
        AND ($service IS NULL OR service = $service)
        AND ($name IS NULL OR name = $name)
        AND ($status IS NULL OR status = $status)
        AND ($kind IS NULL OR kind = $kind)
        AND ($min_duration_ms IS NULL OR duration_ms >= $min_duration_ms)
        AND (
            $attr_key IS NULL
            OR (trace_id, span_id) IN (
                -- The text test first: it is cheap, and it skips the JSON of most lines.
                SELECT (trace_id, span_id)
                FROM events
                WHERE contains(CAST(fields AS VARCHAR), CAST(to_json($attr_key::VARCHAR) AS VARCHAR))
                    AND list_contains(['start', 'end'], span)
                -- the key as a quoted path: `/a`, `$.a` or `[0]` is a name, not a JSON path
                AND fields ->> ('$."' || replace(replace($attr_key, '\', '\\'), '"', '\"') || '"')
                    = $attr_value
            )
        )
    GROUP BY name, service, kind
)
ORDER BY count DESC, name, service, kind;
