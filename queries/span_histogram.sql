-- span_histogram: the latency histogram of one span name, for `logtrace ui` (its Operations
-- page): finished spans (their end lines) counted in buckets of five per decade of
-- milliseconds.
--   bucket INTEGER (floor(5 * log10(duration_ms)); durations under 1 µs count as 1 µs),
--   low_ms, high_ms DOUBLE (the bucket's bounds, [low, high)), count, errors BIGINT
-- Parameters:
--   $name               VARCHAR: the span name
--   $since, $until      TIMESTAMP (UTC) or NULL: spans that ended in [since, until)
--   $service            VARCHAR or NULL: only spans of this service
WITH ended AS (
    SELECT
        CAST(floor(5 * log10(greatest(duration_ms, 0.001))) AS INTEGER) AS bucket,
        status = 'error' OR error_type IS NOT NULL AS failed
    FROM span_lines
    WHERE span = 'end'
        AND name = $name
        AND duration_ms IS NOT NULL
        AND ($since IS NULL OR ts >= $since)
        AND ($until IS NULL OR ts < $until)
        AND ($service IS NULL OR service = $service)
)
SELECT
    bucket,
    pow(10, bucket / 5.0) AS low_ms,
    pow(10, (bucket + 1) / 5.0) AS high_ms,
    count(*) AS count,
    count(*) FILTER (WHERE failed) AS errors
FROM ended
GROUP BY bucket
ORDER BY bucket;
