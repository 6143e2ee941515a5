-- lines: every line of the files, as read: the JSONL files and the compacted Parquet files.
--   filename  VARCHAR  the JSONL file the line came from (for a compacted line, where it was)
--   json      JSON     the line; NULL when it is not JSON (a torn last line, text from another
--                      program): such lines are counted by skipped_lines.sql, never an error.
--                      A compacted line is rebuilt from its columns (see compacted.sql)
-- Parameters: none. Needs the views `jsonl_lines` (jsonl_lines.sql) and `compacted`
-- (compacted.sql).
CREATE OR REPLACE VIEW lines AS
SELECT filename, json FROM jsonl_lines
UNION ALL
SELECT filename, json FROM compacted;
