"""The sink's io lock, which knows the thread that holds it.

Code of the program runs while the sink writes: a ``__repr__`` of an attribute rendered into a
span's start line at a flush, a ``__del__`` run by the garbage collector, a signal handler.
When it logs, its line comes back to the sink on the thread that already holds the io lock;
with ``flush="always"`` (and at exit, or after SIGTERM, when every line is written through) a
plain lock would wait on itself forever. ``held_here`` lets the sink see that and queue the
line for the cycle under way instead.
"""

from __future__ import annotations

import threading

_get_ident = threading.get_ident


class OwnedLock:
    """``threading.Lock`` with ``held_here()``: whether the calling thread holds it."""

    __slots__ = ("_lock", "_owner")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owner: int | None = None

    def acquire(self, timeout: float = -1) -> bool:
        """Take the lock, waiting up to ``timeout`` seconds (-1: as long as it takes)."""
        if self._lock.acquire(timeout=timeout):
            self._owner = _get_ident()
            return True
        return False

    def release(self) -> None:
        self._owner = None
        self._lock.release()

    def held_here(self) -> bool:
        """Whether this thread holds the lock (it is then writing, and must not wait on it)."""
        return self._owner == _get_ident()

    def __enter__(self) -> OwnedLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
