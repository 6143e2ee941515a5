-- trace_spans: the spans of one trace, unordered: every column of `spans`. `Reader.trace()`
-- puts them in tree order in Python (`logtrace._tree`), in time linear in the number of spans
-- whatever the depth of the parent chains; `trace_tree.sql` does the same in SQL for the duckdb
-- shell, bounded at depth 1000.
-- Parameters: $trace_id, the full 32-hex trace id.
SELECT * FROM spans WHERE trace_id = $trace_id;
