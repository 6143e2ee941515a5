-- span_timeseries: spans per time bucket, the data a plot needs, one row per bucket from the
-- first to the last (empty buckets included, with count 0):
--   bucket TIMESTAMP (UTC, the bucket's start), count, errors, unfinished BIGINT, error_rate
--   DOUBLE (errors / count; NULL when empty), p50_ms, p95_ms, p99_ms, max_ms DOUBLE (over
--   finished spans), oldest bucket first.
-- Parameters:
--   $every_ms DOUBLE: the bucket width in ms (buckets start at multiples of it since 2000-01-03)
--   $since, $until TIMESTAMP (UTC), each NULL for "any": spans that started in [since, until);
--     given, they also bound the run of buckets
--   $service, $name VARCHAR, each NULL for "any": the span's service, name
-- More than 100,000 buckets (a 1us width over a minute of spans) is an error that says so,
-- not a query that runs for minutes.
WITH width AS (
    SELECT to_microseconds(CAST(round($every_ms * 1000) AS BIGINT)) AS every
),
chosen AS (
    SELECT time_bucket((SELECT every FROM width), start_ts) AS bucket, status, duration_ms
    FROM spans
    WHERE ($since IS NULL OR start_ts >= $since)
        AND ($until IS NULL OR start_ts < $until)
        AND ($service IS NULL OR service = $service)
        AND ($name IS NULL OR name = $name)
        AND start_ts IS NOT NULL
),
per_bucket AS (
    SELECT
        bucket,
        count(*) AS count,
        count(*) FILTER (WHERE status = 'error') AS errors,
        count(*) FILTER (WHERE status = 'unfinished') AS unfinished,
        quantile_cont(duration_ms, 0.50) AS p50_ms,
        quantile_cont(duration_ms, 0.95) AS p95_ms,
        quantile_cont(duration_ms, 0.99) AS p99_ms,
        max(duration_ms) AS max_ms
    FROM chosen
    GROUP BY bucket
),
bounds AS (
    SELECT
        coalesce(time_bucket((SELECT every FROM width), CAST($since AS TIMESTAMP)), min(bucket))
            AS first,
        coalesce(
            time_bucket(
                (SELECT every FROM width),
                CAST($until AS TIMESTAMP) - INTERVAL 1 MICROSECOND
            ),
            max(bucket)
        ) AS last
    FROM per_bucket
),
sized AS (
    -- How many widths the run of buckets spans (the buckets: one more).
    SELECT first, last, (epoch_us(last) - epoch_us(first)) / round($every_ms * 1000) AS widths
    FROM bounds
    WHERE first IS NOT NULL AND last IS NOT NULL
),
buckets AS (
    SELECT unnest(range(first, last + (SELECT every FROM width), (SELECT every FROM width)))
        AS bucket
    FROM sized
    WHERE CASE
        WHEN widths < 100000 THEN true
        ELSE error(printf(
            'a bucket of %s ms makes %d buckets from %s to %s, more than 100000: give a '
            || 'wider bucket or a shorter window (since, until)',
            CAST($every_ms AS VARCHAR), CAST(widths AS BIGINT) + 1, first, last
        ))
    END
)
SELECT
    b.bucket,
    coalesce(p.count, 0) AS count,
    coalesce(p.errors, 0) AS errors,
    coalesce(p.unfinished, 0) AS unfinished,
    p.errors / p.count AS error_rate,
    p.p50_ms,
    p.p95_ms,
    p.p99_ms,
    p.max_ms
FROM buckets AS b
LEFT JOIN per_bucket AS p USING (bucket)
ORDER BY b.bucket;
