-- no_compacted: the view `compacted` with no rows, for a directory without compacted files
-- (DuckDB's Parquet reader refuses a glob that matches nothing); same columns as compacted.sql.
-- Parameters: none.
CREATE OR REPLACE VIEW compacted AS
SELECT
    CAST(NULL AS TIMESTAMP) AS ts,
    CAST(NULL AS VARCHAR) AS level,
    CAST(NULL AS VARCHAR) AS event,
    CAST(NULL AS VARCHAR) AS logger,
    CAST(NULL AS VARCHAR) AS service,
    CAST(NULL AS BIGINT) AS pid,
    CAST(NULL AS VARCHAR) AS trace_id,
    CAST(NULL AS VARCHAR) AS span_id,
    CAST(NULL AS VARCHAR) AS trace_flags,
    CAST(NULL AS VARCHAR) AS span,
    CAST(NULL AS VARCHAR) AS name,
    CAST(NULL AS VARCHAR) AS parent_id,
    CAST(NULL AS DOUBLE) AS duration_ms,
    CAST(NULL AS VARCHAR) AS status,
    CAST(NULL AS VARCHAR) AS error_type,
    CAST(NULL AS VARCHAR) AS error_message,
    CAST(NULL AS VARCHAR) AS exception,
    CAST(NULL AS JSON) AS attributes,
    CAST(NULL AS BOOLEAN) AS readable,
    CAST(NULL AS JSON) AS json,
    CAST(NULL AS VARCHAR) AS filename
WHERE false;
