-- span_attributes: per span, its user fields: trace_id, span_id VARCHAR, attributes JSON (the
-- fields of the start line that are not logtrace's, then those of the end line, set by
-- span.set(): an end value wins). One row per (trace_id, span_id), so that `spans` can join it
-- and DuckDB can leave the join out of every query that does not ask for attributes.
-- Only for the spans joined from lines (loose_span_lines.sql): whole spans of the span files
-- carry their own attributes, so compacted files with a span file are not read here.
-- Parameters: none. Needs the views `jsonl_lines`, `compacted_span_lines` and `span_rows`.
CREATE OR REPLACE VIEW span_attributes AS
WITH user_fields AS (
    SELECT
        json ->> 'trace_id' AS trace_id,
        json ->> 'span_id' AS span_id,
        json ->> 'span' AS span,
        -- A JSON merge patch with null values removes keys: what is left are the user's fields.
        json_merge_patch(
            json,
            '{"ts": null, "level": null, "event": null, "logger": null, "service": null,
              "pid": null, "trace_id": null, "span_id": null, "trace_flags": null, "span": null,
              "name": null, "parent_id": null, "kind": null, "duration_ms": null, "status": null,
              "error_type": null, "error_message": null, "exception": null,
              "attributes_dropped": null, "line_truncated": null}'
        ) AS attributes
    FROM jsonl_lines
    WHERE list_contains(['start', 'end'], json ->> 'span')
    UNION ALL
    SELECT trace_id, span_id, span, attributes
    FROM compacted_span_lines
    UNION ALL
    -- A fragment's attributes are those of the line it stands for.
    SELECT trace_id, span_id, CASE WHEN has_start THEN 'start' ELSE 'end' END, attributes
    FROM span_rows
    WHERE has_start <> has_end
)
SELECT
    trace_id,
    span_id,
    json_merge_patch(
        coalesce(any_value(attributes) FILTER (WHERE span = 'start'), '{}'),
        coalesce(any_value(attributes) FILTER (WHERE span = 'end'), '{}')
    ) AS attributes
FROM user_fields
GROUP BY trace_id, span_id;
