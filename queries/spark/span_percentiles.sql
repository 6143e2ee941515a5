-- span_percentiles (Spark SQL): per span name, how often and how long, as logtrace's
-- span_percentiles.sql: name, count, errors, unfinished, error_rate, p50_ms, p95_ms, p99_ms
-- (percentile_approx: within Spark's approximation of logtrace's exact quantile_cont),
-- max_ms; most frequent first.
-- Needs the view `spans` (spans.sql). Parameters: none.
SELECT
    name,
    count(*) AS count,
    count_if(status = 'error') AS errors,
    count_if(status = 'unfinished') AS unfinished,
    count_if(status = 'error') / count(*) AS error_rate,
    percentile_approx(duration_ms, 0.50) AS p50_ms,
    percentile_approx(duration_ms, 0.95) AS p95_ms,
    percentile_approx(duration_ms, 0.99) AS p99_ms,
    max(duration_ms) AS max_ms
FROM spans
GROUP BY name
ORDER BY count DESC, name;
