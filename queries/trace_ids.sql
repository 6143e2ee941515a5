-- trace_ids: the trace ids that begin with a prefix (an abbreviated id, as git abbreviates), at
-- most three: trace_id VARCHAR. One row: the prefix is unique; none: no such trace.
-- Parameters: $prefix VARCHAR, lowercase hex.
SELECT DISTINCT trace_id
FROM events
WHERE starts_with(trace_id, $prefix)
ORDER BY trace_id
LIMIT 3;
