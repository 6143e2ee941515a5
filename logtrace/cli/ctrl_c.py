"""Ctrl-C during a DuckDB query, however busy the machine.

DuckDB sees Python's SIGINT only when its own loop asks Python for signals between tasks; on a
loaded machine the main thread may wait on DuckDB's workers for as long as the query runs, and
Ctrl-C did nothing. Here a thread woken by the signal itself (``signal.set_wakeup_fd``: CPython
writes the signal's number there from its C handler, whatever the main thread is doing)
interrupts the connection, and the query ends at once with DuckDB's interrupt error, which the
CLI reports as Ctrl-C (exit 130, ``main.interrupted``).

Only for the CLI's own process, and only when nobody else has a wakeup fd or a SIGINT handler.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable


def interrupt_on_ctrl_c(interrupt: Callable[[], None]) -> None:
    """From now on, Ctrl-C calls ``interrupt`` (``Reader.interrupt``: the DuckDB query running
    ends) from a thread of its own, as well as raising KeyboardInterrupt as it does."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return  # a handler of someone else's, or Ctrl-C ignored: theirs to decide
    read, write = os.pipe()
    os.set_blocking(write, False)  # the C handler must never wait on a full pipe
    try:
        previous = signal.set_wakeup_fd(write, warn_on_full_buffer=False)
    except (ValueError, OSError):
        previous = -2
    if previous != -1:  # taken by someone else (kept as it was), or not to be had
        if previous >= 0:
            signal.set_wakeup_fd(previous)
        os.close(read)
        os.close(write)
        return
    threading.Thread(
        target=_watch, args=(read, interrupt), name="logtrace-ctrl-c", daemon=True
    ).start()


def _watch(read: int, interrupt: Callable[[], None]) -> None:
    while True:
        try:
            numbers = os.read(read, 64)
        except OSError:
            return
        if not numbers:
            return
        if signal.SIGINT in numbers:
            with contextlib.suppress(Exception):  # closed meanwhile: nothing to interrupt
                interrupt()
