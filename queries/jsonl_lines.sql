-- jsonl_lines: every line of the JSONL files (plain .jsonl and compressed .jsonl.zst), as read.
-- One row per non-empty line.
--   filename  VARCHAR  the file the line came from
--   json      JSON     the line; NULL when it is not JSON (a torn last line, text from another
--                      program): such lines are counted by skipped_lines.sql, never an error
-- Parameters: none; the files come from the variable logtrace_files, a glob or a list of paths:
--   SET VARIABLE logtrace_files = 'logtrace/*/*.jsonl*';
-- Nothing is auto-detected: each line is read whole, so no key is lost whatever file it first
-- appears in.
CREATE OR REPLACE VIEW jsonl_lines AS
-- A line over 16 MiB (logtrace writes at most 256 KiB) is skipped and counted as unreadable:
-- its bytes (strlen; length counts characters), as every other reader measures it.
SELECT filename, CASE WHEN strlen(json::VARCHAR) <= 16777216 THEN json END AS json
FROM read_json_objects(
    getvariable('logtrace_files'),
    format = 'newline_delimited',
    ignore_errors = true,
    -- Foreign lines up to 64 MiB are read (and judged); DuckDB's default stops at 16 MiB.
    maximum_object_size = 67108864,
    filename = true
);
