-- spans: one row per span, its start and end lines joined on (trace_id, span_id).
--   trace_id, span_id, parent_id (NULL for a root), name, service VARCHAR, pid BIGINT,
--   start_ts, end_ts TIMESTAMP (UTC; end_ts NULL while unfinished), duration_ms DOUBLE (from the
--   end line: a monotonic clock), status ('ok' | 'error' | 'unfinished'), error_type,
--   error_message, exception VARCHAR, attributes JSON (user fields of the start line, then of
--   the end line, set by span.set()), has_start, has_end BOOLEAN, filename VARCHAR
-- A start with no end is 'unfinished' (in flight, or its process died). An end whose start was
-- rotated away still appears: the end line carries name and parent_id, and its start is
-- end_ts - duration_ms.
-- Parameters: none. Needs the view `lines` (lines.sql); types as in events.sql.
CREATE OR REPLACE VIEW spans AS
WITH span_lines AS (
    -- One parse per span line for all its fields (json_transform), where the ->> of events.sql
    -- would parse the line once per field. Wrong types give NULL, never an error.
    SELECT
        try_cast(f.ts AS TIMESTAMP) AS ts,
        f.trace_id,
        f.span_id,
        f.span,
        f.name,
        f.parent_id,
        try_cast(f.duration_ms AS DOUBLE) AS duration_ms,
        f.status,
        f.error_type,
        f.error_message,
        f.exception,
        f.service,
        try_cast(f.pid AS BIGINT) AS pid,
        json AS fields,
        filename
    FROM (
        SELECT
            json_transform(
                json,
                '{"ts": "VARCHAR", "trace_id": "VARCHAR", "span_id": "VARCHAR", "span": "VARCHAR",
                  "name": "VARCHAR", "parent_id": "VARCHAR", "duration_ms": "VARCHAR",
                  "status": "VARCHAR", "error_type": "VARCHAR", "error_message": "VARCHAR",
                  "exception": "VARCHAR", "service": "VARCHAR", "pid": "VARCHAR"}'
            ) AS f,
            json,
            filename
        FROM lines
        -- Not `IN ('start', 'end')`: DuckDB rewrites that as two tests, two parses per line.
        WHERE list_contains(['start', 'end'], json ->> 'span')
    )
),
joined AS (
    SELECT
        trace_id,
        span_id,
        coalesce(
            any_value(parent_id) FILTER (WHERE span = 'start'),
            any_value(parent_id) FILTER (WHERE span = 'end')
        ) AS parent_id,
        coalesce(any_value(name) FILTER (WHERE span = 'start'), any_value(name)) AS name,
        coalesce(any_value(service) FILTER (WHERE span = 'start'), any_value(service)) AS service,
        coalesce(any_value(pid) FILTER (WHERE span = 'start'), any_value(pid)) AS pid,
        min(ts) FILTER (WHERE span = 'start') AS start_line_ts,
        max(ts) FILTER (WHERE span = 'end') AS end_ts,
        max(duration_ms) FILTER (WHERE span = 'end') AS duration_ms,
        any_value(status) FILTER (WHERE span = 'end') AS end_status,
        any_value(error_type) FILTER (WHERE span = 'end') AS error_type,
        any_value(error_message) FILTER (WHERE span = 'end') AS error_message,
        any_value(exception) FILTER (WHERE span = 'end') AS exception,
        any_value(fields) FILTER (WHERE span = 'start') AS start_fields,
        any_value(fields) FILTER (WHERE span = 'end') AS end_fields,
        count(*) FILTER (WHERE span = 'start') > 0 AS has_start,
        count(*) FILTER (WHERE span = 'end') > 0 AS has_end,
        min(filename) AS filename
    FROM span_lines
    GROUP BY trace_id, span_id
    -- On aggregates, not the keys: a test of the keys would be pushed down to every line and
    -- parse each one again.
    HAVING count(trace_id) > 0 AND count(span_id) > 0
)
SELECT
    trace_id,
    span_id,
    parent_id,
    name,
    service,
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
    -- A JSON merge patch with null values removes keys: what is left are the user's fields.
    json_merge_patch(
        coalesce(start_fields, '{}'),
        coalesce(end_fields, '{}'),
        '{"ts": null, "level": null, "event": null, "logger": null, "service": null,
          "pid": null, "trace_id": null, "span_id": null, "trace_flags": null, "span": null,
          "name": null, "parent_id": null, "duration_ms": null, "status": null,
          "error_type": null, "error_message": null, "exception": null,
          "attributes_dropped": null, "line_truncated": null}'
    ) AS attributes,
    has_start,
    has_end,
    filename
FROM joined;
