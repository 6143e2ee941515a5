"""stdlib ``logging``: records into logtrace's chain, and trace ids onto records of your own setup.

``StdlibHandler`` (handed every record by the capture ``configure()`` installs, in
stdlib_capture.py) makes each record one JSON line: straight from the record when the chain is
the standard one, else through ``emit`` as an event dict. ``TraceContextFilter`` is for
programs that keep their own handlers and formats.
"""

from __future__ import annotations

import logging
import math
import re
from typing import TYPE_CHECKING, Any

import orjson

from logtrace.format import fields as f
from logtrace.write.context import get_current, get_span
from logtrace.write.pipeline import direct, emit, state
from logtrace.write.redact import SCANNED_FROM
from logtrace.write.render import int_text, limits, to_line
from logtrace.write.span import Span
from logtrace.write.stamper import ORIGIN_KEY, Origin, format_ts, qualified_name

if TYPE_CHECKING:
    from structlog.types import EventDict

_PLAIN_RECORD = vars(logging.LogRecord("", 0, "", 0, "", (), None))
_RECORD_ATTRS = frozenset(_PLAIN_RECORD.keys() | {"message", "asctime", "taskName"})
# Set by TraceContextFilter next to the ids it sets.
_ANNOTATED = "_logtrace_filtered"
_FILTERED_ATTRS = _RECORD_ATTRS | {f.TRACE_ID, f.SPAN_ID, f.TRACE_FLAGS, _ANNOTATED}
# The stdlib's ``msg % args``: what ``Scrubber.int_format_is_clean`` judges formats for.
_GET_MESSAGE = logging.LogRecord.getMessage
# The number of attributes a record has when nobody added any.
_PLAIN_RECORD_SIZE = len(_PLAIN_RECORD)
_LOGGER, _SERVICE, _PID = f.LOGGER, f.SERVICE, f.PID
_TRACE_ID, _SPAN_ID, _TRACE_FLAGS = f.TRACE_ID, f.SPAN_ID, f.TRACE_FLAGS


def _level_of_record(levelno: int) -> str:
    if levelno <= logging.DEBUG:
        return "debug"
    if levelno <= logging.INFO:
        return "info"
    if levelno <= logging.WARNING:
        return "warning"
    if levelno <= logging.ERROR:
        return "error"
    return "critical"


# The levels of the stdlib's named levels, looked up; others are placed between them.
_LEVELS = {n: _level_of_record(n) for n in (10, 20, 30, 40, 50)}

# A plain record's line is made of bytes, in the fields' order, as orjson renders its dict:
# '{"ts":"' and the time to the ms (_ts_head), its µs digits (_MICROS), 'Z","level":"…","event":'
# (_LEVEL_PARTS), the message, then ',"trace_id":…,"pid":…}' and the newline (the tail:
# pipeline.state.line_tail).
_MICROS = tuple(b"%03d" % i for i in range(1000))
_LEVEL_PARTS = {
    level: b'Z","' + f.LEVEL.encode() + b'":"' + level.encode() + b'","' + f.EVENT.encode() + b'":'
    for level in _LEVELS.values()
}
_LEVEL_PART_OF = {n: _LEVEL_PARTS[level] for n, level in _LEVELS.items()}
# Formats whose messages orjson writes as they are, between quotes, for arguments that are ints:
# ASCII without quotes, backslashes or control characters, whose conversions write digits.
_PLAIN_FORMAT = re.compile(r"(?:[ !#$&-\[\]-~]|%%|%[-+ 0#]*[0-9]*(?:(?:\.[0-9]+)?[diu]|[sr]))*")
_plain_formats: dict[str, bool] = {}
_PLAIN_FORMATS_LIMIT = 4096
# The millisecond of the last line: its first nanosecond, and the line's start up to it.
_ts_head: tuple[int, bytes] = (-(1 << 80), b"")
_trunc = math.trunc


def _new_ts_head(ts_ns: int) -> tuple[int, bytes]:
    """``_ts_head`` for the millisecond of ``ts_ns``, remembered."""
    global _ts_head
    text = format_ts(ts_ns)  # "…T12:34:56.789" and the µs digits, "012Z"
    head = (ts_ns - ts_ns % 1_000_000, b'{"' + f.TS.encode() + b'":"' + text[:-4].encode())
    _ts_head = head
    return head


def _plain_format(fmt: str) -> bool:
    """Whether orjson writes ``fmt % ints`` (and ``fmt`` itself) between quotes as it is, for
    every tuple of ``int``s: ``_PLAIN_FORMAT``. Remembered."""
    plain = _PLAIN_FORMAT.fullmatch(fmt) is not None
    if len(_plain_formats) >= _PLAIN_FORMATS_LIMIT:
        _plain_formats.clear()
    _plain_formats[fmt] = plain
    return plain


def _message(record: logging.LogRecord) -> str:
    """The record's message, a mapping's secret-named arguments hidden (``%(password)s``)."""
    args = record.args
    try:
        msg = record.msg
        if args and type(args) is not tuple and type(record).getMessage is _GET_MESSAGE:
            args = state.stamper.scrubber.hidden_args(args)
            message: str = (msg if type(msg) is str else str(msg)) % args
            return message
        return record.getMessage()
    except Exception as exc:
        return _unformattable(record, exc, args)


def _extra_fields(record: logging.LogRecord) -> dict[str, Any] | None:
    """The record's ``extra=`` fields, in order; ``None`` when there are none (most calls)."""
    attrs = record.__dict__
    # Most records are plain: same size, nothing to look for (a record whose size is that of
    # a plain one but which lost an attribute and gained an extra is taken as plain).
    if len(attrs) == _PLAIN_RECORD_SIZE:
        return None
    # What TraceContextFilter set (for the user's own formats) is not the caller's extra: the
    # line has its own ids.
    skip = _FILTERED_ATTRS if _ANNOTATED in attrs else _RECORD_ATTRS
    if not (attrs.keys() - skip):
        return None
    # ``event`` is the record's message: an extra of that name is written as ``event_``.
    return {
        key if key != f.EVENT else f.EVENT + "_": value
        for key, value in attrs.items()
        if key not in skip
    }


def record_to_event(record: logging.LogRecord) -> tuple[str, EventDict]:
    """The level and event dict of a stdlib record, ``extra=`` fields included."""
    event_dict: EventDict = {f.EVENT: _message(record)}
    extra = _extra_fields(record)
    if extra:
        event_dict.update(extra)
    if record.exc_info:
        event_dict["exc_info"] = record.exc_info
    event_dict[ORIGIN_KEY] = Origin(int(record.created * 1e9), record.name)
    return _level_of_record(record.levelno), event_dict


def _unformattable(record: logging.LogRecord, exc: Exception, args: Any = None) -> str:
    """For a record whose ``getMessage()`` raised ``exc``: the best text there is, and what
    failed (never dropped: the line still tells that something was logged, where, when).
    ``args``: the record's arguments as formatted (secret-named keys of a mapping hidden)."""
    failed = qualified_name(type(exc))
    msg = record.msg
    try:
        return f"{msg!r} % {record.args if args is None else args!r}"
    except Exception:
        pass
    if type(msg) is str:
        return f"{msg} [logtrace: formatting its arguments raised {failed}]"
    if type(msg) is int:
        return int_text(msg)  # past str()'s digit limit
    return f"[logtrace: the message, a {qualified_name(type(msg))}, raised {failed} in str()]"


class StdlibHandler(logging.Handler):
    """Sends stdlib log records through logtrace's chain into its files."""

    def handle(self, record: logging.LogRecord) -> bool:
        """Emit without the handler lock: the chain and the sink are thread-safe."""
        if record.levelno >= self.level and (not self.filters or self.filter(record)):
            self.emit(record)
            return True
        return False

    def emit(self, record: logging.LogRecord) -> None:
        """Write ``record`` as one JSON line; never raises.

        With the standard chain and nothing bound, the line is made at once: the line the
        chain would make, without the event dict in between. A record without extra fields or
        an exception (most of them) is even made of bytes: only its time and message are
        rendered, the rest is the same for each line of a context and logger, made once for
        them (``state.line_tail``): what ``Stamper.log_line`` and orjson make of it, field for
        field.
        """
        try:
            # direct() and get_current(), their common case inline: ~0.1 µs a record.
            if len(state.processors) != state.standard_length or (state.bound and not direct()):
                level, event_dict = record_to_event(record)
                emit(level, event_dict)
                return
            stamper = state.stamper
            ctx = get_span()
            if ctx is None:
                ctx = get_current()
            if stamper.sample_logs and stamper.drops(ctx):
                return
            msg, args = record.msg, record.args
            scrubber = stamper.scrubber
            clean = False
            try:
                if (
                    type(msg) is str
                    and type(record).getMessage is _GET_MESSAGE
                    and (not args or type(args) is tuple)
                ):
                    # The stdlib's getMessage(), inline (str(msg) is msg itself).
                    message = msg % args if args else msg
                    if args:
                        # A format of ints only (``"task %d done"``): searched once, not each
                        # time. Only for the stdlib's ``msg % args``: a record class of one's
                        # own may format otherwise (``str.format``'s ``{:c}`` writes any letter).
                        for arg in args:
                            if type(arg) is not int:
                                break
                        else:
                            # int_format_is_clean(msg), its remembered verdict read inline.
                            verdict = scrubber._int_formats.get(msg)
                            if verdict is None:
                                verdict = scrubber.int_format_is_clean(msg)
                            clean = verdict and len(message) <= scrubber.max_string
                else:  # a mapping's secret-named arguments hidden; a record class's own
                    message = _message(record)
            except Exception as exc:
                message = _unformattable(record, exc)
            ts_ns = _trunc(record.created * 1e9)  # int(), at half the cost
            # Records another handler formatted first have ``message`` (and ``asctime``) too:
            # no extra fields either.
            fields = None if len(record.__dict__) == _PLAIN_RECORD_SIZE else _extra_fields(record)
            if fields is not None or record.exc_info or type(message) is not str:
                self._emit_with_fields(record, ctx, message, ts_ns, clean, fields)
                return
            # Stamper.log_line's scrubbing of the message, as it does it.
            if len(message) >= SCANNED_FROM and not clean:
                message = scrubber.text(message, not args)
            # The same context (a span's ids are fixed once it runs), logger, service and pid
            # as the last line: the same tail.
            name = record.name
            tail_ctx, tail_name, service, pid, tail = state.line_tail
            if (
                tail_ctx is not ctx
                or tail_name is not name
                or service is not stamper.service
                or pid is not stamper.pid
            ):
                tail = self._new_tail(ctx, name)
            # A message of a plain format, as the scrubber left it (ints only, or no
            # arguments), is written as it is between quotes: orjson would write the same.
            quoted: bool | None = False
            if clean or message is msg:
                quoted = _plain_formats.get(msg)
                if quoted is None:
                    quoted = _plain_format(msg)
            if quoted:
                event = message.encode()
            else:
                try:
                    event = orjson.dumps(message)
                except Exception:  # not UTF-8 (a lone surrogate): the dict takes render_any's way
                    event = None
            # format_ts(ts_ns), its common case inline, as bytes.
            start, head = _ts_head
            within = ts_ns - start
            if not 0 <= within < 1_000_000:
                start, head = _new_ts_head(ts_ns)
                within = ts_ns - start
            levelno = record.levelno
            if tail is not None and event is not None:
                micros = _MICROS[within // 1000]
                part = _LEVEL_PART_OF.get(levelno) or _LEVEL_PARTS[_level_of_record(levelno)]
                if quoted:
                    line = b"".join((head, micros, part, b'"', event, b'"', tail))
                else:
                    line = b"".join((head, micros, part, event, tail))
                if len(line) <= limits.max_line + 1:  # + its newline
                    state.write_ended(line)
                    return
            out = stamper.log_line(
                ts_ns,
                _LEVELS.get(levelno) or _level_of_record(levelno),
                message,
                ctx,
                name,
                None,
                None,
                True,
                True,  # scrubbed already
            )
            _write_dict(out)
        except Exception:
            state.errors += 1

    def _new_tail(self, ctx: Any, logger_name: str) -> bytes | None:
        """The fields of a plain line after its message, rendered, with the line's newline:
        the ids of ``ctx`` (none outside any context), logger, service and pid. Remembered in
        ``_tail``; None when orjson cannot render them."""
        stamper = state.stamper
        service, pid = stamper.service, stamper.pid
        fields: dict[str, Any] = {}
        if ctx is not None:
            if type(ctx) is Span and ctx.sampled:
                # A sampled span's ids are in its slots.
                fields[_TRACE_ID], fields[_SPAN_ID] = ctx._trace_id, ctx._span_id
            else:
                fields[_TRACE_ID], fields[_SPAN_ID] = ctx.trace_id, ctx.span_id
            fields[_TRACE_FLAGS] = "01" if ctx.sampled else "00"
        fields[_LOGGER] = logger_name
        fields[_SERVICE] = service
        fields[_PID] = pid
        try:
            tail = b"," + orjson.dumps(fields)[1:] + b"\n"
        except Exception:
            tail = None
        state.line_tail = (ctx, logger_name, service, pid, tail)
        return tail

    def _emit_with_fields(
        self,
        record: logging.LogRecord,
        ctx: Any,
        message: Any,
        ts_ns: int,
        clean: bool,
        fields: dict[str, Any] | None,
    ) -> None:
        """``emit`` of a record with extra fields, an exception or a message not a ``str``:
        through ``Stamper.log_line`` and orjson."""
        trace_id = span_id = None
        if type(ctx) is Span and ctx.sampled:
            trace_id, span_id = ctx._trace_id, ctx._span_id
        levelno = record.levelno
        out = state.stamper.log_line(
            ts_ns,
            _LEVELS.get(levelno) or _level_of_record(levelno),
            message,
            ctx,
            record.name,
            fields,
            record.exc_info,
            True if record.args else False,  # noqa: SIM210 (bool() is a call)
            clean,
            trace_id,
            span_id,
        )
        _write_dict(out)


def _write_dict(out: EventDict) -> None:
    """Hand the line of ``out`` to the sink (records with extra fields or an exception)."""
    state.write(to_line(out))


class TraceContextFilter(logging.Filter):
    """A ``logging.Filter`` that sets ``trace_id``, ``span_id`` and ``trace_flags`` on records.

    For stdlib setups of your own: add it to a handler and use ``%(trace_id)s`` in the format.
    Outside a span the attributes are empty strings, so formats never fail. logtrace's own
    handler knows them for what they are: they never become extra fields of its lines.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Annotate ``record``; always lets it through."""
        ctx = get_current()
        attrs = record.__dict__
        attrs[f.TRACE_ID] = ctx.trace_id if ctx is not None else ""
        attrs[f.SPAN_ID] = ctx.span_id if ctx is not None else ""
        attrs[f.TRACE_FLAGS] = ctx.trace_flags if ctx is not None else ""
        attrs[_ANNOTATED] = True
        return True


class ScrubbingFormatter(logging.Formatter):
    """The format of the warnings printed to stderr while configured: the scrubber's rules
    (when redaction is on) on each message and traceback, as on the lines in the files."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as ``logging.Formatter`` writes it, with secrets replaced."""
        text = super().format(record)
        scrubber = state.stamper.scrubber
        return scrubber.text(text, remember=False) if scrubber.redact else text
