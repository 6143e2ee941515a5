-- compact_lines: the rows of a compacted file (the columns of the Parquet files that
-- `logtrace compact` writes), one per line of the JSONL files it compacts, in file order (each
-- file is in time order, and logtrace trace ids begin with their creation time, so a row
-- group's min and max trace id are close and a lookup skips most row groups without a sort):
--   ts TIMESTAMP, level, event, logger, service VARCHAR, pid BIGINT, trace_id, span_id,
--   trace_flags, span, name, parent_id VARCHAR, duration_ms DOUBLE, status, error_type,
--   error_message, exception VARCHAR, attributes JSON (the other fields), line JSON (the whole
--   line, only when the columns cannot give it back), readable BOOLEAN, source VARCHAR (the
--   name of the file the line came from)
-- With trace-aware retention, only the lines of traces in the table `keep_traces`, of sampled
-- traces, and lines outside any trace.
-- Parameters: none. Variables: compact_files (the JSONL files), compact_threshold (UBIGINT,
-- NULL: keep every line; else a trace is sampled when the low 64 bits of its id, as
-- OpenTelemetry's TraceIdRatioBased sampler reads them, are below it). Needs a table
-- keep_traces (trace_id VARCHAR).
WITH parsed AS (
    SELECT
        -- One parse per line for the documented fields.
        json_transform(
            json,
            '{"ts": "VARCHAR", "level": "VARCHAR", "event": "VARCHAR", "logger": "VARCHAR",
              "service": "VARCHAR", "pid": "VARCHAR", "trace_id": "VARCHAR",
              "span_id": "VARCHAR", "trace_flags": "VARCHAR", "span": "VARCHAR",
              "name": "VARCHAR", "parent_id": "VARCHAR", "duration_ms": "VARCHAR",
              "status": "VARCHAR", "error_type": "VARCHAR", "error_message": "VARCHAR",
              "exception": "VARCHAR"}'
        ) AS f,
        json,
        filename
    FROM read_json_objects(
        getvariable('compact_files'),
        format = 'newline_delimited',
        ignore_errors = true,
        -- Foreign lines up to 64 MiB are read (and judged); DuckDB's default stops at 16 MiB.
        maximum_object_size = 67108864,
        filename = true
    )
),
typed AS (
    SELECT
        try_cast(f.ts AS TIMESTAMP) AS ts,
        f.level,
        f.event,
        f.logger,
        f.service,
        try_cast(f.pid AS BIGINT) AS pid,
        f.trace_id,
        f.span_id,
        f.trace_flags,
        f.span,
        f.name,
        f.parent_id,
        -- NaN, infinities and values past 1e12 ms (31 years) are no duration: NULL
        CASE WHEN abs(try_cast(f.duration_ms AS DOUBLE)) <= 1e12 THEN try_cast(f.duration_ms AS DOUBLE) END AS duration_ms,
        f.status,
        f.error_type,
        f.error_message,
        f.exception,
        json,
        f.pid AS pid_text,
        f.duration_ms AS duration_text,
        filename
    FROM parsed
)
SELECT
    ts, level, event, logger, service, pid, trace_id, span_id, trace_flags, span, name,
    parent_id, duration_ms, status, error_type, error_message, exception,
    -- A JSON merge patch with null values removes keys: what is left are the other fields
    -- (none for a line that is not JSON: patching NULL would give the patch itself).
    CASE WHEN json IS NOT NULL THEN nullif(
        json_merge_patch(
            json,
            '{"ts": null, "level": null, "event": null, "logger": null, "service": null,
              "pid": null, "trace_id": null, "span_id": null, "trace_flags": null,
              "span": null, "name": null, "parent_id": null, "duration_ms": null,
              "status": null, "error_type": null, "error_message": null, "exception": null}'
        ),
        '{}'
    ) END AS attributes,
    CASE
        WHEN ts IS NULL
            OR (pid IS NULL AND pid_text IS NOT NULL)
            OR (duration_ms IS NULL AND duration_text IS NOT NULL)
            THEN json
    END AS line,
    json IS NOT NULL AS readable,
    parse_filename(filename) AS source
FROM typed
WHERE getvariable('compact_threshold') IS NULL
    OR trace_id IS NULL
    OR trace_id IN (SELECT trace_id FROM keep_traces)
    OR CASE
        WHEN regexp_full_match(trace_id, '[0-9a-f]{32}')
            THEN CAST('0x' || right(trace_id, 16) AS UBIGINT)
        ELSE hash(trace_id)
    END < getvariable('compact_threshold');
