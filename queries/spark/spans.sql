-- spans (Spark SQL): one row per span of shared history, from the span files alone (span
-- format 1, docs/scaling.md), fragments of a span split across batches merged on
-- (trace_id, span_id) as logtrace merges them:
--   trace_id, span_id, parent_id, name, kind, service, host, pid, start_ts, end_ts,
--   duration_ms, status ('ok' | 'error' | 'unfinished'), error_type, error_message,
--   has_start, has_end
-- Needs a view `span_files` over the span files, e.g. in pyspark:
--   spark.read.parquet(f"{DEST}/day=*/spans_*.parquet").createOrReplaceTempView("span_files")
-- Parameters: none.
CREATE OR REPLACE TEMPORARY VIEW spans AS
WITH merged AS (
    SELECT
        trace_id,
        span_id,
        coalesce(max(CASE WHEN has_start THEN parent_id END), max(parent_id)) AS parent_id,
        coalesce(max(CASE WHEN has_start THEN name END), max(name)) AS name,
        coalesce(max(CASE WHEN has_start THEN kind END), max(kind)) AS kind,
        coalesce(max(CASE WHEN has_start THEN service END), max(service)) AS service,
        coalesce(max(CASE WHEN has_start THEN host END), max(host)) AS host,
        coalesce(max(CASE WHEN has_start THEN pid END), max(pid)) AS pid,
        min(CASE WHEN has_start THEN start_ts END) AS start_line_ts,
        max(CASE WHEN has_end THEN end_ts END) AS end_ts,
        max(CASE WHEN has_end THEN duration_ms END) AS duration_ms,
        max(CASE WHEN has_end THEN status END) AS end_status,
        max(CASE WHEN has_end THEN error_type END) AS error_type,
        max(CASE WHEN has_end THEN error_message END) AS error_message,
        bool_or(has_start) AS has_start,
        bool_or(has_end) AS has_end
    FROM span_files
    GROUP BY trace_id, span_id
)
SELECT
    trace_id,
    span_id,
    parent_id,
    name,
    kind,
    service,
    host,
    pid,
    coalesce(
        start_line_ts,
        timestamp_micros(unix_micros(end_ts) - CAST(round(coalesce(duration_ms, 0) * 1000) AS BIGINT))
    ) AS start_ts,
    end_ts,
    duration_ms,
    CASE WHEN NOT has_end THEN 'unfinished' ELSE end_status END AS status,
    error_type,
    error_message,
    has_start,
    has_end
FROM merged;
