-- compact_spans: the span rows of a compacted batch (the columns of the `spans_….parquet` files
-- that `logtrace compact` writes next to each `compacted_….parquet` file; docs/scaling.md lists
-- them as a contract), one row per (trace_id, span_id) that has a start or an end line in the
-- batch, its start and end lines joined:
--   trace_id, span_id, parent_id, name, kind ('internal' when the lines have none), service,
--   host (from the source file's name), pid, start_ts, end_ts (TIMESTAMP, UTC), duration_ms,
--   status ('ok' | 'error' | 'unfinished'), error_type, error_message, exception,
--   attributes JSON (user fields of the start line, then of the end line), has_start, has_end
--   BOOLEAN, source (the JSONL file of its first line)
-- A span whose start and end lines are in different batches (a long span across a rotation, or
-- one still running) gives a fragment here (has_start <> has_end); readers merge fragments on
-- (trace_id, span_id) with each other and with the span lines of files not compacted yet.
-- Sorted by trace_id (a logtrace trace id begins with its creation time), then span_id: a
-- lookup of one trace reads one row group of a file, and min/max of start_ts prune by time.
-- Parameters: none. Variables: compact_parquet (the compacted lines of the batch).
WITH span_lines AS (
    SELECT
        ts, trace_id, span_id, span, name, parent_id, duration_ms, status, error_type,
        error_message, exception, service, pid, source,
        -- A key of the object is in its text: a string search spares most lines a parse.
        CASE WHEN contains(attributes, '"kind"') THEN attributes ->> 'kind' END AS kind,
        attributes
    FROM read_parquet(getvariable('compact_parquet'))
    WHERE span IN ('start', 'end')
        AND trace_id IS NOT NULL
        AND span_id IS NOT NULL
),
joined AS (
    SELECT
        trace_id,
        span_id,
        coalesce(
            any_value(parent_id) FILTER (WHERE span = 'start'),
            any_value(parent_id) FILTER (WHERE span = 'end')
        ) AS parent_id,
        coalesce(any_value(name) FILTER (WHERE span = 'end'), any_value(name)) AS name,
        coalesce(any_value(kind) FILTER (WHERE span = 'start'), any_value(kind)) AS kind,
        coalesce(any_value(service) FILTER (WHERE span = 'start'), any_value(service)) AS service,
        coalesce(any_value(pid) FILTER (WHERE span = 'start'), any_value(pid)) AS pid,
        min(ts) FILTER (WHERE span = 'start') AS start_line_ts,
        max(ts) FILTER (WHERE span = 'end') AS end_ts,
        max(duration_ms) FILTER (WHERE span = 'end') AS duration_ms,
        any_value(status) FILTER (WHERE span = 'end') AS end_status,
        any_value(error_type) FILTER (WHERE span = 'end') AS error_type,
        any_value(error_message) FILTER (WHERE span = 'end') AS error_message,
        any_value(exception) FILTER (WHERE span = 'end') AS exception,
        any_value(attributes) FILTER (WHERE span = 'start') AS start_attributes,
        any_value(attributes) FILTER (WHERE span = 'end') AS end_attributes,
        count(*) FILTER (WHERE span = 'start') > 0 AS has_start,
        count(*) FILTER (WHERE span = 'end') > 0 AS has_end,
        min(source) AS source
    FROM span_lines
    GROUP BY trace_id, span_id
)
SELECT
    trace_id,
    span_id,
    parent_id,
    name,
    coalesce(kind, 'internal') AS kind,
    service,
    CASE WHEN regexp_full_match(source, '[A-Za-z0-9.-]+_[A-Za-z0-9.-]+_[0-9]+_.*')
        THEN split_part(source, '_', 2) END AS host,
    pid,
    coalesce(
        start_line_ts,
        end_ts - to_microseconds(CAST(round(coalesce(duration_ms, 0) * 1000) AS BIGINT))
    ) AS start_ts,
    end_ts,
    duration_ms,
    CASE
        WHEN NOT has_end THEN 'unfinished'
        WHEN end_status = 'error' OR error_type IS NOT NULL THEN 'error'
        ELSE 'ok'
    END AS status,
    error_type,
    error_message,
    exception,
    -- logtrace's own fields are not attributes; a merge patch with null values removes them.
    -- Most spans have user fields on one of their lines only, and none of those three: their
    -- attributes are that line's as they are (already written by a merge patch).
    CASE
        WHEN (start_attributes IS NULL OR end_attributes IS NULL)
            AND NOT contains(coalesce(start_attributes, end_attributes, '{}'), '"kind"')
            AND NOT contains(coalesce(start_attributes, end_attributes, '{}'), '"attributes_dropped"')
            AND NOT contains(coalesce(start_attributes, end_attributes, '{}'), '"line_truncated"')
            THEN coalesce(start_attributes, end_attributes, '{}')
        ELSE json_merge_patch(
            coalesce(start_attributes, '{}'),
            coalesce(end_attributes, '{}'),
            '{"kind": null, "attributes_dropped": null, "line_truncated": null}'
        )
    END AS attributes,
    has_start,
    has_end,
    source
FROM joined
ORDER BY trace_id, span_id;
