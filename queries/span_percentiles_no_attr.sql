-- span_percentiles_no_attr: span_percentiles.sql without its attribute filter, for `logtrace
-- stats` without --attr: the same columns, from the span rows of compacted history and the
-- loose span lines (loose_span_lines.sql) directly instead of the `spans` view. A whole span
-- row is counted as it is. Of the loose lines, a finished span is its end line (which carries
-- name, kind, service, status and duration; its start is its end minus its duration); an
-- unfinished one is a start line without an end line.
-- Joining every start with its end line, all fields along (as `spans` does), is what costs time
-- over millions of spans: here the percentiles come from end lines, and spans are grouped only
-- to find those without an end.
-- Rows equal span_percentiles' with $attr_key NULL (a span whose start line's name or service
-- differs from its end line's, which logtrace never writes, is counted under the end line's).
-- Parameters (each NULL for "any"):
--   $since, $until      TIMESTAMP (UTC): spans that started in [since, until)
--   $service, $name, $status, $kind VARCHAR: the span's service, name, status, kind
--   $min_duration_ms    DOUBLE: spans at least this long
--   $by_name            BOOLEAN: true for a row per name over every service and kind (their
--                       columns NULL; `logtrace check`), NULL or false for a row per name,
--                       service and kind
WITH fields AS MATERIALIZED (
    -- One read of the span lines (for JSONL files, the costly part), only the fields needed.
    SELECT
        trace_id,
        span_id,
        span,
        name,
        service,
        coalesce(kind, 'internal') AS kind,
        duration_ms,
        status = 'error' OR error_type IS NOT NULL AS failed,
        ts
    FROM loose_span_lines
    WHERE trace_id IS NOT NULL AND span_id IS NOT NULL
),
whole AS (
    SELECT name, service, kind, duration_ms, status, start_ts
    FROM span_rows
    WHERE has_start AND has_end
),
ended AS (
    SELECT
        name,
        service,
        kind,
        duration_ms,
        CASE WHEN failed THEN 'error' ELSE 'ok' END AS status,
        ts - to_microseconds(CAST(round(coalesce(duration_ms, 0) * 1000) AS BIGINT)) AS start_ts
    FROM fields
    WHERE span = 'end'
),
unfinished AS (
    -- Few aggregates on purpose: grouping a million spans is cheap, carrying every field of
    -- both lines through the groups (as `spans` does) is not.
    SELECT
        -- No end line in the group: every line of it is a start line.
        any_value(name) AS name,
        any_value(service) AS service,
        any_value(kind) AS kind,
        CAST(NULL AS DOUBLE) AS duration_ms,
        'unfinished' AS status,
        min(ts) AS start_ts
    FROM fields
    GROUP BY trace_id, span_id
    HAVING NOT bool_or(span = 'end')
),
all_spans AS (
    SELECT * FROM whole
    UNION ALL
    SELECT * FROM ended
    UNION ALL
    SELECT * FROM unfinished
)
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
    FROM (
        SELECT
            name,
            CASE WHEN $by_name THEN NULL ELSE service END AS service,
            CASE WHEN $by_name THEN NULL ELSE kind END AS kind,
            status,
            duration_ms
        FROM all_spans
        WHERE ($since IS NULL OR start_ts >= $since)
            AND ($until IS NULL OR start_ts < $until)
            AND ($service IS NULL OR service = $service)
            AND ($name IS NULL OR name = $name)
            AND ($status IS NULL OR status = $status)
            AND ($kind IS NULL OR kind = $kind)
            AND ($min_duration_ms IS NULL OR duration_ms >= $min_duration_ms)
    )
    GROUP BY name, service, kind
)
ORDER BY count DESC, name, service, kind;
