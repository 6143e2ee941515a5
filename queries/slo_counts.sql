-- slo_counts: events and bad events of a service level objective over one window:
--   events, bad BIGINT (spans that failed, or took longer than $latency_ms when given;
--   unfinished spans are left out: they have no outcome yet)
-- Parameters:
--   $since, $until TIMESTAMP (UTC): spans that ended in [since, until)
--   $name, $service VARCHAR, each NULL for "any": the span's name, service
--   $latency_ms DOUBLE, NULL for none: slower spans count as bad too
SELECT
    count(*) AS events,
    count(*) FILTER (
        WHERE status = 'error' OR ($latency_ms IS NOT NULL AND duration_ms > $latency_ms)
    ) AS bad
FROM spans
WHERE status <> 'unfinished'
    AND end_ts >= $since
    AND end_ts < $until
    AND ($name IS NULL OR name = $name)
    AND ($service IS NULL OR service = $service);
