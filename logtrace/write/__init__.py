"""The write side: what runs inside the user's program, on its hot path.

Ids, context, spans, ``traced``, propagation, the processor chain, redaction, the stdlib bridge,
sampling and configuration. It never imports the read side (nor DuckDB); ``write.sink`` holds the
file sink.
"""
