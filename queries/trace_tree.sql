-- trace_tree: one trace as a tree, one row per span, in display order (depth first; siblings by
-- start time, then span id). The tree comes from parent ids, not clocks: a child whose clock runs
-- behind its parent's still sits under it.
--   depth INTEGER (0 at the top), top_reason VARCHAR (NULL below the top; at the top 'root',
--   'missing_parent' when the parent's lines are not in the files, 'cycle' when bad data made
--   the parent ids loop: the loop is cut at its earliest span), then every column of `spans`
--   and offset_ms DOUBLE (start relative to the trace's earliest start).
-- Parameters: $trace_id, the full 32-hex trace id.
-- Bounded: a walk stops at a span already on its path and at depth 1000, so bad data cannot
-- make it run forever.
WITH RECURSIVE
trace_spans AS (
    SELECT *, coalesce(strftime(start_ts, '%Y-%m-%dT%H:%M:%S.%f'), '9999') || span_id AS sort_key
    FROM spans
    WHERE trace_id = $trace_id
),
-- From every span up its chain of parents: a span that meets itself is on a loop.
up(span_id, next_id, path) AS (
    SELECT span_id, parent_id, [span_id]
    FROM trace_spans
    UNION ALL
    SELECT up.span_id, p.parent_id, list_append(up.path, p.span_id)
    FROM up
    JOIN trace_spans AS p ON p.span_id = up.next_id
    WHERE NOT list_contains(up.path, p.span_id) AND len(up.path) < 1000
),
loops AS (
    SELECT list_sort(path) AS members, span_id FROM up WHERE next_id = span_id
),
loop_cuts AS (
    SELECT arg_min(l.span_id, s.sort_key) AS span_id
    FROM loops AS l
    JOIN trace_spans AS s USING (span_id)
    GROUP BY l.members
),
tops AS (
    SELECT span_id, CASE WHEN parent_id IS NULL THEN 'root' ELSE 'missing_parent' END AS reason
    FROM trace_spans
    WHERE parent_id IS NULL OR parent_id NOT IN (SELECT span_id FROM trace_spans)
    UNION ALL
    SELECT span_id, 'cycle' FROM loop_cuts
),
tree(span_id, depth, top_reason, path, sort_path) AS (
    SELECT t.span_id, 0, t.reason, [t.span_id], [s.sort_key]
    FROM tops AS t
    JOIN trace_spans AS s USING (span_id)
    UNION ALL
    SELECT c.span_id, tree.depth + 1, NULL, list_append(tree.path, c.span_id),
        list_append(tree.sort_path, c.sort_key)
    FROM tree
    JOIN trace_spans AS c ON c.parent_id = tree.span_id
    WHERE NOT list_contains(tree.path, c.span_id)
        AND c.span_id NOT IN (SELECT span_id FROM loop_cuts)
        AND tree.depth < 1000
)
SELECT
    tree.depth,
    tree.top_reason,
    s.* EXCLUDE (sort_key),
    date_diff('microsecond', min(s.start_ts) OVER (), s.start_ts) / 1000.0 AS offset_ms
FROM tree
JOIN trace_spans AS s USING (span_id)
ORDER BY tree.sort_path;
