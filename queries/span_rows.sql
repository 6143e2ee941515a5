-- span_rows: the rows of the span files written by `logtrace compact` (`spans_….parquet`, one
-- per compacted batch, next to its `compacted_….parquet` file), one per span of the batch, its
-- start and end lines joined (columns: see compact_spans.sql and docs/scaling.md), and
-- filename VARCHAR (the JSONL file the span's first line came from, where it was).
-- A row with has_start and has_end is a whole span; the others are fragments of a span whose
-- lines are in different batches, merged by loose_span_lines.sql and spans.sql.
-- Parameters: none; the files come from the variable logtrace_span_rows (a glob or a list):
--   SET VARIABLE logtrace_span_rows = 'logtrace/*/spans_*.parquet';
CREATE OR REPLACE VIEW span_rows AS
SELECT
    * EXCLUDE (source, filename),
    parse_dirpath(filename) || '/' || source AS filename
FROM read_parquet(getvariable('logtrace_span_rows'), filename = true);
