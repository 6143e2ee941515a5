-- trace_lines: the lines of the files that hold a piece of text (a trace id or its prefix), in
-- the shape of the `lines` view: filename VARCHAR, json JSON (NULL when the line is not JSON).
-- Lines are matched as text first, as grep -F does (much cheaper than parsing every line), so
-- the result can hold a few lines that only mention the text: filter on trace_id afterwards.
-- Parameters: $text VARCHAR. Reads the files of the variable logtrace_files (see lines.sql).
SELECT filename, try_cast(line AS JSON) AS json
FROM read_csv(
    getvariable('logtrace_files'),
    columns = {'line': 'VARCHAR'},
    -- One column per line: a delimiter and no quoting that JSON text never contains.
    delim = '\x01',
    quote = '',
    escape = '',
    new_line = '\n',
    header = false,
    auto_detect = false,
    strict_mode = false,
    ignore_errors = true,
    -- As read_json_objects (16 MiB a line); the buffer stays small under the memory limit.
    max_line_size = 16777216,
    buffer_size = 33554432,
    filename = true
)
WHERE contains(line, $text);
