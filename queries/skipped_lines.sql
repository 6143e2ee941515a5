-- skipped_lines: per file, the lines that are not logtrace events: filename VARCHAR,
-- lines BIGINT (all), unreadable BIGINT (not JSON: torn, truncated, text from another program),
-- other_json BIGINT (JSON, but not an object with a valid `ts`: another program's line). Only files
-- with such lines.
-- Parameters: none. Needs the views `jsonl_lines` (jsonl_lines.sql) and `compacted`
-- (compacted.sql). A compacted line is judged by its columns, never rebuilt as JSON: its `ts`
-- column is NULL exactly when the line had no valid `ts`.
WITH judged AS (
    SELECT
        filename,
        json IS NULL AS unreadable,
        json IS NOT NULL AND try_cast(json ->> 'ts' AS TIMESTAMP) IS NULL AS other_json
    FROM jsonl_lines
    UNION ALL
    SELECT
        filename,
        NOT readable AS unreadable,
        readable AND ts IS NULL AS other_json
    FROM compacted
)
SELECT
    filename,
    count(*) AS lines,
    count(*) FILTER (WHERE unreadable) AS unreadable,
    count(*) FILTER (WHERE other_json) AS other_json
FROM judged
GROUP BY filename
HAVING unreadable > 0 OR other_json > 0
ORDER BY filename;
