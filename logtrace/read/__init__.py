"""The read side: what runs afterwards, on files — finding them, DuckDB views, queries, tail,
compaction. It never imports the sink; it shares only ``logtrace.format`` with the write side.
"""
