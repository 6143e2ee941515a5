"""Exports of traces to other formats and backends (OTLP, Chrome/Perfetto, Jaeger, Zipkin)."""
