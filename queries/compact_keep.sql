-- compact_keep: the traces that trace-aware retention keeps whole, from every file (all
-- processes, JSONL and compacted): trace_id VARCHAR, one row per trace with a failed span or,
-- when $slow_ms is given, a span that lasted at least $slow_ms.
-- Parameters: $slow_ms DOUBLE or NULL. Needs the view `spans`.
SELECT DISTINCT trace_id
FROM spans
WHERE trace_id IS NOT NULL
    AND (status = 'error' OR ($slow_ms IS NOT NULL AND duration_ms >= $slow_ms));
