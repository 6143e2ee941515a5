-- no_span_rows: the view `span_rows` with no rows, for files without it (DuckDB's Parquet reader
-- refuses an empty list); same columns as span_rows.sql.
-- Parameters: none.
CREATE OR REPLACE VIEW span_rows AS
SELECT
    CAST(NULL AS VARCHAR) AS trace_id,
    CAST(NULL AS VARCHAR) AS span_id,
    CAST(NULL AS VARCHAR) AS parent_id,
    CAST(NULL AS VARCHAR) AS name,
    CAST(NULL AS VARCHAR) AS kind,
    CAST(NULL AS VARCHAR) AS service,
    CAST(NULL AS VARCHAR) AS host,
    CAST(NULL AS BIGINT) AS pid,
    CAST(NULL AS TIMESTAMP) AS start_ts,
    CAST(NULL AS TIMESTAMP) AS end_ts,
    CAST(NULL AS DOUBLE) AS duration_ms,
    CAST(NULL AS VARCHAR) AS status,
    CAST(NULL AS VARCHAR) AS error_type,
    CAST(NULL AS VARCHAR) AS error_message,
    CAST(NULL AS VARCHAR) AS exception,
    CAST(NULL AS JSON) AS attributes,
    CAST(NULL AS BOOLEAN) AS has_start,
    CAST(NULL AS BOOLEAN) AS has_end,
    CAST(NULL AS VARCHAR) AS filename
WHERE false;
