-- skipped_lines: per file, the lines that are not logtrace events: filename VARCHAR,
-- lines BIGINT (all), unreadable BIGINT (not JSON: torn, truncated, text from another program),
-- other_json BIGINT (JSON, but not an object with a valid `ts`: another program's line). Only files
-- with such lines.
-- Parameters: none. Needs the view `lines` (lines.sql).
SELECT
    filename,
    count(*) AS lines,
    count(*) FILTER (WHERE json IS NULL) AS unreadable,
    count(*) FILTER (WHERE json IS NOT NULL AND try_cast(json ->> 'ts' AS TIMESTAMP) IS NULL)
        AS other_json
FROM lines
GROUP BY filename
HAVING unreadable > 0 OR other_json > 0
ORDER BY filename;
