"""How cost grows: the compacted 1 GB history made N times bigger, and the same history in a bucket.

    python benchmarks/bench_scale.py COMPACTED --copies 10       # ~10 GB of JSONL, compacted
    python benchmarks/bench_scale.py COMPACTED --s3              # the 1 GB in moto's S3 server

COMPACTED is a compacted benchmark history (bench_history.py leaves one under
/tmp/logtrace-bench-history/compacted/logtrace). ``--copies N`` writes N copies of its compacted
and span files, each shifted 12 hours later (timestamps, and the time prefix of every trace id,
so lookups prune as on real history): the history of N times 12 hours, N times the JSONL. Generating
10 GB of JSONL and compacting it would take hours on this machine; the files compaction would
write are the same shape. ``--s3`` publishes COMPACTED to a bucket of a moto server on
127.0.0.1 and asks the same questions there, with the bytes read (the process's ``rchar``).
Medians of ``--reps`` runs, each on a fresh ``logtrace.open``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

import logtrace

SHIFT = dt.timedelta(hours=12)
FILTERS = dict.fromkeys(["since", "until", "service", "name", "status", "min_duration_ms"])
SHIFTED = {
    "compacted": "* REPLACE (ts + $shift AS ts, {tid} AS trace_id)",
    "spans": "* REPLACE (start_ts + $shift AS start_ts, end_ts + $shift AS end_ts, "
    "{tid} AS trace_id)",
}
TRACE_ID = (
    "CASE WHEN regexp_full_match(trace_id, '[0-9a-f]{{32}}') THEN lpad(lower(printf('%x', "
    "CAST('0x' || left(trace_id, 12) AS BIGINT) + {ms})), 12, '0') || substr(trace_id, 13) "
    "ELSE trace_id END"
)


def grow(source: Path, out: Path, copies: int) -> None:
    """Write ``copies`` time-shifted copies of the compacted history ``source`` into ``out``
    (files already there, of an earlier run cut short, are kept)."""
    con = duckdb.connect()
    for k in range(copies):
        shift = SHIFT * k
        for path in sorted(source.rglob("compacted_*.parquet")):
            _, first, last, digest = path.stem.split("_")
            start = dt.datetime.strptime(first, "%Y%m%dT%H%M%S") + shift
            end = dt.datetime.strptime(last, "%Y%m%dT%H%M%S") + shift
            day = out / start.strftime("%Y-%m-%d")
            day.mkdir(parents=True, exist_ok=True)
            stem = f"{start:%Y%m%dT%H%M%S}_{end:%Y%m%dT%H%M%S}_{digest[:9]}{k:03x}"
            for kind in ("spans", "compacted"):
                target = day / f"{kind}_{stem}.parquet"
                if target.exists():
                    continue
                file = path.with_name(path.name.replace("compacted_", f"{kind}_", 1))
                select = SHIFTED[kind].format(
                    tid=TRACE_ID.format(ms=int(shift / dt.timedelta(milliseconds=1)))
                )
                order = "trace_id, span_id" if kind == "spans" else "ts"
                con.execute(
                    f"COPY (SELECT {select} FROM read_parquet($f) ORDER BY {order}) TO "
                    f"'{target}.tmp' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 32768)",
                    {"f": str(file), "shift": shift},
                )
                os.replace(f"{target}.tmp", target)


def timed(action: Callable[[], object], reps: int) -> float:
    runs = []
    for _ in range(reps):
        started = time.perf_counter()
        action()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def rchar() -> int:
    with open("/proc/self/io") as io:
        return int(next(line for line in io if line.startswith("rchar")).split()[1])


def questions(location: str, reps: int) -> dict[str, tuple[float, int]]:
    """Median seconds and bytes read of show, percentiles and ls --since 1h."""
    with logtrace.open(location, pruning=False) as reader:
        ids = [r["trace_id"] for r in reader.execute("SELECT trace_id FROM span_rows LIMIT 100000")]
        end = reader.execute("SELECT max(end_ts) AS e FROM span_rows")[0]["e"]
    picks = iter(random.Random(1).sample(ids, reps * 2))
    since = end - dt.timedelta(hours=1)

    def show() -> None:
        with logtrace.open(location) as reader:
            reader.trace(next(picks))

    def percentiles() -> None:
        with logtrace.open(location) as reader:
            reader.query("span_percentiles_no_attr", **FILTERS)

    def recent() -> None:
        with logtrace.open(location, since=since) as reader:
            reader.query("recent_traces_no_attr", limit=20, **{**FILTERS, "since": since})

    result = {}
    for name, action in (("show", show), ("percentiles", percentiles), ("ls --since 1h", recent)):
        before = rchar()
        seconds = timed(action, reps)
        result[name] = (seconds, (rchar() - before) // reps)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("compacted", type=Path)
    parser.add_argument("--copies", type=int, default=0)
    parser.add_argument("--s3", action="store_true")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--work", type=Path, default=Path("/tmp/logtrace-bench-scale"))
    args = parser.parse_args()
    location = str(args.compacted)
    if args.copies:
        started = time.perf_counter()
        grow(args.compacted, args.work / "grown", args.copies)
        print(f"{args.copies} copies written in {time.perf_counter() - started:.0f} s")
        location = str(args.work / "grown")
    server = None
    if args.s3:
        from moto.server import ThreadedMotoServer

        from logtrace.read.publish import publish

        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        os.environ.update(
            AWS_ACCESS_KEY_ID="bench",
            AWS_SECRET_ACCESS_KEY="bench",
            AWS_DEFAULT_REGION="us-east-1",
            AWS_ENDPOINT_URL_S3=f"http://{host}:{port}",
        )
        import fsspec

        fsspec.filesystem("s3").mkdir("bench")
        copy = args.work / "to-publish"
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(location, copy)
        publish(copy, "s3://bench/history")
        location = "s3://bench/history"
    files = [p for p in Path(location).rglob("*.parquet")] if not args.s3 else []
    size = sum(p.stat().st_size for p in files)
    print(
        f"{location}: {len(files) or '(bucket)'} files, {size / 1e6:.0f} MB" if files else location
    )
    print("| question | median | bytes read |\n|---|---:|---:|")
    for name, (seconds, read) in questions(location, args.reps).items():
        print(f"| {name} | {seconds:.3f} s | {read / 1e6:.1f} MB |")
    if server is not None:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
