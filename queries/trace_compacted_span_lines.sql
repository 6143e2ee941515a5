-- trace_compacted_span_lines: the span lines of compacted files without a span file
-- (compacted_span_lines.sql) of the traces whose id begins with a prefix, every column of
-- `compacted_span_lines`.
-- Parameters: $prefix VARCHAR, lowercase hex. Needs the view `compacted_span_lines`.
SELECT *
FROM compacted_span_lines
WHERE trace_id >= $prefix AND trace_id < $prefix || 'g';
