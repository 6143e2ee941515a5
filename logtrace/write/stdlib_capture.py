"""Records of loggers that do not propagate to the root, handed to logtrace's handler too.

uvicorn's ``uvicorn.error`` and gunicorn's loggers set ``propagate=False``, so their records
(tracebacks of failed requests among them) never reach the root, where ``configure()`` puts
its handler. :class:`NonPropagatingCapture` (installed by ``configure()`` unless
``stdlib_all_loggers=False``) makes ``logging.Logger.callHandlers`` note whether a record
reached that handler, and hands it over when ``propagate=False`` cut its way there.
"""

from __future__ import annotations

import logging
import sys
from typing import Any


class NonPropagatingCapture:
    """Hands ``handler`` the records of loggers that do not propagate to the root.

    uvicorn's ``uvicorn.error`` and gunicorn's loggers set ``propagate=False``, so their
    records (tracebacks of failed requests among them) never reach a root handler. While
    installed, ``logging.Logger.callHandlers`` is the stdlib's own, walking the chain once and
    noting whether the record reached ``handler`` (or, when another library wrapped it first,
    it is wrapped, as Sentry's logging integration does): after the handlers ran, a record
    whose way to the root was cut by ``propagate=False`` before reaching ``handler`` is given
    to ``handler`` too.
    """

    def __init__(self, handler: logging.Handler) -> None:
        self._handler = handler
        self._original: Any = None
        # What the installed function hands records to: one cell per install(), so a
        # function another library's wrapper still calls after uninstall() stays inert
        # when a later install() sets a handler (it would hand every record over twice).
        self._cell: list[logging.Handler | None] | None = None

    @property
    def handler(self) -> logging.Handler:
        """The handler records of non-propagating loggers are handed to."""
        return self._handler

    @handler.setter
    def handler(self, handler: logging.Handler) -> None:
        self._handler = handler
        if self._cell is not None:
            self._cell[0] = handler

    def install(self) -> None:
        """Replace ``Logger.callHandlers`` (once)."""
        if self._original is not None:
            return
        original = logging.Logger.callHandlers
        cell: list[logging.Handler | None] = [self._handler]
        self._cell = cell
        if _is_stdlibs(original):

            def call_handlers(logger: logging.Logger, record: logging.LogRecord) -> None:
                # The stdlib's callHandlers, in one walk that also tells whether the record
                # reached our handler (wrapping it walked the chain a second time).
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
                if current and not reached and handler is not None:
                    handler.handle(record)  # propagate=False cut the way before our handler

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
                        handler.handle(record)
                        return
                    current = current.parent

        call_handlers.__wrapped__ = original  # type: ignore[attr-defined]
        self._original = original
        setattr(logging.Logger, "callHandlers", call_handlers)  # noqa: B010

    def uninstall(self) -> None:
        """Put back what was there (unless someone wrapped it after us: then stay, inert)."""
        original, self._original = self._original, None
        cell, self._cell = self._cell, None
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
