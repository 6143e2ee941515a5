"""Every stdlib record handed to logtrace's handler, however logging is configured around it.

``configure()`` puts no handler on the root logger. While configured, ``Logger.callHandlers``
is the stdlib's own walk (handler levels, ``logging.lastResort`` and all) that also hands each
record to logtrace's handler once, after the program's handlers. So ``logging.basicConfig()``
after ``configure()`` still sets up the console, and ``logging.config.dictConfig`` (Django's
``LOGGING`` among them) or ``basicConfig(force=True)`` cannot take logtrace's files away: they
replace the root's handlers, and logtrace's handler was never among them. Records of loggers
that do not propagate to the root (uvicorn's ``uvicorn.error``, gunicorn's) are handed over
too unless ``all_loggers`` is off. While installed, the stdlib's default ``lastResort`` (what
prints warnings when no handler is set up) is one that scrubs, as the files are scrubbed.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from logtrace.write.stdlib import ScrubbingFormatter


class ScrubbingLastResort(logging.Handler):
    """The stdlib's last resort (warnings to ``sys.stderr`` as it is at each record, when no
    handler is set up), with the scrubber's rules on each message and traceback when
    redaction is on, and never raising: a record that cannot be formatted (a message whose
    ``str()`` raises or recurses) prints a line that says so, not its raw message."""

    terminator = "\n"

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.setFormatter(ScrubbingFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        """Write the record to the ``sys.stderr`` of now (the program may have replaced it)."""
        try:
            text = self.format(record)
        except Exception as exc:  # the stdlib re-raises RecursionError and prints the raw msg
            text = (
                f"{record.levelname} from logger {record.name}: a message that could not be "
                f"printed ({type(exc).__name__}); logtrace's files have what could be kept"
            )
        try:
            stream = sys.stderr
            stream.write(text + self.terminator)
            stream.flush()
        except Exception:  # a closed or missing stderr: nothing to tell it on
            return


class RecordCapture:
    """Hands ``handler`` every record a logger lets through, once, whatever its handlers are.

    ``Logger.callHandlers`` becomes the stdlib's own, walking the chain once and noting whether
    the record reached ``handler`` (a logger the program gave it itself) and whether
    ``propagate=False`` cut the walk; when another library wrapped it first (as Sentry's
    logging integration does), or on a Python whose callHandlers it was not checked against,
    the wrapper is wrapped: theirs runs, then the same judgement. A record that did not reach
    ``handler`` is given to it, if the handler's level lets it through and, when the walk was
    cut, ``all_loggers`` is on.
    """

    def __init__(self, handler: logging.Handler) -> None:
        self._handler = handler
        self._original: Any = None
        self._last_resort: logging.Handler | None = None
        # What the installed function hands records to, and whether cut walks count: one
        # cell per install(), so a function another library's wrapper still calls after
        # uninstall() stays inert when a later install() sets a handler (it would hand every
        # record over twice).
        self._cell: list[Any] | None = None
        self._all_loggers = True

    @property
    def handler(self) -> logging.Handler:
        """The handler records are handed to."""
        return self._handler

    @handler.setter
    def handler(self, handler: logging.Handler) -> None:
        self._handler = handler
        if self._cell is not None:
            self._cell[0] = handler

    @property
    def all_loggers(self) -> bool:
        """Whether records of loggers that do not propagate to the root are handed over."""
        return self._all_loggers

    @all_loggers.setter
    def all_loggers(self, on: bool) -> None:
        self._all_loggers = on
        if self._cell is not None:
            self._cell[1] = on

    @property
    def installed(self) -> bool:
        """Whether ``Logger.callHandlers`` hands records over now."""
        return self._original is not None

    def install(self) -> None:
        """Replace ``Logger.callHandlers`` (once), and the default ``lastResort``."""
        if self._original is not None:
            return
        if logging.lastResort is getattr(logging, "_defaultLastResort", None):
            self._last_resort = logging.lastResort
            logging.lastResort = ScrubbingLastResort()
        original = logging.Logger.callHandlers
        cell: list[Any] = [self._handler, self._all_loggers]
        self._cell = cell
        if _is_stdlibs(original):

            def call_handlers(logger: logging.Logger, record: logging.LogRecord) -> None:
                # The stdlib's callHandlers, in one walk that also tells whether the record
                # reached our handler and whether propagate=False cut the way to the root.
                handler = cell[0]
                reached = False
                found = 0
                current: logging.Logger | None = logger
                while current:
                    for hdlr in current.handlers:
                        found = found + 1
                        if hdlr is handler:
                            reached = True
                        if record.levelno >= hdlr.level:
                            hdlr.handle(record)
                    if not current.propagate:
                        break
                    current = current.parent
                if found == 0:
                    last_resort = logging.lastResort
                    if last_resort:
                        if record.levelno >= last_resort.level:
                            last_resort.handle(record)
                    elif logging.raiseExceptions and not logger.manager.emittedNoHandlerWarning:
                        sys.stderr.write(
                            'No handlers could be found for logger "%s"\n' % logger.name  # noqa: UP031
                        )
                        logger.manager.emittedNoHandlerWarning = True
                if not reached and handler is not None and (current is None or cell[1]):
                    handler.handle(record)  # its level is checked in handle()

        else:  # someone wrapped it before us: theirs runs, then ours

            def call_handlers(logger: logging.Logger, record: logging.LogRecord) -> None:
                original(logger, record)
                handler = cell[0]
                if handler is None:
                    return  # uninstalled, but still called by a wrapper made after us
                current: logging.Logger | None = logger
                while current is not None:
                    if handler in current.handlers:
                        return  # it got there
                    if not current.propagate:
                        if cell[1]:
                            handler.handle(record)
                        return
                    current = current.parent
                handler.handle(record)

        call_handlers.__wrapped__ = original  # type: ignore[attr-defined]
        self._original = original
        setattr(logging.Logger, "callHandlers", call_handlers)  # noqa: B010

    def uninstall(self) -> None:
        """Put back what was there (unless someone wrapped it after us: then stay, inert)."""
        original, self._original = self._original, None
        cell, self._cell = self._cell, None
        last_resort, self._last_resort = self._last_resort, None
        if last_resort is not None and isinstance(logging.lastResort, ScrubbingLastResort):
            logging.lastResort = last_resort
        if original is None:
            return
        if cell is not None:
            cell[0] = None  # inert for good, whether or not it leaves the chain
        current = logging.Logger.callHandlers
        if getattr(current, "__wrapped__", None) is original:
            setattr(logging.Logger, "callHandlers", original)  # noqa: B010


def _is_stdlibs(call_handlers: Any) -> bool:
    """Whether ``call_handlers`` is the stdlib's own ``Logger.callHandlers``, not a wrapper."""
    code = getattr(call_handlers, "__code__", None)
    return (
        # The versions whose callHandlers the replacement was checked against, line by line:
        # on a later one its own is wrapped instead.
        sys.version_info < (3, 14)
        and code is not None
        and code.co_name == "callHandlers"
        and code.co_filename == logging.__file__
        and not hasattr(call_handlers, "__wrapped__")
    )
