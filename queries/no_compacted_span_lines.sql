-- no_compacted_span_lines: the view `compacted_span_lines` with no rows, for files without it (DuckDB's Parquet reader
-- refuses an empty list); same columns as compacted_span_lines.sql.
-- Parameters: none.
CREATE OR REPLACE VIEW compacted_span_lines AS
SELECT
    CAST(NULL AS TIMESTAMP) AS ts,
    CAST(NULL AS VARCHAR) AS trace_id,
    CAST(NULL AS VARCHAR) AS span_id,
    CAST(NULL AS VARCHAR) AS span,
    CAST(NULL AS VARCHAR) AS name,
    CAST(NULL AS VARCHAR) AS parent_id,
    CAST(NULL AS DOUBLE) AS duration_ms,
    CAST(NULL AS VARCHAR) AS status,
    CAST(NULL AS VARCHAR) AS error_type,
    CAST(NULL AS VARCHAR) AS error_message,
    CAST(NULL AS VARCHAR) AS exception,
    CAST(NULL AS VARCHAR) AS service,
    CAST(NULL AS BIGINT) AS pid,
    CAST(NULL AS VARCHAR) AS filename,
    CAST(NULL AS VARCHAR) AS kind,
    CAST(NULL AS JSON) AS attributes
WHERE false;
