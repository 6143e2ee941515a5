"""The sink's io lock, which knows the thread that holds it.

Code of the program runs while the sink writes: a ``__repr__`` of an attribute rendered into a
span's start line at a flush, a ``__del__`` run by the garbage collector, a signal handler.
When it logs, its line comes back to the sink on the thread that already holds the io lock;
with ``flush="always"`` (and at exit, or after SIGTERM, when every line is written through) a
plain lock would wait on itself forever. ``held_here`` lets the sink see that and queue the
line for the cycle under way instead.

The main thread takes the lock too (``flush()``, ``shutdown()``, lines written through), and
there a signal handler's exception (``KeyboardInterrupt`` from Ctrl-C, or whatever a handler of
the program raises) may land between any two bytecodes: between the lock being taken and the
``try`` that lets go of it, or between noting the owner and releasing. A lock left held so
stops the writer for good, and every later line is lost uncounted. So the owner is the lock's
own (an ``RLock`` knows its owner: no second field to keep in step), and ``call`` and
``__exit__`` let go of it whenever this thread still holds it, whatever was raised, and
wherever.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
D = TypeVar("D")


class OwnedLock:
    """A lock with ``held_here()`` (whether the calling thread holds it), let go of even when
    a signal handler's exception interrupts the code holding it."""

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        # Reentrant only so that it knows its owner (``_is_owned``): the sink never takes it
        # twice (``held_here`` is asked first).
        self._lock = threading.RLock()

    def acquire(self, timeout: float = -1) -> bool:
        """Take the lock, waiting up to ``timeout`` seconds (-1: as long as it takes)."""
        lock = self._lock
        try:
            return lock.acquire(timeout=timeout)
        except BaseException:  # a signal handler's, just after it was taken
            release_if_held(lock)
            raise

    def release(self) -> None:
        release_if_held(self._lock)

    def held_here(self) -> bool:
        """Whether this thread holds the lock (it is then writing, and must not wait on it)."""
        return bool(self._lock._is_owned())  # type: ignore[attr-defined]

    def call(self, timeout: float, default: D, work: Callable[..., T], *args: Any) -> T | D:
        """``work(*args)`` under the lock, or ``default`` if it is not taken within
        ``timeout`` seconds (-1: as long as it takes). The lock is let go of whatever
        ``work`` raises, and whenever a signal handler's exception comes."""
        lock = self._lock
        try:
            if not lock.acquire(timeout=timeout):
                return default
            return work(*args)
        finally:
            release_if_held(lock)

    def __enter__(self) -> OwnedLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        release_if_held(self._lock)


def release_if_held(lock: Any) -> None:
    """Let go of ``lock`` (an ``RLock``) if this thread holds it; an exception a signal
    handler raises meanwhile is raised once the lock is let go of."""
    raised: BaseException | None = None
    while True:
        try:
            if lock._is_owned():
                lock.release()
            break
        except BaseException as exc:  # a signal handler's: the lock first, then the exception
            raised = exc
    if raised is not None:
        raise raised
