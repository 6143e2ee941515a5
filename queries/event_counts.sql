-- event_counts: log lines of one event in a window, for checks (logtrace check --event):
--   lines BIGINT (lines whose event is $event), first_ts, last_ts TIMESTAMP (UTC)
-- Parameters:
--   $event VARCHAR: the event (the log message)
--   $since, $until TIMESTAMP (UTC), each NULL for "any": lines written in [since, until)
--   $service, $level VARCHAR, each NULL for "any": the line's service, level
SELECT count(*) AS lines, min(ts) AS first_ts, max(ts) AS last_ts
FROM events
WHERE event = $event
    AND span IS NULL
    AND ($since IS NULL OR ts >= $since)
    AND ($until IS NULL OR ts < $until)
    AND ($service IS NULL OR service = $service)
    AND ($level IS NULL OR level = $level);
