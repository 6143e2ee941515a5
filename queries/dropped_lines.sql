-- dropped_lines: lines the writers dropped in a window, from their own logtrace.dropped lines:
--   dropped BIGINT (the sum of their counts, 0 when none), reports BIGINT (such lines)
-- Parameters:
--   $since, $until TIMESTAMP (UTC), each NULL for "any": reports written in [since, until)
--   $service VARCHAR, NULL for "any": of this service
SELECT
    coalesce(sum(try_cast(fields ->> 'dropped' AS BIGINT)), 0) AS dropped,
    count(*) AS reports
FROM events
WHERE event = 'logtrace.dropped'
    AND logger = 'logtrace'
    AND ($since IS NULL OR ts >= $since)
    AND ($until IS NULL OR ts < $until)
    AND ($service IS NULL OR service = $service);
