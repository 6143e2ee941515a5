"""What a fork does to the spans: the hooks ``configure()`` installs with ``os.register_at_fork``.

Before a fork, the forking thread's open spans make their ids (an unsampled span makes them
when first read: read on both sides, one trace would become two). In a forked child, the
parent's open spans stay current (the child's lines carry them) but write no end line there,
the parent does; the pid is the child's, and the start lines waiting for a flush are the
parent's. A worker forked by ``multiprocessing`` forgets the span that was current in the thread
that forked it: its tasks bring their own (``wrap_for_process``).
"""

from __future__ import annotations

import os
import sys
from typing import Any

from logtrace.write import context as _context
from logtrace.write.pipeline import state
from logtrace.write.tracer import open_spans

__all__ = ["install"]

_fork_hook_installed = False
_worker_hook_installed = False


class _WorkerToken:
    """What ``multiprocessing.util.register_after_fork`` keeps a weak reference to."""


_worker_token = _WorkerToken()


def install() -> None:
    """Install the fork hooks (once per process; configure() calls it)."""
    global _fork_hook_installed
    if not _fork_hook_installed:
        _fork_hook_installed = True
        os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)


def _before_fork() -> None:
    _settle_ids_of_current_spans()
    # Registered lazily: multiprocessing may be imported after configure(), but it is
    # imported by the time it forks a worker.
    global _worker_hook_installed
    util = sys.modules.get("multiprocessing.util")
    if util is not None and not _worker_hook_installed:
        _worker_hook_installed = True
        util.register_after_fork(_worker_token, _forget_span_in_worker)


def _settle_ids_of_current_spans() -> None:
    """Make the ids of the forking thread's spans before the fork.

    An unsampled span makes its ids when first read; read first on both sides of a fork, the
    parent and the child would each make their own and one trace would become two. Only the
    forking thread's spans live on in the child, so its chain of open spans is enough.
    """
    try:
        span: Any = _context.current_context.get()
        while span is not None:
            _ = span.trace_id, span.span_id
            span = getattr(span, "_parent", None)
    except Exception:  # a fork must go on whatever a span does
        pass


def _forget_span_in_worker(_: object) -> None:
    """A worker forked by multiprocessing serves tasks of any span (or none): it must not keep
    the span that happened to be current in the thread that forked it. Tasks bound with
    ``wrap_for_process`` bring their own."""
    _context.current_context.set(None)


def _after_fork_in_child() -> None:
    state.stamper.pid = os.getpid()
    # The spans open in the parent are the parent's: it writes their start lines.
    open_spans.clear()
    _leave_inherited_spans_to_the_parent()


def _leave_inherited_spans_to_the_parent() -> None:
    """The forking thread's open spans go on in a forked child: its code runs in them, its log
    lines and new spans carry them. But they are the parent's, which writes their end lines:
    one that the child leaves (returning through its ``with``) writes none there, so a span id
    has one end line, the one with the parent's duration."""
    try:
        span: Any = _context.current_context.get()
        while span is not None:
            if getattr(span, "_recording", None):
                span._recording = False
            span = getattr(span, "_parent", None)
    except Exception:  # a fork must go on whatever a span does
        pass
