"""One benchmark case, run in a fresh process: ``python benchmarks/_cases.py CASE --ops N --dir D``.

``run.py`` starts this script once per case and repetition, so the global state that
``logtrace.configure()``, ``structlog.configure()`` and OpenTelemetry's providers leave behind
never leaks from one case into another. Each case sets itself up, runs a warm-up, then times a
loop of ``--ops`` operations, and ends the timed region once the lines are in the file (the
sink's ``flush()``, OpenTelemetry's ``force_flush()``, the file's ``flush()``). It prints one
JSON object on stdout:

- ``seconds``: the timed region, lines on disk included; ``hot_seconds``: the loop alone;
  ``cpu_seconds``: CPU time of the whole process (every thread, the writer's included) over the
  timed region, less disturbed than wall time by other programs on a busy machine;
- ``ops``: operations timed (spans for span cases, so nested cases count three per iteration);
- ``lines`` / ``lines_expected``: matching lines found in the files afterwards, so a case that
  drops lines (a full queue) is caught instead of looking fast; ``disk_lines`` and
  ``disk_bytes``: every line and byte of the files (warm-up included), for line volume;
- ``maxrss_kb``: the process's peak resident memory (``VmHWM`` from ``/proc/self/status``;
  ``ru_maxrss`` where there is no ``/proc``), and ``rss_before_kb``, the same read just before
  the timed loop. ``ru_maxrss`` itself is kept as ``ru_maxrss_kb``: on Linux it carries the
  parent's peak over fork and exec, so it never reads below the size of ``run.py``'s process.

Only the modules a case needs are imported, so peak memory compares like with like.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import logging
import os
import resource
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

ATTRS = {"a": 1, "b": "x", "c": 2.5}


class Plan(NamedTuple):
    """What a case hands to the timer."""

    loop: Callable[[int, int], None]  # loop(first, count): the operations, numbered
    finish: Callable[[], None]  # gets every line of the loop into the file
    per_iteration: int  # operations per loop iteration (spans per nested iteration)
    marker: bytes  # a line holding this is one of ours
    lines_per_iteration: int  # marker lines each iteration leaves in the files
    close: Callable[[], None]  # after timing: close files, stop threads


# -- competitors -------------------------------------------------------------------------------


def _otel_tracer(
    path: Path, ops: int, sampler: Any = None, fast: bool = False
) -> tuple[Any, Callable[[], None], Any]:
    """An OpenTelemetry SDK tracer: BatchSpanProcessor into a JSON-lines file exporter, the
    SDK's ``to_json`` or (``fast``) a dict of the span's fields through ``orjson.dumps``."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        SpanExporter,
        SpanExportResult,
    )

    class JsonLinesExporter(SpanExporter):
        """One ``span.to_json(indent=None)`` line per ended span."""

        def __init__(self, file_path: Path) -> None:
            self.file = open(file_path, "w", encoding="utf-8")  # noqa: SIM115

        def export(self, spans: Any) -> SpanExportResult:
            write = self.file.write
            for span in spans:
                write(span.to_json(indent=None) + "\n")
            return SpanExportResult.SUCCESS

        def force_flush(self, timeout_millis: int = 30000) -> bool:
            self.file.flush()
            return True

        def shutdown(self) -> None:
            self.file.close()

    class OrjsonLinesExporter(JsonLinesExporter):
        """One ``orjson.dumps`` line per ended span: the strongest exporter we could write."""

        def __init__(self, file_path: Path) -> None:
            self.file = open(file_path, "wb")  # noqa: SIM115

        def export(self, spans: Any) -> SpanExportResult:
            import orjson

            write, dumps = self.file.write, orjson.dumps
            for span in spans:
                ctx, parent = span.context, span.parent
                write(dumps({
                    "name": span.name,
                    "trace_id": f"{ctx.trace_id:032x}",
                    "span_id": f"{ctx.span_id:016x}",
                    "parent_id": None if parent is None else f"{parent.span_id:016x}",
                    "kind": span.kind.name,
                    "start_time": span.start_time,
                    "end_time": span.end_time,
                    "status": span.status.status_code.name,
                    "attributes": dict(span.attributes),
                    "service": "bench",
                }) + b"\n")  # fmt: skip
            return SpanExportResult.SUCCESS

    exporter = (OrjsonLinesExporter if fast else JsonLinesExporter)(path)
    kwargs: dict[str, Any] = {"resource": Resource.create({"service.name": "bench"})}
    if sampler is not None:
        kwargs["sampler"] = sampler
    provider = TracerProvider(**kwargs)
    # The default queue (2048) drops spans whenever the loop outruns the exporter, which would
    # flatter OpenTelemetry: size it so every span of the run reaches the file.
    provider.add_span_processor(BatchSpanProcessor(exporter, max_queue_size=max(2048, ops * 2)))

    def finish() -> None:
        provider.force_flush()
        exporter.force_flush()

    return provider.get_tracer("bench"), finish, provider


def otel_span(depth: int, fast: bool = False) -> Callable[[Path, int], Plan]:
    def setup(directory: Path, ops: int) -> Plan:
        path = directory / "otel.jsonl"
        tracer, finish, provider = _otel_tracer(path, ops * depth, fast=fast)
        start = tracer.start_as_current_span

        def loop(first: int, count: int) -> None:
            for i in range(first, first + count):
                if depth == 1:
                    with start("request", attributes={"a": i, "b": "x", "c": 2.5}):
                        pass
                else:
                    with start("request", attributes={"a": i, "b": "x", "c": 2.5}):
                        with start("query", attributes={"a": i, "b": "y", "c": 3.5}):
                            with start("row", attributes={"a": i, "b": "z", "c": 4.5}):
                                pass

        return Plan(loop, finish, depth, b'"trace_id"', depth, provider.shutdown)

    return setup


def otel_sampled_out(directory: Path, ops: int) -> Plan:
    from opentelemetry.sdk.trace.sampling import TraceIdRatioBased

    tracer, finish, provider = _otel_tracer(directory / "otel.jsonl", ops, TraceIdRatioBased(0))
    start = tracer.start_as_current_span

    def loop(first: int, count: int) -> None:
        for i in range(first, first + count):
            with start("request", attributes={"a": i, "b": "x", "c": 2.5}):
                pass

    return Plan(loop, finish, 1, b'"trace_id"', 0, provider.shutdown)


def eliot_action(depth: int) -> Callable[[Path, int], Plan]:
    def setup(directory: Path, ops: int) -> Plan:
        from eliot import start_action, to_file

        out = open(directory / "eliot.jsonl", "wb")  # noqa: SIM115
        to_file(out)

        def loop(first: int, count: int) -> None:
            for i in range(first, first + count):
                if depth == 1:
                    with start_action(action_type="request", a=i, b="x", c=2.5):
                        pass
                else:
                    with start_action(action_type="request", a=i, b="x", c=2.5):
                        with start_action(action_type="query", a=i, b="y", c=3.5):
                            with start_action(action_type="row", a=i, b="z", c=4.5):
                                pass

        return Plan(loop, out.flush, depth, b'"action_status"', 2 * depth, out.close)

    return setup


def floor_span(depth: int, pair: bool = False) -> Callable[[Path, int], Plan]:
    """The hand-written floor: logtrace's end line per span (with ``pair``, its start line too,
    as every span wrote before format 2), ``orjson.dumps``, buffered write."""

    def setup(directory: Path, ops: int) -> Plan:
        import orjson

        out = open(directory / "floor.jsonl", "wb")  # noqa: SIM115
        write, dumps, urandom = out.write, orjson.dumps, os.urandom
        wall, mono, pid = time.time_ns, time.perf_counter_ns, os.getpid()
        cache = [-1, ""]

        def ts(ns: int) -> str:
            sec, rem = divmod(ns, 1_000_000_000)
            if cache[0] != sec:
                cache[0], cache[1] = sec, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
            return f"{cache[1]}.{rem // 1000:06d}Z"

        def span(name: str, trace_id: str, parent_id: str | None, a: int, b: str, c: float,
                 inner: Callable[[str], None] | None) -> None:  # fmt: skip
            span_id = urandom(8).hex()
            started = mono()
            if pair:
                write(dumps({
                    "ts": ts(wall()), "level": "info", "event": name, "trace_id": trace_id,
                    "span_id": span_id, "trace_flags": "01", "span": "start", "name": name,
                    "parent_id": parent_id, "logger": "logtrace", "service": "bench",
                    "pid": pid, "a": a, "b": b, "c": c,
                }) + b"\n")  # fmt: skip
            if inner is not None:
                inner(span_id)
            duration = round((mono() - started) / 1e6, 3)
            write(dumps({
                "ts": ts(wall()), "level": "info", "event": name, "trace_id": trace_id,
                "span_id": span_id, "trace_flags": "01", "span": "end", "name": name,
                "parent_id": parent_id, "duration_ms": duration, "status": "ok",
                "logger": "logtrace", "service": "bench", "pid": pid, "a": a, "b": b, "c": c,
            }) + b"\n")  # fmt: skip

        def loop(first: int, count: int) -> None:
            for i in range(first, first + count):
                trace_id = urandom(16).hex()
                if depth == 1:
                    span("request", trace_id, None, i, "x", 2.5, None)
                else:

                    def row(parent: str, i: int = i, trace_id: str = trace_id) -> None:
                        span("row", trace_id, parent, i, "z", 4.5, None)

                    def query(parent: str, i: int = i, trace_id: str = trace_id) -> None:
                        span("query", trace_id, parent, i, "y", 3.5, row)

                    span("request", trace_id, None, i, "x", 2.5, query)

        return Plan(loop, out.flush, depth, b'"span":"end"', depth, out.close)

    return setup


def plain_structlog(directory: Path, ops: int) -> Plan:
    """structlog as its docs suggest for speed: orjson renderer, BytesLogger, cached logger."""
    import orjson
    import structlog

    out = open(directory / "structlog.jsonl", "wb")  # noqa: SIM115
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.processors.JSONRenderer(serializer=orjson.dumps),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        logger_factory=structlog.BytesLoggerFactory(file=out),
        cache_logger_on_first_use=True,
    )
    log = structlog.get_logger("bench")

    def loop(first: int, count: int) -> None:
        for i in range(first, first + count):
            log.info("task done", task_id=i, queue="default")

    return Plan(loop, out.flush, 1, b'"task done"', 1, out.close)


class JsonFormatter(logging.Formatter):
    """The usual hand-rolled JSON formatter: ``json.dumps`` of a dict of the record."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(
            {
                "ts": self.formatTime(record),
                "level": record.levelname.lower(),
                "event": record.getMessage(),
                "logger": record.name,
                "pid": record.process,
            }
        )


def stdlib_json(directory: Path, ops: int) -> Plan:
    handler = logging.FileHandler(directory / "stdlib.jsonl")
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    log = logging.getLogger("bench")

    def loop(first: int, count: int) -> None:
        for i in range(first, first + count):
            log.info("task %d done", i)

    return Plan(loop, handler.flush, 1, b'"task ', 1, handler.close)


def stdlib_noop_handler(directory: Path, ops: int) -> Plan:
    """The stdlib's own share of a log call: record, caller lookup, a handler that does nothing.

    No handler on the stdlib path can cost less, so this bounds what ``lt_stdlib`` can reach.
    """

    class NoopHandler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            pass

    root = logging.getLogger()
    root.addHandler(NoopHandler())
    root.setLevel(logging.INFO)
    log = logging.getLogger("bench")

    def loop(first: int, count: int) -> None:
        for i in range(first, first + count):
            log.info("task %d done", i)

    return Plan(loop, lambda: None, 1, b"-", 0, lambda: None)


class NoopSpan:
    """The cheapest span-shaped object: keyword arguments in, ``with`` block, nothing else."""

    __slots__ = ("attributes", "name")

    def __init__(self, name: str, **attributes: Any) -> None:
        self.name = name
        self.attributes = attributes

    def __enter__(self) -> NoopSpan:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def noop_span(directory: Path, ops: int) -> Plan:
    """``with NoopSpan("request", a=i, b="x", c=2.5)``: what Python itself charges for a span."""

    def loop(first: int, count: int) -> None:
        for i in range(first, first + count):
            with NoopSpan("request", a=i, b="x", c=2.5):
                pass

    return Plan(loop, lambda: None, 1, b"-", 0, lambda: None)


# -- logtrace ----------------------------------------------------------------------------------


def _configure(directory: Path, **settings: Any) -> Any:
    import logtrace

    logtrace.configure(service="bench", directory=directory / "lt", environ={}, **settings)
    return logtrace


def _lt_finish(logtrace: Any) -> Callable[[], None]:
    return lambda: logtrace.flush(timeout=120)


def logtrace_span(
    depth: int, unsampled: bool = False, **settings: Any
) -> Callable[[Path, int], Plan]:
    """Spans with 3 attributes; ``unsampled`` uses the ``never`` sampler."""

    def setup(directory: Path, ops: int) -> Plan:
        if unsampled:
            from logtrace.write import sampling

            settings["sampler"] = sampling.never
        logtrace = _configure(directory, **settings)
        span = logtrace.span

        def loop(first: int, count: int) -> None:
            for i in range(first, first + count):
                if depth == 1:
                    with span("request", a=i, b="x", c=2.5):
                        pass
                else:
                    with span("request", a=i, b="x", c=2.5):
                        with span("query", a=i, b="y", c=3.5):
                            with span("row", a=i, b="z", c=4.5):
                                pass

        writes = settings.get("enabled", True) and not unsampled
        return Plan(
            loop,
            _lt_finish(logtrace),
            depth,
            b'"span":"end"',
            depth if writes else 0,
            logtrace.shutdown,
        )

    return setup


def logtrace_structlog(directory: Path, ops: int) -> Plan:
    logtrace = _configure(directory)
    import structlog

    log = structlog.get_logger("bench")
    outer = logtrace.span("request")  # every line carries its trace and span ids
    outer.__enter__()

    def close() -> None:
        outer.__exit__(None, None, None)
        logtrace.shutdown()

    def loop(first: int, count: int) -> None:
        for i in range(first, first + count):
            log.info("task done", task_id=i, queue="default")

    return Plan(loop, _lt_finish(logtrace), 1, b'"task done"', 1, close)


def logtrace_stdlib(directory: Path, ops: int) -> Plan:
    logtrace = _configure(directory)
    log = logging.getLogger("bench")
    outer = logtrace.span("request")
    outer.__enter__()

    def close() -> None:
        outer.__exit__(None, None, None)
        logtrace.shutdown()

    def loop(first: int, count: int) -> None:
        for i in range(first, first + count):
            log.info("task %d done", i)

    return Plan(loop, _lt_finish(logtrace), 1, b'"event":"task ', 1, close)


def split_over_threads(
    work: Callable[[int, int], None], threads: int
) -> Callable[[int, int], None]:
    """A loop that runs ``work`` on ``threads`` threads, each taking its share of the range."""

    def loop(first: int, count: int) -> None:
        if threads == 1:
            work(first, count)
            return
        bounds = [first + count * k // threads for k in range(threads + 1)]
        workers = [
            threading.Thread(target=work, args=(bounds[k], bounds[k + 1] - bounds[k]))
            for k in range(threads)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

    return loop


def logtrace_threads(threads: int) -> Callable[[Path, int], Plan]:
    """A span with 3 attributes and a structlog line inside, the loop split over threads."""

    def setup(directory: Path, ops: int) -> Plan:
        logtrace = _configure(directory)
        import structlog

        span, log = logtrace.span, structlog.get_logger("bench")

        def work(first: int, count: int) -> None:
            for i in range(first, first + count):
                with span("task", a=i, b="x", c=2.5):
                    log.info("task done", task_id=i)

        return Plan(
            split_over_threads(work, threads),
            _lt_finish(logtrace),
            1,
            b'"task done"',
            1,
            logtrace.shutdown,
        )

    return setup


def floor_threads(threads: int) -> Callable[[Path, int], Plan]:
    """Control: the hand-written floor's spans split over threads, into one buffered file.

    Shows what the GIL alone charges for going from 1 thread to 2 with no tracing library.
    """

    def setup(directory: Path, ops: int) -> Plan:
        plan = floor_span(1)(directory, ops)
        return plan._replace(loop=split_over_threads(plan.loop, threads))

    return setup


# cpu_work iterations per op of the pure-Python thread control: about what a traced span with
# its log line costs on the machine of docs/benchmarks.md (8-11 µs).
PYTHON_THREADS_WORK = 150


def python_threads(threads: int) -> Callable[[Path, int], Plan]:
    """Control: pure-Python work of about a traced span's cost per op (no tracing, no files),
    split over threads: what the GIL charges any Python code for going from 1 thread to 2 in
    the same run, the bound the logtrace case can at best reach."""

    def setup(directory: Path, ops: int) -> Plan:
        def work(first: int, count: int) -> None:
            for _ in range(first, first + count):
                cpu_work(PYTHON_THREADS_WORK)

        return Plan(split_over_threads(work, threads), lambda: None, 1, b"-", 0, lambda: None)

    return setup


# -- the demo workload -------------------------------------------------------------------------


def cpu_work(iterations: int) -> int:
    """Real CPU work (integer arithmetic), about 1 ms for the calibrated iteration count."""
    acc = 0
    for j in range(iterations):
        acc = (acc * 31 + j) & 0xFFFFFFFF
    return acc


def calibrate(target_s: float = 0.001) -> int:
    """Iterations of ``cpu_work`` that take about ``target_s`` on this machine."""
    iterations = 1000
    while True:
        best = min(_time_work(iterations) for _ in range(5))
        if best >= target_s / 4:
            return max(1, round(iterations * target_s / best))
        iterations *= 4


def _time_work(iterations: int) -> float:
    started = time.perf_counter()
    cpu_work(iterations)
    return time.perf_counter() - started


def work_alone_us(iterations: int, count: int = 200) -> float:
    """µs of one ``cpu_work(iterations)`` in this process (the demo cases: before anything is
    set up, and again after the timed loop).

    A record of the machine, not a divisor: a process of the VM these figures come from runs
    the same loop up to 1.6x faster or slower than the next one, and a process that has just
    started ran it ~19% faster than after its timed loop, in every setup (docs/benchmarks.md).
    """
    for _ in range(count // 10):
        cpu_work(iterations)
    started = time.perf_counter()
    for _ in range(count):
        cpu_work(iterations)
    return (time.perf_counter() - started) / count * 1e6


def demo_setup(
    mode: str, directory: Path, ops: int
) -> tuple[Callable[..., Any], Callable[[], None], Callable[[], None]]:
    """The demo's program set up as ``mode`` says (see ``demo``): its ``span`` function, and
    what flushes its lines and what closes it."""
    import structlog

    if mode == "traced":
        logtrace = _configure(directory)
        return logtrace.span, _lt_finish(logtrace), logtrace.shutdown

    def span(name: str, **attributes: Any) -> contextlib.nullcontext[None]:
        return contextlib.nullcontext()

    if mode == "logs":
        stdlib_plan = stdlib_json(directory, ops)
        structlog_plan = plain_structlog(directory, ops)

        def finish() -> None:
            stdlib_plan.finish()
            structlog_plan.finish()

        def close() -> None:
            stdlib_plan.close()
            structlog_plan.close()

        return span, finish, close
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        cache_logger_on_first_use=True,
    )

    def nothing() -> None:
        pass

    return span, nothing, nothing


def demo(mode: str) -> Callable[[Path, int], Plan]:
    """Batches of 10 tasks; each task a span with ~1 ms of CPU work and three log lines.

    ``traced``: ``configure()``d logtrace, stdlib and structlog routed into its files.
    ``off``: the same calls with a no-op context manager for spans, stdlib logging with no
    handler and structlog filtering below warning (nothing routed, nothing written).
    ``logs``: a program that already logs to JSON files without tracing: no-op spans, stdlib
    through ``JsonFormatter`` to a ``FileHandler``, structlog as in ``plain_structlog``.
    """

    def setup(directory: Path, ops: int) -> Plan:
        import structlog

        iterations = int(os.environ["BENCH_WORK_ITERATIONS"])
        span, finish, close = demo_setup(mode, directory, ops)
        log, slog = logging.getLogger("worker"), structlog.get_logger("worker")

        def loop(first: int, count: int) -> None:
            for start in range(first, first + count, 10):
                with span("batch", first_task=start, size=10):
                    for task_id in range(start, min(start + 10, first + count)):
                        with span("task", task_id=task_id, queue="default", attempt=1):
                            log.info("task %d started", task_id)
                            result = cpu_work(iterations)
                            slog.info("task result", task_id=task_id, result=result)
                            log.info("task %d done", task_id)

        return Plan(loop, finish, 1, b'"task result"', 0 if mode == "off" else 1, close)

    return setup


CASES: dict[str, Callable[[Path, int], Plan]] = {
    "lt_span_d1": logtrace_span(1),
    "otel_span_d1": otel_span(1),
    "otel_orjson_d1": otel_span(1, fast=True),
    "floor_pair_d1": floor_span(1, pair=True),
    "eliot_span_d1": eliot_action(1),
    "floor_span_d1": floor_span(1),
    "lt_span_d3": logtrace_span(3),
    "otel_span_d3": otel_span(3),
    "otel_orjson_d3": otel_span(3, fast=True),
    "floor_pair_d3": floor_span(3, pair=True),
    "eliot_span_d3": eliot_action(3),
    "floor_span_d3": floor_span(3),
    "lt_structlog": logtrace_structlog,
    "plain_structlog": plain_structlog,
    "lt_stdlib": logtrace_stdlib,
    "stdlib_json": stdlib_json,
    "stdlib_noop_handler": stdlib_noop_handler,
    "lt_disabled": logtrace_span(1, enabled=False),
    "lt_unsampled": logtrace_span(1, unsampled=True),
    "lt_unsampled_nokeep": logtrace_span(1, unsampled=True, keep_errors=False),
    "otel_sampled_out": otel_sampled_out,
    "noop_span": noop_span,
    "lt_threads_1": logtrace_threads(1),
    "lt_threads_2": logtrace_threads(2),
    "floor_threads_1": floor_threads(1),
    "floor_threads_2": floor_threads(2),
    "python_threads_1": python_threads(1),
    "python_threads_2": python_threads(2),
    "demo_on": demo("traced"),
    "demo_off": demo("off"),
    "demo_logs_only": demo("logs"),
}


def peak_rss_kb() -> int:
    """This process's peak resident set in KiB (see the module docstring)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _count_lines(directory: Path, marker: bytes) -> tuple[int, int, int]:
    """(lines holding ``marker``, all lines, bytes) of the uncompressed files under it."""
    total = every = size = 0
    for path in directory.rglob("*"):
        if path.is_file() and not path.name.endswith((".zst", ".gz")):
            with open(path, "rb") as lines:
                for line in lines:
                    every += 1
                    size += len(line)
                    total += marker in line
    return total, every, size


@contextlib.contextmanager
def _profiled(enabled: bool, top: int) -> Iterator[None]:
    if not enabled:
        yield
        return
    import cProfile
    import pstats

    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        for order in ("tottime", "cumulative"):
            print(f"\n== top {top} by {order} ==", file=sys.stderr)
            pstats.Stats(profile, stream=sys.stderr).sort_stats(order).print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser(description="run one benchmark case in this process")
    parser.add_argument("case", choices=sorted(CASES))
    parser.add_argument("--ops", type=int, required=True, help="loop iterations timed")
    parser.add_argument("--warmup", type=int, default=None)
    parser.add_argument("--dir", type=Path, required=True, help="an empty directory for files")
    parser.add_argument("--profile", type=int, default=0, help="print the top N cProfile rows")
    args = parser.parse_args()
    warmup = args.warmup if args.warmup is not None else max(50, args.ops // 10)
    demo = args.case.startswith("demo_")
    iterations = int(os.environ.get("BENCH_WORK_ITERATIONS") or 0) if demo else 0
    work_us = work_alone_us(iterations) if iterations else None
    plan = CASES[args.case](args.dir, args.ops + warmup)
    plan.loop(-warmup, warmup)
    plan.finish()
    gc.collect()
    rss_before = peak_rss_kb()
    with _profiled(args.profile > 0, args.profile):
        cpu_started, started = time.process_time(), time.perf_counter()
        plan.loop(0, args.ops)
        hot = time.perf_counter() - started
        plan.finish()
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
    maxrss = peak_rss_kb()
    ru_maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # The same again afterwards: a process whose speed changed during its run shows it here.
    work_after = work_alone_us(iterations) if iterations else None
    plan.close()
    lines, disk_lines, disk_bytes = _count_lines(args.dir, plan.marker)
    result = {
        "case": args.case,
        "ops": args.ops * plan.per_iteration,
        "seconds": seconds,
        "hot_seconds": hot,
        "cpu_seconds": cpu_seconds,
        "lines": lines,
        "lines_expected": (args.ops + warmup) * plan.lines_per_iteration,
        "disk_lines": disk_lines,
        "disk_bytes": disk_bytes,
        "maxrss_kb": maxrss,
        "rss_before_kb": rss_before,
        "ru_maxrss_kb": ru_maxrss,
    }
    if iterations:
        result["work_us"], result["work_us_after"] = work_us, work_after
    print(json.dumps(result))


if __name__ == "__main__":
    main()
