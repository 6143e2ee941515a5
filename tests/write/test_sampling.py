"""Samplers, keep-errors buffering and the depth limit, on captured and real lines."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from _core_fixtures import read_lines, traced_dir

import logtrace
from logtrace import sampling, testing
from logtrace.write import ids as _ids
from logtrace.write.span import tracer


@pytest.fixture
def configured_tracer() -> object:
    """Restore the tracer's sampling settings after a test changes them."""
    saved = (tracer.sampler, tracer.keep_errors, tracer.slow_ms, tracer.tail_limit)
    yield tracer
    tracer.sampler, tracer.keep_errors, tracer.slow_ms, tracer.tail_limit = saved


def test_ratio_matches_opentelemetry_trace_id_ratio_based() -> None:
    """Ratio decides exactly like the OpenTelemetry SDK's TraceIdRatioBased for the same ids."""
    from opentelemetry.sdk.trace.sampling import Decision, TraceIdRatioBased

    for rate in (0.0, 0.001, 0.1, 0.5, 0.9, 1.0):
        ours, theirs = sampling.Ratio(rate), TraceIdRatioBased(rate)
        for _ in range(2000):
            trace_id = _ids.new_trace_id()
            decision = theirs.should_sample(None, int(trace_id, 16), "x").decision
            assert ours(trace_id) is (decision == Decision.RECORD_AND_SAMPLE)


PROCESS_DECISIONS = """
import sys, logtrace
from logtrace.write.span import tracer
logtrace.configure(directory=sys.argv[2])
out = []
for trace_id in open(sys.argv[1]).read().split():
    with logtrace.span("s", parent={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-00"}) as s:
        out.append("1" if s.context.sampled else "0")
logtrace.shutdown()
print("".join(out))
"""


def test_three_processes_decide_identically_for_the_same_trace_ids(tmp_path: Path) -> None:
    """With OTEL_TRACES_SAMPLER=traceidratio, every process decides the same for each id."""
    ids = [_ids.new_trace_id() for _ in range(10_000)]
    (tmp_path / "ids").write_text("\n".join(ids))
    env = {**os.environ, "OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.25"}
    runs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                PROCESS_DECISIONS,
                str(tmp_path / "ids"),
                str(tmp_path / str(n)),
            ],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(3)
    ]
    decisions = [run.communicate(timeout=120)[0].strip() for run in runs]
    assert all(run.returncode == 0 for run in runs)
    assert decisions[0] == decisions[1] == decisions[2]
    expected = "".join("1" if sampling.Ratio(0.25)(i) else "0" for i in ids)
    assert decisions[0] == expected
    assert 2000 < expected.count("1") < 3000


def test_parent_based_follows_the_incoming_flag() -> None:
    """The default sampler follows the remote parent's sampled flag."""
    parent_on = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    parent_off = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"
    with testing.capture_events() as events:
        with logtrace.span("on", parent={"traceparent": parent_on}):
            pass
        with logtrace.span("off", parent={"traceparent": parent_off}) as off:
            assert off.context is not None and not off.context.sampled
    assert {e["name"] for e in events} == {"on"}


def test_head_sampling_zero_keeps_a_failing_trace_whole(configured_tracer: object) -> None:
    """Unsampled at the head, a trace whose deepest span fails is still written, every span
    (by its end line alone: it carries everything, the spans it stands for have ended)."""
    tracer.sampler = sampling.never

    def nest(depth: int, fail: bool) -> None:
        with logtrace.span(f"level{depth}"):
            if depth == 5:
                if fail:
                    raise RuntimeError("deep failure")
                return
            with logtrace.span(f"sibling{depth}"):
                pass
            nest(depth + 1, fail)

    with testing.capture_events() as events:
        nest(1, fail=False)
        assert events == []
        with pytest.raises(RuntimeError):
            nest(1, fail=True)
    assert [e for e in events if e["span"] == "start"] == []
    names = sorted(e["name"] for e in events if e["span"] == "end")
    assert names == sorted(
        [f"level{i}" for i in range(1, 6)] + [f"sibling{i}" for i in range(1, 5)]
    )
    assert {e["trace_flags"] for e in events} == {"00"}
    failed = [e for e in events if e.get("status") == "error"]
    assert [e["name"] for e in failed] == ["level5", "level4", "level3", "level2", "level1"]


def test_an_unsampled_spans_ids_are_the_same_whoever_reads_them_first(
    configured_tracer: object,
) -> None:
    """An unsampled span makes its ids when first read: log lines on several threads, its
    child's parent_id, inject and its kept end line all see the same ids."""
    import threading

    tracer.sampler = sampling.never
    seen: list[tuple[str | None, str | None]] = []
    with testing.capture_events() as events:
        with logtrace.span("root") as root:
            readers = [
                threading.Thread(
                    target=logtrace.wrap(
                        lambda: seen.append(
                            (logtrace.current_trace_id(), logtrace.current_span_id())
                        )
                    )
                )
                for _ in range(8)
            ]
            for reader in readers:
                reader.start()
            for reader in readers:
                reader.join()
            with logtrace.span("child") as child:
                carrier = logtrace.inject({})
            with pytest.raises(RuntimeError), logtrace.span("failing"):
                raise RuntimeError("kept")
    assert set(seen) == {(root.trace_id, root.span_id)}
    assert carrier["traceparent"] == f"00-{root.trace_id}-{child.span_id}-00"
    ends = {e["name"]: e for e in events if e.get("span") == "end"}
    assert ends["root"]["span_id"] == root.span_id
    assert ends["failing"]["parent_id"] == root.span_id
    assert {e["trace_id"] for e in ends.values()} == {root.trace_id}


def test_an_unsampled_span_open_across_a_fork_has_the_same_ids_on_both_sides(
    configured_tracer: object, traced_dir: Path
) -> None:
    """Ids made lazily are made before a fork: a child that reads them first (its log lines)
    and the parent that reads them after still see one trace, one span each."""
    tracer.sampler = sampling.never
    read_fd, write_fd = os.pipe()
    with logtrace.span("job"), logtrace.span("step"):
        pid = os.fork()
        if pid == 0:
            seen = f"{logtrace.current_trace_id()} {logtrace.current_span_id()}"
            os.write(write_fd, seen.encode())
            os._exit(0)
        os.close(write_fd)
        os.waitpid(pid, 0)
        in_parent = f"{logtrace.current_trace_id()} {logtrace.current_span_id()}"
    assert os.read(read_fd, 100).decode() == in_parent
    os.close(read_fd)


def test_two_failures_draining_one_keep_errors_buffer_raise_nothing(
    configured_tracer: object,
) -> None:
    """Two threads whose spans of one unsampled trace fail at once both drain its buffer: the
    one that finds it emptied by the other goes on (nothing raises into the program)."""
    import threading

    from logtrace.write import span as span_module

    class RacedTail(span_module.TailBuffer):
        """A buffer another thread empties between the first failure's look and its pop."""

        raced = False

        def popleft(self) -> span_module.Span:
            if not self.raced:
                self.raced = True
                other = threading.Thread(target=self.clear)
                other.start()
                other.join()
            return super().popleft()

    tracer.sampler = sampling.never
    saved = span_module.TailBuffer
    span_module.TailBuffer = RacedTail  # type: ignore[misc]
    try:
        with testing.capture_events() as events, logtrace.span("root"):
            with logtrace.span("held"):
                pass
            with pytest.raises(RuntimeError), logtrace.span("failing"):
                raise RuntimeError("kept")
    finally:
        span_module.TailBuffer = saved  # type: ignore[misc]
    ends = {e["name"] for e in events if e.get("span") == "end"}
    assert {"failing", "root"} <= ends


def test_slow_spans_keep_an_unsampled_trace(configured_tracer: object) -> None:
    """With slow_ms set, an unsampled trace with a slow span is written."""
    tracer.sampler, tracer.slow_ms = sampling.never, 5.0
    with testing.frozen_clock(step_ns=10_000_000), testing.capture_events() as events:
        with logtrace.span("root"), logtrace.span("slow"):
            pass
    assert sorted(e["name"] for e in events if e["span"] == "end") == ["root", "slow"]


def test_logs_of_unsampled_traces_stay_logs(configured_tracer: object) -> None:
    """Log lines inside an unsampled trace are written with its ids and trace_flags 00."""
    import logging

    from logtrace.write.stdlib import StdlibHandler

    tracer.sampler = sampling.never
    logger = logging.getLogger("unsampled")
    handler = StdlibHandler()
    logger.addHandler(handler)
    try:
        with testing.capture_events() as events, logtrace.span("quiet") as span:
            logger.warning("still here")
    finally:
        logger.removeHandler(handler)
    (line,) = events
    assert line["span_id"] == span.span_id and line["trace_flags"] == "00"


def test_keep_errors_buffer_is_bounded_and_drops_are_reported(configured_tracer: object) -> None:
    """Past tail_limit buffered spans are dropped, and the count is written when kept."""
    tracer.sampler, tracer.tail_limit = sampling.never, 3
    with testing.capture_events() as events:
        with pytest.raises(ValueError), logtrace.span("root"):
            for n in range(10):
                with logtrace.span(f"child{n}"):
                    pass
            raise ValueError("late failure")
    kept_children = [e for e in events if e.get("span") == "end" and e["name"] != "root"]
    assert len(kept_children) == 3
    (report,) = [e for e in events if e["event"] == "logtrace.dropped"]
    assert report["dropped"] == 7 and report["reason"] == "keep_errors_buffer_full"


def test_rate_limited_allows_n_per_second() -> None:
    """RateLimited records at most N new traces per second of its clock."""
    now = [0.0]
    limiter = sampling.RateLimited(5, clock=lambda: now[0])
    assert sum(limiter("0" * 32) for _ in range(100)) == 5
    now[0] += 0.4
    assert sum(limiter("0" * 32) for _ in range(100)) == 2
    now[0] += 10
    assert sum(limiter("0" * 32) for _ in range(100)) == 5


def test_adaptive_lowers_its_ratio_over_budget_and_recovers() -> None:
    """Adaptive scales its ratio down when measured cost exceeds the budget, and back up."""
    now = [0]
    adaptive = sampling.Adaptive(budget=0.03, window=1.0, clock=lambda: now[0])
    adaptive.record_cost(300_000_000)  # 30% of a one-second window
    now[0] += 1_000_000_000
    adaptive(_ids.new_trace_id())
    assert adaptive.ratio == pytest.approx(0.1)
    ids = [_ids.new_trace_id() for _ in range(5000)]
    assert 300 < sum(adaptive(i) for i in ids) < 700
    for _ in range(3):
        now[0] += 1_000_000_000
        adaptive(_ids.new_trace_id())
    assert adaptive.ratio == 1.0


def test_sampler_names_from_opentelemetry_environment() -> None:
    """OTEL_TRACES_SAMPLER names build the matching samplers; bad names are errors."""
    assert sampling.from_name("always_off", None)("f" * 32) is False
    assert isinstance(sampling.from_name("parentbased_traceidratio", "0.5"), sampling.ParentBased)
    with pytest.raises(ValueError, match="unknown sampler"):
        sampling.from_name("sometimes", None)
    with pytest.raises(ValueError, match="needs a number"):
        sampling.from_name("traceidratio", "half")


def test_recursion_1000_deep_neither_fails_nor_writes_past_the_limit(tmp_path: Path) -> None:
    """1,000 nested spans: the program runs, 50 levels are written, the rest counted."""
    code = textwrap.dedent(
        """
        import sys, logtrace
        sys.setrecursionlimit(10_000)
        logtrace.configure(directory="out", environ={})
        def recurse(n):
            with logtrace.span("level", n=n):
                if n < 1000:
                    recurse(n + 1)
        recurse(1)
        logtrace.shutdown()
        """
    )
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True, timeout=60)
    lines = read_lines(tmp_path / "out")
    ends = [x for x in lines if x.get("span") == "end"]
    assert sorted(x["n"] for x in ends) == list(range(1, 51))
    (report,) = [x for x in lines if x["event"] == "logtrace.dropped"]
    assert report["dropped"] == 950 and report["reason"] == "max_depth"


def test_a_trace_that_writes_nothing_still_carries_its_ids(tmp_path: Path) -> None:
    """``sampler="never", keep_errors=False`` (ids on log lines, no span lines): the log lines
    of a root and its child carry their ids, the child is in the root's trace, ``inject``
    hands them on with flag 00, and no span line is written."""
    import structlog

    directory = tmp_path / "lt"
    logtrace.configure(
        service="quiet", directory=directory, environ={}, sampler="never", keep_errors=False
    )
    try:
        log = structlog.get_logger("quiet")
        with logtrace.span("root") as root:
            log.info("in root")
            with logtrace.span("child") as child:
                log.info("in child")
                carrier = logtrace.inject({})
        logtrace.flush()
    finally:
        logtrace.shutdown()
    lines = read_lines(directory)
    assert [line for line in lines if "span" in line] == []
    by_event = {line["event"]: line for line in lines}
    assert by_event["in root"]["span_id"] == root.span_id
    assert by_event["in child"]["span_id"] == child.span_id != root.span_id
    assert {by_event["in root"]["trace_id"], child.trace_id} == {root.trace_id}
    assert child.parent_id == root.span_id
    assert carrier["traceparent"] == f"00-{root.trace_id}-{child.span_id}-00"


def test_a_trace_that_writes_nothing_continues_the_processs_parent(tmp_path: Path) -> None:
    """With ``TRACEPARENT`` set, a new root under ``never`` without keep_errors is still a
    child of the process's parent: its log lines carry the parent's trace id."""
    import structlog

    trace_id, parent_id = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    directory = tmp_path / "lt"
    logtrace.configure(
        service="quiet",
        directory=directory,
        environ={"TRACEPARENT": f"00-{trace_id}-{parent_id}-01"},
        sampler="never",
        keep_errors=False,
    )
    try:
        with logtrace.span("worker") as worker:
            structlog.get_logger("quiet").info("working")
        logtrace.flush()
    finally:
        logtrace.shutdown()
    (line,) = [line for line in read_lines(directory) if line["event"] == "working"]
    assert (line["trace_id"], worker.parent_id) == (trace_id, parent_id)
    assert line["span_id"] == worker.span_id
    # shutdown() forgets the parent configure() read: new spans start new traces again.
    assert logtrace.current_trace_id() is None


def test_turning_keep_errors_back_on_keeps_failing_traces_again(
    configured_tracer: object,
) -> None:
    """The tracer's settings set one by one (as tests and tools do) still decide together:
    after keep_errors off and on again, a failing unsampled trace is written."""
    tracer.keep_errors = False
    tracer.sampler = sampling.never
    with testing.capture_events() as events:
        with pytest.raises(RuntimeError), logtrace.span("quiet"):
            raise RuntimeError("lost: nothing keeps it")
        assert events == []
        tracer.keep_errors = True
        with pytest.raises(RuntimeError), logtrace.span("kept"):
            raise RuntimeError("kept by the buffer")
    assert [(e["name"], e["status"]) for e in events] == [("kept", "error")]


FORK_WHILE_THREADS_DECIDE = """
import os, sys, threading, time
import logtrace
logtrace.configure(service="x", directory=sys.argv[1], sampler=sys.argv[2], environ={})
stop = threading.Event()
def roots():
    while not stop.is_set():
        with logtrace.span("root"):
            pass
for _ in range(4):
    threading.Thread(target=roots, daemon=True).start()
time.sleep(0.1)
hung = 0
for _ in range(20):
    pid = os.fork()
    if pid == 0:
        with logtrace.span("the child's root"):
            pass
        os._exit(0)
    until = time.monotonic() + 3
    while os.waitpid(pid, os.WNOHANG) == (0, 0):
        if time.monotonic() > until:
            hung += 1
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            break
        time.sleep(0.005)
stop.set()
print(hung)
"""


@pytest.mark.parametrize("sampler", ["rate_limited", "adaptive"])
def test_a_child_forked_while_threads_decide_never_hangs_on_the_samplers_lock(
    tmp_path: Path, sampler: str
) -> None:
    """Four threads open root spans while the main thread forks: a thread of the parent may
    hold the sampler's lock at the fork, and is not in the child to let go of it. The child's
    first root span decides all the same (with rate_limited, about half the children hung
    for good on their first span)."""
    child = subprocess.run(
        [sys.executable, "-c", FORK_WHILE_THREADS_DECIDE, str(tmp_path), sampler],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        capture_output=True,
        timeout=120,
    )
    assert child.returncode == 0, child.stderr.decode()
    assert child.stdout.decode().split() == ["0"]


def test_a_signal_handler_that_opens_a_span_never_waits_on_the_samplers_lock(
    tmp_path: Path,
) -> None:
    """A timer's handler opens a root span every millisecond while the main thread opens
    root spans too: it may interrupt the main thread inside the rate limiter's decision. It
    decides without the lock (it waited for it for good: the process hung)."""
    code = """
import signal, sys, time
import logtrace
logtrace.configure(service="x", directory=sys.argv[1], sampler="rate_limited", environ={})
def on_alarm(signum, frame):
    with logtrace.span("from a signal handler"):
        pass
signal.signal(signal.SIGALRM, on_alarm)
signal.setitimer(signal.ITIMER_REAL, 0.001, 0.001)
until = time.monotonic() + 1.5
while time.monotonic() < until:
    with logtrace.span("root"):
        pass
signal.setitimer(signal.ITIMER_REAL, 0)
print("done")
"""
    child = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        capture_output=True,
        timeout=60,
    )
    assert child.returncode == 0, child.stderr.decode()[-2000:]
    assert child.stdout == b"done\n"


def test_rate_limited_decides_at_once_when_its_lock_is_held() -> None:
    """Held by a thread that is gone (a fork) or interrupted (a signal handler): the decision
    is made without the lock, and still keeps to the rate."""
    now = [0.0]
    limiter = sampling.RateLimited(2, clock=lambda: now[0])
    limiter._lock.acquire()
    assert [limiter("a" * 32) for _ in range(3)] == [True, True, False]
