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
SELECT filename, json
FROM read_json_objects(
    getvariable('logtrace_files'),
    format = 'newline_delimited',
    ignore_errors = true,
    filename = true
);
