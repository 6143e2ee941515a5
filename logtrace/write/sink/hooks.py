"""Process-wide events for the sinks of this process: exit, SIGTERM and fork.

Installed once, when the first sink starts (never at import):

* ``atexit`` and SIGTERM write out every sink's queue and switch it to write-through, so lines
  logged later in the shutdown still reach the file. The SIGTERM handler is installed only if
  SIGTERM still has its default action and we are in the main thread; after flushing it restores
  the default and sends the signal again, so the process ends as it would have.
* After ``os.fork()`` the child gets its own file and writer (``FileSink.after_fork_in_child``).
* multiprocessing ends its fork children with ``os._exit`` after ``util._exit_function``, so
  ``atexit`` never runs there; its finalizer registry is cleared in the child too, so the child's
  finalizer is added by ``util.register_after_fork``, which runs after that clearing.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
import threading
import weakref
from types import FrameType
from typing import Protocol

from logtrace.write.sink.rotation import close_held_after_fork


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
    atexit.register(flush_all, _EXIT_TIMEOUT)
    os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)
    if (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    ):
        signal.signal(signal.SIGTERM, _on_sigterm)
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


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Ignore further SIGTERMs while flushing (multiprocessing's terminate() may send several):
    # a second run of this handler inside the first would wait on locks the first holds.
    # The flush is bounded; then the default action ends the process as SIGTERM asked.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        flush_all(_SIGTERM_TIMEOUT)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)


def _before_fork() -> None:
    # multiprocessing may have been imported after the first sink started.
    _register_multiprocessing()


def _after_fork_in_child() -> None:
    close_held_after_fork()
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
    util.Finalize(None, flush_all, args=(_EXIT_TIMEOUT,), exitpriority=_MP_EXIT_PRIORITY)
