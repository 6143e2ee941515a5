-- trace_compacted: the rows of the compacted files that belong to the traces whose id begins
-- with a prefix (an abbreviated id), in the shape of the `compacted` view (see compacted.sql).
-- Rows of a compacted file are in time order and ids begin with their time, so DuckDB reads
-- only the row groups whose min and max trace id can hold it.
-- Parameters: $prefix VARCHAR, lowercase hex; $trace_id VARCHAR, the full id when known (NULL:
-- any id with the prefix): an equality lets DuckDB skip the row groups whose bloom filter
-- on trace_id lacks it. Needs the view `compacted`.
SELECT *
FROM compacted
-- A range, not starts_with(): a range is checked against each row group's min and max.
WHERE trace_id >= $prefix AND trace_id < $prefix || 'g'
    AND ($trace_id IS NULL OR trace_id = $trace_id);
