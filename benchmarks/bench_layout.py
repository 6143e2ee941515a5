"""Layouts of span rows, measured: sort order, row-group size and partitions, on the same spans.

    python benchmarks/bench_layout.py DIR        # DIR: a compacted history (spans_*.parquet)
    python benchmarks/bench_layout.py DIR --reps 7

For each layout the span rows of DIR are written again (DuckDB, zstd) and measured on the two
questions people ask most: one trace by id (time, and row groups whose min/max statistics
admit the id, out of all) and p95 per span name over everything; plus the bytes on disk. The
Markdown table goes to stdout (docs/scaling.md keeps one).
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import time
from pathlib import Path

import duckdb

LAYOUTS = [
    # name, ORDER BY, row-group size, PARTITION_BY
    ("trace_id, 32k rows (chosen)", "trace_id, span_id", 32_768, None),
    ("trace_id, 100k rows", "trace_id, span_id", 100_000, None),
    ("trace_id, 1M rows", "trace_id, span_id", 1_000_000, None),
    ("name, start_ts, 100k rows", "name, start_ts", 100_000, None),
    ("file order (unsorted), 100k rows", None, 100_000, None),
    ("day/service partitions, trace_id, 100k", "trace_id, span_id", 100_000, "day, service"),
]
P95 = "SELECT name, quantile_cont(duration_ms, 0.95) FROM read_parquet($f) GROUP BY name"
ONE = "SELECT * FROM read_parquet($f, hive_partitioning = true) WHERE trace_id = $t"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--work", type=Path, default=Path("/tmp/logtrace-bench-layout"))
    args = parser.parse_args()
    source = [str(p) for p in sorted(args.dir.rglob("spans_*.parquet"))]
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute(
        "CREATE TABLE s AS SELECT *, strftime(start_ts, '%Y-%m-%d') AS day "
        "FROM read_parquet($f) ORDER BY start_ts",
        {"f": source},
    )
    ids = [r[0] for r in con.execute("SELECT DISTINCT trace_id FROM s").fetchall()]
    picks = random.Random(5).sample(ids, args.reps)
    print("| layout | MB | one trace | row groups admitted (of all) | p95 per name |")
    print("|---|---:|---:|---:|---:|")
    for name, order, rows, partition in LAYOUTS:
        out = args.work / name.split(" ")[0].strip(",/")
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        select = "SELECT * FROM s" + (f" ORDER BY {order}" if order else "")
        options = f"FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {rows}"
        if partition:
            target = str(out)
            options += f", PARTITION_BY ({partition})"
        else:
            select = select.replace("SELECT *", "SELECT * EXCLUDE (day)")
            target = str(out / "spans.parquet")
        con.execute(f"COPY ({select}) TO '{target}' ({options})")
        files = [str(p) for p in sorted(out.rglob("*.parquet"))]
        size = sum(Path(p).stat().st_size for p in files) / 1e6
        one, admitted = [], []
        for trace_id in picks:
            fresh = duckdb.connect()  # cold: no cached footers, as a CLI run
            started = time.perf_counter()
            fresh.execute(ONE, {"f": files, "t": trace_id}).fetchall()
            one.append(time.perf_counter() - started)
            fresh.close()
            admitted.append(
                con.execute(
                    "SELECT count(*) FILTER (WHERE stats_min_value <= $t AND $t <= "
                    "stats_max_value), count(*) FROM parquet_metadata($f) "
                    "WHERE path_in_schema = 'trace_id'",
                    {"f": files, "t": trace_id},
                ).fetchone()
            )
        p95 = []
        for _ in range(args.reps):
            fresh = duckdb.connect()
            started = time.perf_counter()
            fresh.execute(P95, {"f": files}).fetchall()
            p95.append(time.perf_counter() - started)
            fresh.close()
        hit = statistics.median(a[0] for a in admitted)
        total = admitted[0][1]
        print(
            f"| {name} | {size:.1f} | {statistics.median(one) * 1000:.0f} ms | "
            f"{hit:.0f} of {total} | {statistics.median(p95) * 1000:.0f} ms |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
