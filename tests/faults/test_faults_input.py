"""Bad input on both sides: every event is one valid JSON line, and queries answer for the rest.

Write side: fuzzed ``traceparent``/``tracestate`` and hostile values (hypothesis, plus a fixed
zoo of the worst: cycles, deep nesting, objects that fail to print, non-UTF-8, NaN) go through
``span()``, stdlib logging and structlog; nothing may raise, and each event must be exactly one
line that ``orjson`` and ``jq`` read. Read side: random bytes, torn zstd frames, garbage in the
middle of a file, empty and foreign folders; and SQL-injection attempts through every argument
of the ``logtrace`` CLI that reaches a query.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import structlog
from _faults_helpers import clean_env, log_files, read_back, run
from _faults_report import Row, count, record, scale
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import logtrace
from logtrace.format import fields as f

FUZZ = settings(
    max_examples=scale(200, 5_000),
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def traced(tmp_path: Path) -> Iterator[Path]:
    """configure() into a fresh folder, flush="always"; logging restored afterwards."""
    directory = tmp_path / "logs"
    root = logging.getLogger()
    saved = root.level, list(root.handlers)
    logtrace.configure(service="fuzz", directory=directory, flush="always", environ={})
    try:
        yield directory
    finally:
        logtrace.shutdown()
        root.handlers[:] = saved[1]
        root.setLevel(saved[0])


def _jq_reads(directory: Path) -> int:
    """How many JSON values ``jq`` reads from the files (it fails on any bad line)."""
    total = 0
    for path in log_files(directory):
        done = subprocess.run(
            ["sh", "-c", 'zstd -dcf "$1" | jq -c .', "sh", str(path)], capture_output=True
        )
        assert done.returncode == 0, done.stderr.decode(errors="replace")
        total += len(done.stdout.splitlines())
    return total


def _payload_lines(directory: Path) -> list[dict[str, Any]]:
    """Every line but logtrace's file headers, strictly parsed."""
    files = read_back(directory)
    assert _jq_reads(directory) == len(files.lines)
    return [line for line in files.lines if line.get(f.EVENT) != f.FILE_EVENT]


# -- traceparent / tracestate -------------------------------------------------------------------

HEX = "0123456789abcdefABCDEF"
_hex = st.text(alphabet=HEX, max_size=40)
_near_traceparent = st.builds(
    lambda v, t, p, fl, sep: sep.join([v, t, p, fl]),
    st.sampled_from(["00", "ff", "01", "cc", "0", "000", "zz"]) | _hex,
    st.sampled_from(["0" * 32, "a" * 32]) | _hex,
    st.sampled_from(["0" * 16, "b" * 16]) | _hex,
    st.sampled_from(["00", "01", "ff", "1", "0x"]) | _hex,
    st.sampled_from(["-", "_", "--", " - ", ""]),
)
_traceparent = _near_traceparent | st.text() | st.binary().map(lambda b: b.decode("latin-1"))
_tracestate = st.text() | st.lists(
    st.builds(lambda k, v: f"{k}={v}", st.text(max_size=20), st.text(max_size=40)), max_size=40
).map(",".join)


def test_fuzzed_traceparent_and_tracestate_never_break_a_span(traced: Path) -> None:
    """Any traceparent/tracestate as a span's parent or in a child's environment: the span
    opens and closes, its lines carry valid ids, logs inside share them, nothing raises."""
    log = logging.getLogger("app")
    tried: list[int] = []

    @FUZZ
    @given(_traceparent, _tracestate)
    def one(traceparent: str, tracestate: str) -> None:
        tried.append(1)
        carrier = {"traceparent": traceparent, "tracestate": tracestate}
        logtrace.extract(carrier)
        with logtrace.span("fuzz", parent=carrier, k=len(tried)):
            log.info("inside", extra={"k": len(tried)})
            assert logtrace.inject({})["traceparent"].count("-") == 3

    one()
    lines = _payload_lines(traced)
    spans = [line for line in lines if line.get(f.NAME) == "fuzz"]
    inside = [line for line in lines if line.get(f.EVENT) == "inside"]
    sampled = [line for line in inside if line[f.TRACE_FLAGS] == "01"]
    # An incoming unsampled flag is followed: no span lines, the log line still has the ids.
    assert len(inside) == len(tried) and len(spans) == 2 * len(sampled) > 0
    for line in spans + inside:
        assert re.fullmatch(r"[0-9a-f]{32}", line[f.TRACE_ID]), line
        assert re.fullmatch(r"[0-9a-f]{16}", line[f.SPAN_ID]), line
        assert int(line[f.TRACE_ID], 16) > 0 and int(line[f.SPAN_ID], 16) > 0, line
    ids = {line["k"]: line[f.TRACE_ID] for line in spans if line.get(f.SPAN) == f.SPAN_START}
    assert [line for line in sampled if ids.get(line["k"]) != line[f.TRACE_ID]] == []
    bad = [line for line in lines if line.get(f.EVENT) == f.BAD_TRACEPARENT_EVENT]
    assert all(len(line["value"]) <= 64 + len("…") for line in bad)
    # The environment carrier of a child process, hostile values included.
    env_values = ["", "00-" + "0" * 32 + "-" + "1" * 16 + "-01", "\x00\n\r", "é" * 100, "ff-x"]
    for value in env_values:
        logtrace.configure(
            service="fuzz",
            directory=traced,
            flush="always",
            environ={"TRACEPARENT": value, "TRACESTATE": value + ",a=b"},
        )
        with logtrace.span("env"):
            log.info("env inside")
    logtrace.shutdown()
    lines = _payload_lines(traced)
    assert len([line for line in lines if line.get(f.NAME) == "env"]) == 2 * len(env_values)
    record(
        Row(
            "traceparent",
            "as a span's parent and in the environment carrier",
            inputs=len(tried) + len(env_values),
            lost=0,
        )
    )


# -- hostile values --------------------------------------------------------------------------------

_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=200)
_leaf = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**200), max_value=2**200)
    | st.floats(allow_nan=True, allow_infinity=True)
    | _text
    | st.binary(max_size=100)
)
_value = st.recursive(
    _leaf,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.tuples(inner, inner)
        | st.dictionaries(_text | st.integers() | st.none(), inner, max_size=5)
        | st.frozensets(st.integers(), max_size=3)
    ),
    max_leaves=30,
)
_STDLIB_RESERVED = set(vars(logging.LogRecord("n", 0, "p", 0, "m", None, None))) | {"message"}
_key = _text.filter(lambda k: k.isidentifier() and k not in _STDLIB_RESERVED) | st.sampled_from(
    ["level", "ts", "trace_id", "span_id", "name", "pid", "logger", "duration_ms", "status"]
)


class Unprintable:
    """Fails at everything a serializer might try."""

    def __repr__(self) -> str:
        raise RuntimeError("no repr")

    def __str__(self) -> str:
        raise RuntimeError("no str")

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("no eq")

    __hash__ = None  # type: ignore[assignment]

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"no {name}")


class BadIter(list):  # type: ignore[type-arg]
    """A list whose iteration fails."""

    def __iter__(self) -> Any:
        raise RuntimeError("no iter")


@dataclasses.dataclass
class Node:
    """A dataclass that points at itself."""

    name: str
    next: Any = None


def _zoo() -> list[tuple[str, Any]]:
    cyclic_dict: dict[str, Any] = {"a": 1}
    cyclic_dict["self"] = cyclic_dict
    cyclic_list: list[Any] = [1]
    cyclic_list.append(cyclic_list)
    deep: Any = "bottom"
    for _ in range(100_000):
        deep = [deep]
    deep_dict: Any = {}
    for _ in range(10_000):
        deep_dict = {"d": deep_dict}
    node = Node("loop")
    node.next = node
    return [
        ("cyclic_dict", cyclic_dict),
        ("cyclic_list", cyclic_list),
        ("deep_list", deep),
        ("deep_dict", deep_dict),
        ("cyclic_dataclass", node),
        ("unprintable", Unprintable()),
        ("huge_string", "x" * scale(2_000_000, 20_000_000)),
        ("huge_bytes", b"\xff\xfe" * scale(100_000, 1_000_000)),
        ("huge_int", 10**5000),
        ("non_utf8", b"\xc3\x28\xa0\xa1\xf0\x28\x8c\xbc"),
        ("surrogates", "\ud800\udfff\udbff"),
        ("nan", math.nan),
        ("inf", [math.inf, -math.inf]),
        ("controls", "".join(map(chr, range(32))) + "\u2028\u2029\x7f"),
        ("newlines", "line1\nline2\r\nline3\n"),
        ("non_str_keys", {(1, 2): "tuple", None: "none", 3.5: "float", b"b": "bytes"}),
        ("a_class", Unprintable),
        ("generator", (i for i in range(3))),
        ("exception", ValueError("boom", Unprintable())),
        ("many_attributes", {f"k{i}": i for i in range(100_000)}),
    ]


def test_hostile_values_are_one_json_line_each_and_never_raise(traced: Path) -> None:
    """Huge, deep, cyclic, unserializable, non-UTF-8, NaN/inf values and messages with
    newlines and control characters, as span attributes, structlog keywords, stdlib extras and
    messages: each event is exactly one valid JSON line and nothing raises into the caller."""
    log, slog = logging.getLogger("app"), structlog.get_logger("app")
    expected: list[int] = []  # lines per input

    def emit(message: Any, fields: dict[str, Any]) -> None:
        # `parent` is a parameter of span(); `name` is positional-only there and in event().
        with logtrace.span("hostile", **_without(fields, "parent")) as span:
            span.set(**fields)
            span.event("evt", **fields)
            slog.info(message, **fields)
            # Keys of LogRecord itself make stdlib raise KeyError before logtrace sees the call.
            log.info(message, extra=_without(fields, *_STDLIB_RESERVED))
            try:
                raise ValueError(message)
            except ValueError:
                log.exception(message)
        expected.append(6)

    @settings(FUZZ, max_examples=scale(100, 1_500))
    @given(_text | _value, st.dictionaries(_key, _value, max_size=8))
    def one(message: Any, fields: dict[str, Any]) -> None:
        emit(message, fields)

    with _only_logtrace_handlers():
        one()
        for name, value in _zoo():
            emit(f"{name}\n\x00\x1b[31m", {"value": value})
            emit(value, {})  # str() of some raises (STR_FAILS): the message says so instead
    lines = _payload_lines(traced)
    ours = [line for line in lines if line.get(f.LOGGER) != "logtrace" or line.get(f.SPAN)]
    per_trace = Counter(line.get(f.TRACE_ID) for line in ours)
    assert [(t, n) for t, n in per_trace.items() if n != 6] == []
    assert len(ours) == sum(expected)
    dropped = [line for line in lines if line.get(f.EVENT) == f.DROPPED_EVENT]
    assert dropped == []
    record(
        Row(
            "hostile_values",
            "as span attributes, span events, structlog keywords, stdlib extras, messages",
            inputs=len(expected),
            lost=sum(expected) - len(ours),
        )
    )


def _without(fields: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if k not in keys}


@contextlib.contextmanager
def _only_logtrace_handlers() -> Iterator[None]:
    """The root logger's other handlers (pytest's) set aside: pytest's capture handler
    re-raises what stdlib's formatting raises, and only logtrace's handler is under test."""
    root = logging.getLogger()
    others = [h for h in root.handlers if not type(h).__module__.startswith("logtrace")]
    for handler in others:
        root.removeHandler(handler)
    try:
        yield
    finally:
        for handler in others:
            root.addHandler(handler)


def test_an_attribute_called_name_on_a_span_event_does_not_raise(traced: Path) -> None:
    """span.event("e", name=...) writes the attribute (as name_) instead of raising."""
    with logtrace.span("s") as span:
        span.event("e", name="x")
    logtrace.flush()
    [event] = [line for line in _payload_lines(traced) if line.get(f.SPAN) == f.SPAN_EVENT]
    assert event["name_"] == "x"


def test_a_value_whose_iteration_raises_does_not_escape_a_structlog_call(traced: Path) -> None:
    """structlog.get_logger().info("m", value=<a list whose __iter__ raises>) writes a line
    (the value as text) instead of raising RuntimeError into the caller."""
    structlog.get_logger("app").info("m", value=BadIter([1, 2]))
    logtrace.flush()
    assert [line[f.EVENT] for line in _payload_lines(traced)] == ["m"]


# Values whose str() raises (RecursionError, ValueError past 4300 digits, RuntimeError).
STR_FAILS = ("deep_list", "deep_dict", "unprintable", "huge_int", "exception")


@pytest.mark.parametrize("name", STR_FAILS)
def test_a_stdlib_message_whose_str_raises_is_written_or_counted(traced: Path, name: str) -> None:
    """logging.info(value) where str(value) raises: the record still becomes a line (the
    message replaced by text), or a logtrace.dropped line counts it; never a silent loss."""
    [value] = [value for zoo_name, value in _zoo() if zoo_name == name]
    with _only_logtrace_handlers():
        logging.getLogger("app").info(value)
        logging.getLogger("app").info("after")
    logtrace.shutdown()
    lines = _payload_lines(traced)
    counted = sum(line[f.DROPPED] for line in lines if line[f.EVENT] == f.DROPPED_EVENT)
    assert len([line for line in lines if line[f.LOGGER] == "app"]) + counted == 2


def test_an_integer_too_long_for_str_is_written_as_text(traced: Path) -> None:
    """span("s", n=10**5000): str() of the int raises ValueError (Python's digit limit); the
    span's lines are still written, ids included, with the value as (truncated) text."""
    with logtrace.span("s", n=10**5000):
        pass
    logtrace.shutdown()
    lines = _payload_lines(traced)
    assert [line.get(f.SPAN) for line in lines] == [f.SPAN_START, f.SPAN_END]


BROKEN_TZINFO = """
import datetime, logging, sys, structlog, logtrace

class Broken(datetime.tzinfo):
    def utcoffset(self, dt):
        raise RuntimeError("no offset")

when = datetime.datetime(2026, 11, 24, 13, 0, tzinfo=Broken())
logtrace.configure(service="tz", directory=sys.argv[1], redact=sys.argv[2] == "1", environ={})
with logtrace.span("s", when=when) as span:
    span.set(later=when, many=[when])
    span.event("e", when=when)
    structlog.get_logger("app").info("structlog", when=when)
    logging.getLogger("app").warning("stdlib", extra={"when": when})
logtrace.shutdown()
"""


@pytest.mark.parametrize("redact", ["1", "0"])
def test_a_datetime_whose_tzinfo_raises_does_not_crash_the_program(
    tmp_path: Path, redact: str
) -> None:
    """A datetime whose tzinfo.utcoffset() raises, as a span attribute, in span.set (nested
    too), a span event, structlog and stdlib: orjson would crash the process (a segfault);
    the lines are written, the value as a marker."""
    run(BROKEN_TZINFO, tmp_path, redact)
    lines = _payload_lines(tmp_path)
    assert {line[f.EVENT] for line in lines} >= {"s", "e", "structlog", "stdlib"}


# -- the read side ---------------------------------------------------------------------------------

SMALL_TRACE = """
import logging, sys, logtrace
logtrace.configure(service="good", directory=sys.argv[1], rotate_bytes=4096, environ={})
log = logging.getLogger("app")
for task in range(int(sys.argv[2])):
    with logtrace.span("job", task=task):
        with logtrace.span("step", task=task):
            log.info("working on %d", task, extra={"task": task})
logtrace.shutdown()
print(logtrace.current_trace_id() or "null")
"""


@pytest.fixture(scope="module")
def good_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder written by the real write side: 20 traces, rotated and compressed."""
    directory = tmp_path_factory.mktemp("good") / "logs"
    run(SMALL_TRACE, directory, 20)
    return directory


def _counts(directory: Path) -> dict[str, Any]:
    with logtrace.open(directory) as reader:
        [row] = reader.execute(
            "SELECT (SELECT count(*) FROM spans) AS spans,"
            " (SELECT count(*) FROM logs WHERE logger = 'app') AS logs,"
            " (SELECT count(*) FROM traces) AS traces"
        )
        row["unreadable"] = sum(r["unreadable"] for r in reader.skipped())
        row["left_out"] = len(reader.unreadable_files)
        row["truncated"] = [str(p) for p in reader.truncated_files]
        return row


_garbage = st.binary(min_size=1, max_size=300) | st.text(max_size=200).map(str.encode)


def test_garbage_in_files_is_skipped_and_the_rest_still_answers(
    good_logs: Path, tmp_path: Path
) -> None:
    """Random bytes between real lines, truncated zstd frames, empty files and folders, a
    folder of other programs' JSON: every real line is still counted, what was skipped is
    reported, and the CLI answers with exit 0 (2, in one line, for a folder with no file)."""
    baseline = _counts(good_logs)
    assert baseline["spans"] == 40 and baseline["logs"] == 20 and baseline["unreadable"] == 0
    assert baseline["truncated"] == []
    plain = sorted(good_logs.rglob("*.jsonl"))[0]
    lines = plain.read_bytes().splitlines(keepends=True)
    tried: list[int] = []

    @settings(FUZZ, max_examples=scale(40, 300))
    @given(st.lists(st.tuples(st.integers(0, len(lines)), _garbage), min_size=1, max_size=5))
    def one(insertions: list[tuple[int, bytes]]) -> None:
        tried.append(1)
        work = tmp_path / f"g{len(tried)}"
        shutil.copytree(good_logs, work)
        mixed = list(lines)
        for at, blob in sorted(insertions, reverse=True):
            mixed.insert(at, blob + b"\n")
        (work / plain.relative_to(good_logs)).write_bytes(b"".join(mixed))
        found = _counts(work)
        assert (found["spans"], found["logs"]) == (40, 20)
        shutil.rmtree(work)

    one()
    fixed = _fixed_bad_folders(good_logs, tmp_path / "fixed")
    for name, folder, spans in fixed:
        found = _counts(folder)
        assert found["spans"] == spans, name
        for argv in (["ls", "--json"], ["stats", "--json", "-v"]):
            done = subprocess.run(
                [sys.executable, "-m", "logtrace", *argv, "--dir", str(folder)],
                env=clean_env(),
                capture_output=True,
                timeout=120,
            )
            if name == "empty":
                assert done.returncode == 2 and b"no log files in" in done.stderr
                assert done.stderr.count(b"\n") == 1
                continue
            assert done.returncode == 0, (name, done.stderr.decode())
    record(
        Row(
            "read_garbage",
            f"{len(fixed)} broken folders, random bytes mid-file",
            inputs=len(tried) + len(fixed),
            lost=0,
        )
    )


@pytest.mark.parametrize("cut", ["1 byte", "4 bytes", "half", "last byte"])
def test_a_truncated_zstd_file_is_read_to_the_cut_and_reported(
    good_logs: Path, tmp_path: Path, cut: str
) -> None:
    """A rotated file cut short (a crash while copying, a full disk): the other files still
    answer, what the cut file holds before the cut is read, and the file is named as cut short
    (``Reader.truncated_files``, ``stats``, ``--verbose``)."""
    rotated = sorted(good_logs.rglob("*.jsonl.zst"))[0]
    frame = rotated.read_bytes()
    size = {"1 byte": 1, "4 bytes": 4, "half": len(frame) // 2, "last byte": len(frame) - 1}[cut]
    work = tmp_path / "logs"
    shutil.copytree(good_logs, work)
    (work / rotated.relative_to(good_logs)).write_bytes(frame[:size])
    in_rotated = len(
        [line for line in read_back(rotated.parent).by_file[rotated] if "span" in line]
    )
    found = _counts(work)
    assert found["spans"] >= 40 - in_rotated
    assert found["truncated"] == [str(work / rotated.relative_to(good_logs))]
    done = subprocess.run(
        [sys.executable, "-m", "logtrace", "stats", "--verbose", "--dir", str(work)],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "1 compressed file cut short" in done.stdout
    assert f"{rotated.name}: cut short" in done.stderr


def _fixed_bad_folders(good: Path, base: Path) -> list[tuple[str, Path, int]]:
    """Folders of broken files, each with the spans the read side must still find."""
    import zstandard

    made: list[tuple[str, Path, int]] = []

    def folder(name: str, spans: int, with_good: bool = True) -> Path:
        path = base / name
        if with_good:
            shutil.copytree(good, path)
        else:
            path.mkdir(parents=True)
        made.append((name, path, spans))
        return path

    rotated = sorted(good.rglob("*.jsonl.zst"))
    assert rotated, "the good folder has no rotated file"
    frame = rotated[0].read_bytes()
    # Cut short by its last byte: what the frame holds is read (and reported: see the test above).
    path = folder("zstd_cut_last_byte", 40)
    (path / rotated[0].relative_to(good)).write_bytes(frame[:-1])
    folder("empty", 0, with_good=False)
    foreign = folder("foreign_json", 0, with_good=False)
    (foreign / "package.json").write_text('{"name": "x"}')
    (foreign / "other.jsonl").write_text('[1, 2]\n"text"\n{"msg": "hi"}\n{"ts": "yesterday"}\n')
    (foreign / "nested.jsonl.zst").write_bytes(zstandard.compress(b'{"a": {"b": [1]}}\n'))
    junk = folder("junk_files", 40)
    (junk / "random.jsonl").write_bytes(bytes(range(256)) * 64)
    (junk / "notzstd.jsonl.zst").write_bytes(b"\x28\xb5\x2f\xfd" + b"\x00" * 100)
    (junk / "empty.jsonl").write_bytes(b"")
    (junk / "empty.jsonl.zst").write_bytes(b"")
    (junk / "dir.jsonl").mkdir()
    (junk / "nul.jsonl").write_bytes(b"\x00" * 10_000 + b"\n" + b"\x00" * 10)
    (junk / "long.jsonl").write_bytes(b'{"ts": "' + b"9" * 5_000_000 + b'"}\n')
    return made


# -- SQL injection ---------------------------------------------------------------------------------

PAYLOADS = [
    "'; COPY (SELECT 42) TO '{canary}'; --",
    "job\"; COPY (SELECT 42) TO '{canary}'; --",
    "x' OR '1'='1",
    "') UNION ALL SELECT * FROM spans --",
    "$name",
    "getvariable('logtrace_files')",
    "job' || (SELECT 1) || '",
    "\\'; DROP VIEW spans; --",
]


def _injections(payload: str, trace_id: str) -> list[list[str]]:
    """Every CLI argument that reaches a query, carrying ``payload``."""
    filters = ["--service", payload, "--name", payload, "--attr", f"task={payload}"]
    return [
        ["ls", "--json", *filters],
        ["ls", "--json", "--attr", f"{payload}=1"],
        ["stats", "--json", *filters],
        ["ls", "--since", payload],
        ["ls", "--until", payload],
        ["stats", "--min-duration", payload],
        ["ls", "--limit", payload],
        ["show", payload],
        ["show", trace_id[:8] + payload],
        ["sql", "--json", "select count(*) AS n from spans where name = $v", "-p", f"v={payload}"],
        ["sql", "--json", "select 1 AS n", "-p", f"{payload}=1"],
        ["sql", "--json", "slowest_traces", "-p", f"limit={payload}"],
        ["tail", "--json", "--from-start", "--for", "0", "--service", payload],
        ["tail", "--json", "--from-start", "--for", "0", "--trace", payload],
    ]


def test_sql_injection_through_cli_arguments_is_never_executed(
    good_logs: Path, tmp_path: Path
) -> None:
    """Injection attempts through every CLI argument that reaches a query (filters, trace
    ids, -p values and names, --dir): exit 0 with nothing matched or exit 2 with one line;
    never a traceback, never a statement run (no canary file), the views intact."""
    trace_id = _any_trace(good_logs)
    payloads = PAYLOADS[: scale(3, len(PAYLOADS))]
    tried = 0
    for number, template in enumerate(payloads):
        canary = tmp_path / f"pwned{number}.csv"
        payload = template.format(canary=canary)
        # A folder whose name is the payload (no slash): --dir reaches the file list.
        named = tmp_path / f"d{number}" / payload.replace("/", "_")
        shutil.copytree(good_logs, named)
        runs = [*_injections(payload, trace_id), ["ls", "--json", "--dir", str(named)]]
        for argv in runs:
            tried += 1
            whole_folder = "--dir" in argv
            if not whole_folder:
                argv = [*argv, "--dir", str(good_logs)]
            done = subprocess.run(
                [sys.executable, "-m", "logtrace", *argv],
                env=clean_env(),
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert done.returncode in (0, 1, 2), (argv, done.stderr)
            assert "Traceback" not in done.stderr, (argv, done.stderr)
            assert not canary.exists(), f"{argv} ran a statement"
            if done.returncode == 0 and argv[0] in ("ls", "stats"):
                # A name with * ? [ is read as a glob (documented): it matches no file.
                literal = whole_folder and not set("*?[") & set(named.name)
                _assert_nothing_matched(argv, done.stdout, literal)
            if done.returncode == 0 and argv[0] == "sql" and argv[-3].startswith("v="):
                assert orjson.loads(done.stdout) == [{"n": 0}], argv
    assert _counts(good_logs)["spans"] == 40
    record(
        Row(
            "sql_injection",
            f"{len(payloads)} payloads through {len(runs)} CLI arguments",
            inputs=tried,
        )
    )


def _any_trace(directory: Path) -> str:
    with logtrace.open(directory) as reader:
        return str(reader.execute("SELECT trace_id FROM traces LIMIT 1")[0]["trace_id"])


def _assert_nothing_matched(argv: list[str], stdout: str, whole_folder: bool) -> None:
    """A filter holding a payload matches no trace (unless it is only the folder's name)."""
    result = orjson.loads(stdout)
    if whole_folder:
        assert len(result) == 20
    elif argv[0] == "ls":
        assert result == [], argv
    else:
        assert result["spans"] == [], argv
