-- split_spans: whether the span files read hold a fragment (a row of a span whose start and
-- end lines were compacted in different batches, or whose end is in a file not compacted yet):
-- split BOOLEAN. The reader runs it before it binds `spans`: without fragments, whole_spans.sql
-- stands in for spans.sql. Each file's min/max statistics of has_start and has_end answer it
-- without reading rows (a batch without fragments has has_start and has_end true throughout).
-- Parameters: none; the files come from the variable logtrace_span_rows, as in span_rows.sql.
SELECT
    EXISTS (FROM read_parquet(getvariable('logtrace_span_rows')) WHERE NOT has_start)
    OR EXISTS (FROM read_parquet(getvariable('logtrace_span_rows')) WHERE NOT has_end) AS split;
