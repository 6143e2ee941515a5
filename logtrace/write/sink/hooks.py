"""Process-wide events for the sinks of this process: exit, SIGTERM and fork.

Installed once, when the first sink starts (never at import):

* ``atexit`` and SIGTERM write out every sink's queue and switch it to write-through, so lines
  logged later in the shutdown still reach the file. The SIGTERM handler is installed only if
  SIGTERM still has its default action and we are in the main thread; it never waits on a lock
  (``sigterm``): a thread does the bounded flush, then the default action ends the process as
  it would have.
* After ``os.fork()`` the child gets its own file and writer (``FileSink.after_fork_in_child``).
* multiprocessing ends its fork children with ``os._exit`` after ``util._exit_function``, so
  ``atexit`` never runs there; its finalizer registry is cleared in the child too, so the child's
  finalizer is added by ``util.register_after_fork``, which runs after that clearing.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import weakref
from typing import Protocol

from logtrace.write.sink.rotation import close_held_after_fork
from logtrace.write.sink.sigterm import SigtermFlush


class Sink(Protocol):
    """What the process hooks need of a sink (``FileSink`` is one); no import of the sink."""

    def flush_at_exit(self, timeout: float) -> None:
        """Write out the queue within ``timeout`` seconds and switch to write-through."""

    def after_fork_in_child(self) -> None:
        """In a forked child: get a file and writer of the child's own."""


_EXIT_TIMEOUT = 5.0
_SIGTERM_TIMEOUT = 2.0
# multiprocessing runs finalizers from high priority to low; ours goes late, after user code's.
_MP_EXIT_PRIORITY = -100

_sinks: weakref.WeakSet[Sink] = weakref.WeakSet()
_installed = False
_mp_registered = False


class _MultiprocessingToken:
    """What ``multiprocessing.util.register_after_fork`` keeps a weak reference to."""


_mp_token = _MultiprocessingToken()


def register(sink: Sink) -> None:
    """Track a started sink; install the process hooks the first time."""
    global _installed
    _sinks.add(sink)
    if _installed:
        return
    _installed = True
    atexit.register(_at_exit, _EXIT_TIMEOUT)
    os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)
    _sigterm.install()
    _register_multiprocessing()


def unregister(sink: Sink) -> None:
    """Forget a closed sink."""
    _sinks.discard(sink)


def flush_all(timeout: float) -> None:
    """Write out every sink's queue and switch it to write-through (the process is ending)."""
    for sink in list(_sinks):
        try:
            sink.flush_at_exit(timeout)
        except Exception:
            continue


_sigterm = SigtermFlush(flush_all, _SIGTERM_TIMEOUT)


def _at_exit(timeout: float) -> None:
    """The flush at the end of the process (atexit, a multiprocessing child's exit); a SIGTERM
    that came meanwhile still ends the process by SIGTERM, once the lines are out."""
    flush_all(timeout)
    if _sigterm.pending() and threading.current_thread() is threading.main_thread():
        _sigterm.end_now()


def _before_fork() -> None:
    # multiprocessing may have been imported after the first sink started.
    _register_multiprocessing()


def _after_fork_in_child() -> None:
    close_held_after_fork()
    _sigterm.after_fork_in_child()
    for sink in list(_sinks):
        try:
            sink.after_fork_in_child()
        except Exception:
            continue


def _register_multiprocessing() -> None:
    global _mp_registered
    util = sys.modules.get("multiprocessing.util")
    if _mp_registered or util is None:
        return
    _mp_registered = True
    util.register_after_fork(_mp_token, _add_multiprocessing_finalizer)


def _add_multiprocessing_finalizer(_: object) -> None:
    util = sys.modules["multiprocessing.util"]
    util.Finalize(None, _at_exit, args=(_EXIT_TIMEOUT,), exitpriority=_MP_EXIT_PRIORITY)
