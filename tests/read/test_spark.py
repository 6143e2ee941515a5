"""Spark SQL (pyspark, local mode) reads shared history with no logtrace code, and agrees.

Run by ``tox -e spark`` (LOGTRACE_SUITES=spark); skipped by the default run. One SparkSession
for the module: starting one costs ~25 s.
"""

from __future__ import annotations

import importlib
import os
import random
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import T0, span_lines, write_jsonl
from test_compact import file_name, trace_id_at
from test_publish import host_history

import logtrace
from logtrace.read.compact import compact
from logtrace.read.publish import publish
from logtrace.read.queries import queries_dir

pytestmark = pytest.mark.spark
SPARK_SQL = queries_dir() / "spark"


def need_spark() -> Any:
    """pyspark and Java, or a skip (a failure with LOGTRACE_REQUIRE_TOOLS=1)."""
    required = os.environ.get("LOGTRACE_REQUIRE_TOOLS") == "1"
    try:
        module = importlib.import_module("pyspark.sql")
    except ImportError:
        (pytest.fail if required else pytest.skip)("pyspark is missing (pip install pyspark)")
    if shutil.which("java") is None:
        (pytest.fail if required else pytest.skip)("java is missing (openjdk-17-jre-headless)")
    return module


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A shared directory with the published history of two hosts, one batch per file."""
    shared = tmp_path_factory.mktemp("shared")
    for n, host in enumerate(["app-1", "app-2"]):
        root = tmp_path_factory.mktemp(host) / "logtrace"
        host_history(root, host, seed=10 + n, hours=6)
        long_span(root, host, trace_id_at(T0, random.Random(n)))
        compact(root, batch_bytes=1)
        publish(root, str(shared))
    return shared


@pytest.fixture(scope="module")
def spark(shared: Path) -> Iterator[Any]:
    """One local SparkSession on 127.0.0.1 (no UI), the span files as the view span_files."""
    sql = need_spark()
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    session = (
        sql.SparkSession.builder.master("local[2]")
        .appName("logtrace-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.host", "127.0.0.1")
        .getOrCreate()
    )
    session.read.parquet(f"{shared}/day=*/spans_*.parquet").createOrReplaceTempView("span_files")
    session.sql((SPARK_SQL / "spans.sql").read_text())
    try:
        yield session
    finally:
        session.stop()


def long_span(root: Path, host: str, trace_id: str) -> None:
    """A span started in one file and ended in the next: a fragment in each batch."""
    start, end = span_lines(trace_id, "e" * 16, None, "long", 10, 3_600_000, pid=7)
    for hour, line in enumerate([start, end]):
        name = file_name("batch", 7, T0 + timedelta(hours=hour)).replace("_host_", f"_{host}_")
        write_jsonl(root / T0.strftime("%Y-%m-%d") / name, [line])


def run(spark: Any, name: str, **args: Any) -> list[dict[str, Any]]:
    """A file of queries/spark/, its rows as dicts."""
    text = (SPARK_SQL / f"{name}.sql").read_text()
    return [row.asDict() for row in spark.sql(text, args=args or None).collect()]


def test_spark_percentiles_agree_with_logtrace(spark: Any, shared: Path) -> None:
    """Per span name: counts exact, percentiles within percentile_approx's approximation."""
    theirs = {row["name"]: row for row in run(spark, "span_percentiles")}
    with logtrace.open(shared) as reader:
        ours = reader.query(
            "span_percentiles",
            **dict.fromkeys(["since", "until", "service", "name", "status", "min_duration_ms"]),
            attr_key=None,
            attr_value=None,
        )
        for row in ours:
            other = theirs[row["name"]]
            for key in ("count", "errors", "unfinished"):
                assert other[key] == row[key], (row["name"], key)
            for q in (0.50, 0.95, 0.99):
                slack = 1 / row["count"] + 0.01
                low, high = reader.execute(
                    "SELECT quantile_cont(duration_ms, $a) AS low, quantile_cont(duration_ms, $b)"
                    " AS high FROM spans WHERE name = $n",
                    {"a": max(q - slack, 0.0), "b": min(q + slack, 1.0), "n": row["name"]},
                )[0].values()
                value = other[f"p{round(q * 100)}_ms"]
                assert low <= value <= high, (row["name"], q, low, value, high)
    assert set(theirs) == {row["name"] for row in ours}


def test_spark_error_traces_agree_with_logtrace(spark: Any, shared: Path) -> None:
    """The same failed traces, with the same span and error counts and first failed span."""
    theirs = {
        row["trace_id"]: (row["span_count"], row["error_count"], row["first_error_span"])
        for row in run(spark, "error_traces")
    }
    with logtrace.open(shared) as reader:
        rows = reader.query("error_traces", since=None, limit=10_000)
    ours = {r["trace_id"]: (r["span_count"], r["error_count"], r["first_error_span"]) for r in rows}
    assert theirs == ours and ours


def test_spark_reads_one_trace_as_logtrace_shows_it(spark: Any, shared: Path) -> None:
    """One trace by id: the same spans, names, statuses and durations."""
    with logtrace.open(shared) as reader:
        trace_id = reader.execute("SELECT trace_id FROM traces ORDER BY trace_id LIMIT 1")[0][
            "trace_id"
        ]
        ours = reader.trace(trace_id).spans
    theirs = run(spark, "trace", trace_id=trace_id)
    assert sorted((s["span_id"], s["name"], s["status"], s["duration_ms"]) for s in ours) == (
        sorted((s["span_id"], s["name"], s["status"], s["duration_ms"]) for s in theirs)
    )
