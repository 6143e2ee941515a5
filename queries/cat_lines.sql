-- cat_lines: every JSON line of the files, live, rotated and compacted alike, as text, in time
-- order (`logtrace cat`): line VARCHAR (a JSONL line as written; a compacted one as the
-- `compacted` view gives it back), ts TIMESTAMP (UTC; NULL for a line without a valid ts, such
-- lines come last).
-- Parameters (each NULL for "any"):
--   $since, $until  TIMESTAMP (UTC): lines of [since, until)
--   $trace          VARCHAR: lines of the traces whose id starts with it (lowercase hex)
--   $service        VARCHAR: lines of this service
SELECT CAST(fields AS VARCHAR) AS line, ts
FROM events
WHERE ($since IS NULL OR ts >= $since)
    AND ($until IS NULL OR ts < $until)
    AND ($trace IS NULL OR starts_with(trace_id, $trace))
    AND ($service IS NULL OR service = $service)
ORDER BY ts NULLS LAST, filename;
