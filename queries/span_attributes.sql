-- span_attributes: per span, its user fields: trace_id, span_id VARCHAR, attributes JSON (the
-- fields of the start line that are not logtrace's, then those of the end line, set by
-- span.set(): an end value wins). One row per (trace_id, span_id), so that `spans` can join it
-- and DuckDB can leave the join out of every query that does not ask for attributes.
-- Parameters: none. Needs the views `jsonl_lines` and `compacted`.
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
              "name": null, "parent_id": null, "duration_ms": null, "status": null,
              "error_type": null, "error_message": null, "exception": null,
              "attributes_dropped": null, "line_truncated": null}'
        ) AS attributes
    FROM jsonl_lines
    WHERE list_contains(['start', 'end'], json ->> 'span')
    UNION ALL
    SELECT trace_id, span_id, span, coalesce(attributes, '{}')
    FROM compacted
    WHERE list_contains(['start', 'end'], span)
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
