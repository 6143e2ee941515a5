-- compacted: the rows of the compacted Parquet files (written by `logtrace compact`), one per
-- line of the JSONL files they replaced:
--   ts TIMESTAMP (UTC), level, event, logger, service VARCHAR, pid BIGINT, trace_id, span_id,
--   trace_flags, span, name, parent_id VARCHAR, duration_ms DOUBLE, status, error_type,
--   error_message, exception VARCHAR (the documented fields, typed as in events.sql),
--   attributes JSON (the line's other fields; NULL when it has none), readable BOOLEAN (false:
--   the line was not JSON), json JSON (the whole line: kept as written when the typed columns
--   cannot give it back — no valid ts, a value of the wrong type — else rebuilt from the
--   columns, null fields left out but for a span's parent_id; NULL when not readable),
--   filename VARCHAR (the JSONL file the line came from, where it was)
-- Parameters: none; the files come from the variable logtrace_parquet, a glob or a list:
--   SET VARIABLE logtrace_parquet = 'logtrace/*/*.parquet';
CREATE OR REPLACE VIEW compacted AS
SELECT
    * EXCLUDE (line, source, filename, head),
    CASE
        WHEN NOT readable THEN NULL
        WHEN line IS NOT NULL THEN line
        -- A merge patch drops null values, so only the fields the line had are kept; a span
        -- line's parent_id (null for a root span) is written into the head's text, where the
        -- writer puts it: after name, before duration_ms.
        ELSE json_merge_patch(
            CASE
                WHEN list_contains(['start', 'end'], span) THEN CAST(
                    substr(head, 1, length(head) - 1)
                    || ',"parent_id":' || coalesce(CAST(to_json(parent_id) AS VARCHAR), 'null')
                    || '}' AS JSON
                )
                ELSE CAST(head AS JSON)
            END,
            json_object(
                'duration_ms', duration_ms, 'status', status,
                'error_type', error_type, 'error_message', error_message,
                'exception', exception, 'logger', logger, 'service', service, 'pid', pid
            ),
            coalesce(attributes, '{}')
        )
    END AS json,
    parse_dirpath(filename) || '/' || source AS filename
FROM (
    SELECT
        *,
        -- The fields before parent_id as JSON text, nulls left out (ts is always there: a line without a
        -- valid one is kept as written).
        CAST(json_merge_patch('{}', json_object(
            'ts', strftime(ts, '%Y-%m-%dT%H:%M:%S.%fZ'), 'level', level, 'event', event,
            'trace_id', trace_id, 'span_id', span_id, 'trace_flags', trace_flags,
            'span', span, 'name', name
        )) AS VARCHAR) AS head
    FROM read_parquet(getvariable('logtrace_parquet'), filename = true)
);
