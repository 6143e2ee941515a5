"""``configure()`` and ``shutdown()``: one call turns tracing on for a whole program.

Everything is decided here, once: the settings (explicit arguments over ``LOGTRACE_*`` and
OpenTelemetry environment variables over defaults), the processor chain, where lines go, and
the stdlib and structlog bridges. Nothing on the hot path reads the environment.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from logtrace.format import fields as f
from logtrace.format.lines import MAX_LINE
from logtrace.write import arguments as _arguments
from logtrace.write import context as _context
from logtrace.write import forks, sampling, structlog_bridge
from logtrace.write.env import EnvReader
from logtrace.write.pipeline import (
    BoundFieldsMerger,
    report,
    sink_logger_factory,
    state,
    use_chain,
    write_to,
)
from logtrace.write.propagation import extract_env
from logtrace.write.redact import Scrubber
from logtrace.write.render import limits
from logtrace.write.sampling import Sampler
from logtrace.write.span import tracer
from logtrace.write.stamper import Stamper
from logtrace.write.stdlib import StdlibHandler
from logtrace.write.stdlib_capture import RecordCapture
from logtrace.write.tracer import open_spans

if TYPE_CHECKING:
    from logtrace.write.sink.filesink import FileSink

_LEVEL_NUMBERS = {name: getattr(logging, name.upper()) for name in f.LEVELS}

_FLUSH = ("interval", "always")
_OVERFLOW = ("drop", "block")

_lock = threading.RLock()
_sink: FileSink | None = None
_capture = RecordCapture(logging.NullHandler())


def _default_service() -> str:
    argv0 = sys.argv[0] if sys.argv and sys.argv[0] else ""
    stem = Path(argv0).stem
    return stem if stem and stem not in ("-c", "-m", "__main__") else "python"


def configure(
    service: str | None = None,
    *,
    directory: str | os.PathLike[str] | None = None,
    level: str | int | None = None,
    enabled: bool | None = None,
    flush: str | None = None,
    flush_interval: float | None = None,
    queue_size: int | None = None,
    overflow: str | None = None,
    rotate_bytes: int | None = None,
    rotate_seconds: float | None = None,
    retention_days: float | None = None,
    retention_bytes: int | None = None,
    file_mode: int | None = None,
    dir_mode: int | None = None,
    max_depth: int | None = None,
    sampler: Sampler | str | None = None,
    sample_rate: float | None = None,
    keep_errors: bool | None = None,
    slow_ms: float | None = None,
    sample_logs: bool | None = None,
    redact: bool | None = None,
    redact_keys: Iterable[str] = (),
    redact_patterns: Iterable[str | re.Pattern[str]] = (),
    redactor: Callable[[str, Any], Any] | None = None,
    include_payloads: bool | None = None,
    max_attributes: int | None = None,
    max_string: int | None = None,
    max_line: int | None = None,
    otel: bool | None = None,
    stdlib: bool = True,
    stdlib_all_loggers: bool | None = None,
    structlog_setup: bool = True,
    environ: Mapping[str, str] | None = None,
) -> None:
    """Turn tracing on: lines of spans, stdlib ``logging`` and structlog go to JSONL files.

    Every argument left as ``None`` is read from the environment, then defaulted;
    docs/configuration.md lists the variables. Calling it again replaces the previous
    configuration (the old files are flushed and closed first).

    Args:
        service: the ``service`` of every line (``LOGTRACE_SERVICE``, ``OTEL_SERVICE_NAME``,
            ``service.name`` in ``OTEL_RESOURCE_ATTRIBUTES``; default: the script's name).
        directory: where files go (``LOGTRACE_DIR``, default ``./logtrace``).
        level: the lowest level of log lines written (``LOGTRACE_LEVEL``, default ``info``).
            Span lines are always written when tracing is enabled.
        enabled: trace at all (``LOGTRACE_ENABLED``; ``OTEL_SDK_DISABLED=true`` turns it off).
            Disabled, ``span()`` and ``@traced`` hand out one shared span that does nothing (no
            ids, no lines); log lines are still written. For ids on log lines without span
            lines, use ``sampler="never", keep_errors=False``.
        flush: ``"interval"`` (default) or ``"always"`` (each line written through).
        sampler: which new traces write span lines: a sampler from ``logtrace.sampling`` or a
            name (``LOGTRACE_SAMPLER``, ``OTEL_TRACES_SAMPLER`` with ``…_ARG``); default
            parent-based, recording every new trace.
        sample_rate: shorthand for a parent-based ratio sampler (``LOGTRACE_SAMPLE_RATE``).
        keep_errors: write an unsampled trace's spans after all when one fails
            (``LOGTRACE_KEEP_ERRORS``, default on); ``slow_ms`` also keeps slow ones.
        sample_logs: drop log lines of unsampled traces too (default off: logs stay logs).
        redact: replace secrets by ``[REDACTED]`` (``LOGTRACE_REDACT``, default on);
            ``redact_keys``, ``redact_patterns`` and ``redactor`` extend the rules.
        include_payloads: keep fields named ``payload``, ``body``… (default off).
        max_depth, max_attributes, max_string, max_line: the limits (docs/redaction.md).
        otel: when no logtrace span is open, use the active OpenTelemetry span's context
            (``LOGTRACE_OTEL``; needs the ``otel`` extra).
        stdlib: send stdlib ``logging`` records to the files, however ``logging`` is set up
            before or after (``basicConfig``, ``dictConfig``): no handler is added to the root
            logger; every record a logger lets through is handed to logtrace's handler too.
        stdlib_all_loggers: with ``stdlib``, also the records of loggers that do not propagate
            to the root, such as ``uvicorn.error`` and gunicorn's (``LOGTRACE_STDLIB_ALL_LOGGERS``,
            default on).
        structlog_setup: configure structlog to write through the same chain.
        environ: read settings from this mapping instead of ``os.environ``.
    """
    global _sink
    _arguments.check(dict(locals()))
    from logtrace.write.sink.filesink import FileSink, SinkSettings

    redact_keys = _arguments.texts("redact_keys", redact_keys)
    redact_patterns = _arguments.patterns(redact_patterns)
    env = EnvReader(os.environ if environ is None else environ)
    service = service or env.service() or _default_service()
    level_no = _level_number(level, env)
    if enabled is None:
        enabled = env.enabled()
    settings = SinkSettings(
        directory=Path(
            directory if directory is not None else env.text("LOGTRACE_DIR", "logtrace")
        ),
        service=service,
        flush=_choice("flush", flush, env.choice("LOGTRACE_FLUSH", "interval", _FLUSH), _FLUSH),  # type: ignore[arg-type]
        flush_interval=_given(
            flush_interval, env.number("LOGTRACE_FLUSH_INTERVAL", 1.0, positive=True)
        ),
        queue_size=int(_given(queue_size, env.size("LOGTRACE_QUEUE_SIZE", 100_000))),
        overflow=_choice(
            "overflow", overflow, env.choice("LOGTRACE_OVERFLOW", "drop", _OVERFLOW), _OVERFLOW
        ),  # type: ignore[arg-type]
        rotate_bytes=int(_given(rotate_bytes, env.size("LOGTRACE_ROTATE_BYTES", 64 * 2**20))),
        rotate_seconds=_given(rotate_seconds, env.duration("LOGTRACE_ROTATE_SECONDS", 3600.0)),
        retention_days=_given(
            retention_days, env.number("LOGTRACE_RETENTION_DAYS", 7.0, positive=True, infinite=True)
        ),
        retention_bytes=int(retention_bytes)
        if retention_bytes is not None
        else env.optional_size("LOGTRACE_RETENTION_BYTES"),
        file_mode=_given(file_mode, env.mode("LOGTRACE_FILE_MODE", 0o600)),
        dir_mode=_given(dir_mode, env.mode("LOGTRACE_DIR_MODE", 0o700)),
    )
    # Everything that may raise (or warn about the environment) before the old setup closes.
    chosen_sampler = _sampler(sampler, sample_rate, env)
    scrubber = _scrubber(
        env,
        redact=redact,
        keys=redact_keys,
        patterns=redact_patterns,
        redactor=redactor,
        include_payloads=include_payloads,
        max_string=max_string,
        max_attributes=max_attributes,
    )
    with _lock:
        _close_sink()
        state.stamper.service = service
        state.stamper.pid = os.getpid()
        tracer.enabled = enabled
        # Start lines wait for the writer's next flush, unless every line is written through.
        tracer.defer_starts = settings.flush != "always"
        tracer.max_depth = int(_given(max_depth, env.count("LOGTRACE_MAX_DEPTH", 50)))
        tracer.sampler = chosen_sampler
        tracer.cost_meter = (
            tracer.sampler.record_cost if isinstance(tracer.sampler, sampling.Adaptive) else None
        )
        tracer.keep_errors = _given(keep_errors, env.flag("LOGTRACE_KEEP_ERRORS") is not False)
        tracer.slow_ms = slow_ms if slow_ms is not None else env.optional_number("LOGTRACE_SLOW_MS")
        state.stamper.sample_logs = _given(sample_logs, env.flag("LOGTRACE_SAMPLE_LOGS") is True)
        state.stamper.scrubber = scrubber
        limits.max_line = int(_given(max_line, env.size("LOGTRACE_MAX_LINE", MAX_LINE)))
        sink = FileSink(settings, report)
        sink.pending = open_spans.start_lines
        sink.count_failed(_lines_failed)
        sink.start()
        _sink = sink
        write_to(sink.write, sink.write_ended)
        # After the sink: a malformed TRACEPARENT is reported with a warning line.
        _context.process_parent = extract_env(env.environ)
        tracer.settle()
        _bridge_opentelemetry(otel if otel is not None else env.flag("LOGTRACE_OTEL") is True)
        if stdlib:
            all_loggers = env.flag("LOGTRACE_STDLIB_ALL_LOGGERS") is not False
            _install_stdlib(level_no, _given(stdlib_all_loggers, all_loggers))
        else:
            _capture.uninstall()
        structlog_bridge.settings.min_level = level_no
        if structlog_setup:
            _setup_structlog(level_no)
        forks.install()


def env_scrubber(environ: Mapping[str, str] | None = None) -> tuple[Scrubber, int]:
    """The redaction and limits ``configure()`` takes from the environment when given no
    arguments (``LOGTRACE_REDACT``, ``LOGTRACE_REDACT_KEYS``, ``LOGTRACE_MAX_STRING``…): its
    scrubber and ``max_line``, for lines written elsewhere (``logtrace import``)."""
    env = EnvReader(os.environ if environ is None else environ)
    return _scrubber(env), int(env.size("LOGTRACE_MAX_LINE", MAX_LINE))


def _scrubber(
    env: EnvReader,
    *,
    redact: bool | None = None,
    keys: Iterable[str] = (),
    patterns: Iterable[str | re.Pattern[str]] = (),
    redactor: Callable[[str, Any], Any] | None = None,
    include_payloads: bool | None = None,
    max_string: int | None = None,
    max_attributes: int | None = None,
) -> Scrubber:
    """The scrubber of ``configure()``'s arguments, the environment for those not given."""
    return Scrubber(
        redact=_given(redact, env.flag("LOGTRACE_REDACT") is not False),
        keys=(*keys, *env.items("LOGTRACE_REDACT_KEYS")),
        patterns=patterns,
        redactor=redactor,
        include_payloads=_given(include_payloads, env.flag("LOGTRACE_INCLUDE_PAYLOADS") is True),
        max_string=int(_given(max_string, env.size("LOGTRACE_MAX_STRING", 16_384))),
        max_attributes=int(_given(max_attributes, env.count("LOGTRACE_MAX_ATTRIBUTES", 128))),
    )


def _setup_structlog(level_no: int) -> None:
    """structlog through logtrace's chain, or, when the program set structlog up itself
    before, its setup kept with ``add_trace_context`` and ``to_files`` before its renderer
    (its console output stays; its events reach the files)."""
    import structlog

    config = structlog.get_config()
    if structlog.is_configured() and config["logger_factory"] is not sink_logger_factory:
        processors = config["processors"]
        # In place: loggers structlog has cached hold this list.
        processors[:] = structlog_bridge.joined_chain(list(processors))
        return
    use_chain(state.merger or BoundFieldsMerger())
    structlog.configure(
        processors=state.processors,
        # structlog filters by its own levels only (10, 20, …): the lowest at or above, the
        # first its lines can have at or above level_no (critical past 50).
        wrapper_class=structlog.make_filtering_bound_logger(_structlog_level(level_no)),
        logger_factory=sink_logger_factory,
        cache_logger_on_first_use=True,
    )


def _bridge_opentelemetry(enabled: bool) -> None:
    if enabled:
        try:
            from logtrace.integrations.otel import enable
        except ImportError as exc:
            print(
                f"logtrace: otel=True needs the otel extra (pip install 'logtrace[otel]'): {exc}",
                file=sys.stderr,
            )
            return
        enable()
    elif "logtrace.integrations.otel" in sys.modules:
        sys.modules["logtrace.integrations.otel"].disable()


def shutdown(timeout: float = 5.0) -> None:
    """Flush every line written so far to disk and close the files.

    Lines written after this go nowhere until ``configure()`` is called again, and the span
    settings ``configure()`` made (enabled, sampler, keep_errors, slow_ms, max_depth, the
    process's parent from ``TRACEPARENT``) are back to their defaults.
    """
    limit = _arguments.wait_limit("shutdown", timeout)
    with _lock:
        _close_sink(limit)
        _context.process_parent = None
        tracer.unconfigure()
        _capture.uninstall()


def flush(timeout: float = 5.0) -> None:
    """Write every line emitted so far to the file now, waiting up to ``timeout`` seconds
    (``math.inf``: as long as it takes)."""
    limit = _arguments.wait_limit("flush", timeout)
    sink = _sink
    if sink is not None:
        sink.flush(limit)


def current_file() -> Path | None:
    """The file this process writes to now, or ``None`` before ``configure()``."""
    sink = _sink
    return None if sink is None else sink.path


def _close_sink(timeout: float | None = 5.0) -> None:
    global _sink
    sink, _sink = _sink, None
    write_to(_drop, _drop)
    if sink is not None:
        sink.flush(timeout)  # with the start lines of the spans still open
        sink.close()
    # No sink flushes now: a span's start line is written (to nowhere) at once again.
    tracer.defer_starts = False
    open_spans.clear()


def _drop(line: bytes) -> None:
    """Lines emitted after shutdown() go nowhere."""


def _install_stdlib(level_no: int, all_loggers: bool) -> None:
    # No handler on the root logger: the capture hands logtrace's handler every record, so
    # basicConfig() after this still sets the console up, and dictConfig cannot undo it.
    _capture.handler = StdlibHandler(level_no)
    _capture.all_loggers = all_loggers
    _capture.install()
    root = logging.getLogger()
    if root.level == logging.NOTSET or root.level > level_no:
        root.setLevel(level_no)


def _sampler(given: Sampler | str | None, rate: float | None, env: EnvReader) -> Sampler:
    """The sampler: argument, then LOGTRACE_SAMPLER/RATE, then OTEL_TRACES_SAMPLER."""
    if isinstance(given, str):
        try:
            return sampling.from_name(given, None if rate is None else str(rate))
        except ValueError as exc:
            raise ValueError(f"configure(sampler={given!r}): {exc}") from None
    if given is not None:
        return given
    if rate is not None:
        return sampling.ParentBased(sampling.Ratio(rate))
    for name_var, arg_var in (
        ("LOGTRACE_SAMPLER", "LOGTRACE_SAMPLER_ARG"),
        ("OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG"),
    ):
        name = env.environ.get(name_var)
        if name:
            try:
                return sampling.from_name(name, env.environ.get(arg_var))
            except ValueError as exc:
                print(f"logtrace: {name_var}: {exc}; recording every trace", file=sys.stderr)
                return sampling.ParentBased(sampling.always)
    env_rate = env.optional_number("LOGTRACE_SAMPLE_RATE")
    if env_rate is not None:
        if env_rate <= 1.0:
            return sampling.ParentBased(sampling.Ratio(env_rate))
        print(
            f"logtrace: LOGTRACE_SAMPLE_RATE={env_rate} is not between 0 and 1; "
            "recording every trace",
            file=sys.stderr,
        )
    return sampling.ParentBased(sampling.always)


def _level_number(level: str | int | None, env: EnvReader) -> int:
    if isinstance(level, int):
        return level
    if level is not None:
        name = level.lower()
        if name not in _LEVEL_NUMBERS:
            raise ValueError(f"level must be one of {', '.join(f.LEVELS)}, not {level!r}")
        return int(_LEVEL_NUMBERS[name])
    return int(_LEVEL_NUMBERS[env.choice("LOGTRACE_LEVEL", "info", f.LEVELS)])


def _structlog_level(level_no: int) -> int:
    return int(min((n for n in (0, *_LEVEL_NUMBERS.values()) if n >= level_no), default=50))


def _choice(what: str, given: str | None, default: str, allowed: tuple[str, ...]) -> str:
    if given is None:
        return default
    if given not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}, not {given!r}")
    return given


def _lines_failed() -> int:
    """Lines lost in the chain so far (a processor raised): the sink reports them."""
    return state.errors + Stamper.failed


def _given(value: Any, default: Any) -> Any:
    return default if value is None else value
