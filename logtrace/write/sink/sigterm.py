"""SIGTERM: a bounded flush that cannot deadlock, then the process ends by SIGTERM.

A Python signal handler runs in the main thread between two bytecodes of whatever it
interrupted, and that code may hold any lock: an ``Event``'s (waking the writer), a queue's, the
sink's own. A handler that waits on one of them waits forever. So the handler here takes no
lock and waits for nothing: it notes the signal, writes one byte to a pipe and returns, and the
interrupted code goes on and lets go of its locks. A daemon thread blocked on that pipe does the
flush (bounded: ``timeout`` seconds), then sends SIGTERM again, to the main thread itself; the
handler, seeing the flush done, restores the default action and re-sends the signal, so the
process ends by SIGTERM as it would have. Further SIGTERMs during the flush are ignored, as before.

The handler may never run: it runs when the main thread gets back to Python, and a main thread
that waits for good on a lock (a Pool worker on its queue's lock, which ``Pool.terminate``
holds) gets back only if the signal interrupts that wait, not if another thread took it or it
came just before the wait began. So the pipe is also CPython's wakeup fd (unless another is set,
asyncio's say), where its C handler writes each signal's number as it comes, in any thread; the
flush thread starts on SIGTERM's number as on the handler's byte.

Python lets only the main thread change a signal's action, so ending the process needs the main
thread to run Python code once more. The second signal is sent to that thread
(``pthread_kill``), not to the process: the kernel may hand a process's signal to any thread,
and one taken by another thread does not interrupt a main thread asleep in a system call, which
would then sleep on. If the main thread still does not run the handler within ``_END_WAIT``
seconds (stuck in native code, or starved of CPU), the flush thread gives SIGTERM its default
action itself, through libc's ``signal()`` (which, unlike Python's, any thread may call), and
sends it again: the process still ends by SIGTERM. Only where that cannot be done does it end
the process with ``os._exit(128 + SIGTERM)``, the status a shell shows for SIGTERM. Flush and
wait together stay under the 10 s a supervisor such as ``docker stop`` gives before SIGKILL.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType

_IDLE, _FLUSHING, _FLUSHED = 0, 1, 2
# What wakes the flush thread: the handler's byte, or SIGTERM's number written by CPython.
_HANDLED = b"\0"
_SIGTERM_NUMBER = bytes([signal.SIGTERM])
_END_WAIT = 5.0


class SigtermFlush:
    """The SIGTERM handler of this process and the thread that flushes for it."""

    def __init__(self, flush: Callable[[float], None], timeout: float) -> None:
        self._flush = flush
        self._timeout = timeout
        self._state = _IDLE
        self._pipe: tuple[int, int] | None = None

    def install(self) -> bool:
        """Install the handler (only over the default action, from the main thread)."""
        if threading.current_thread() is not threading.main_thread():
            return False
        if signal.getsignal(signal.SIGTERM) != signal.SIG_DFL or not self._start():
            return False
        signal.signal(signal.SIGTERM, self.on_sigterm)
        self._watch_wakeup()
        return True

    def _watch_wakeup(self) -> None:
        """Make the pipe CPython's wakeup fd, unless another one is set (asyncio's, say).

        CPython's C handler writes each signal's number there the moment it comes, in
        whichever thread takes it. The handler itself runs only when the main thread gets
        back to Python: never, if the signal was taken by another thread (or came just before
        the main thread blocked) and the main thread waits on a lock for good, where SIGTERM's
        default action would have ended the process. The flush thread reads that number too.
        """
        pipe = self._pipe
        if pipe is None:
            return
        try:
            previous = signal.set_wakeup_fd(pipe[1], warn_on_full_buffer=False)
            if previous != -1:  # someone else's: theirs, as it was
                signal.set_wakeup_fd(previous)
        except (ValueError, OSError):
            pass

    def installed(self) -> bool:
        """Whether this process's SIGTERM action is this handler."""
        return signal.getsignal(signal.SIGTERM) == self.on_sigterm

    def after_fork_in_child(self) -> None:
        """A forked child has the handler but not the thread, and shares the parent's pipe."""
        pipe, self._pipe = self._pipe, None
        watched = False
        if pipe is not None:
            with contextlib.suppress(ValueError, OSError):
                # The wakeup fd is inherited: not left naming a closed fd (or its next owner).
                current = signal.set_wakeup_fd(-1)
                watched = current == pipe[1]
                if not watched and current != -1:
                    signal.set_wakeup_fd(current)  # someone else's: kept
            for fd in pipe:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._state = _IDLE
        if self.installed():
            if not self._start():
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
            elif watched:
                self._watch_wakeup()

    def pending(self) -> bool:
        """Whether a SIGTERM came and the process has not ended yet."""
        return self._state != _IDLE

    def end_now(self) -> None:
        """In the main thread: end the process by SIGTERM (the default action, sent again)."""
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)

    def on_sigterm(self, signum: int, frame: FrameType | None) -> None:
        """The handler: lock-free, it hands the flush to the thread and returns."""
        state = self._state
        if state == _FLUSHED:
            self.end_now()
        elif state == _IDLE:
            self._state = _FLUSHING
            pipe = self._pipe
            try:
                if pipe is None:
                    raise OSError("no flush thread")
                os.write(pipe[1], _HANDLED)
            except OSError:
                self.end_now()

    def _start(self) -> bool:
        try:
            read_fd, write_fd = os.pipe()
        except OSError:
            return False
        os.set_blocking(write_fd, False)
        thread = threading.Thread(
            target=self._run, args=(read_fd,), name="logtrace-sigterm", daemon=True
        )
        try:
            thread.start()
        except RuntimeError:
            os.close(read_fd)
            os.close(write_fd)
            return False
        self._pipe = (read_fd, write_fd)
        return True

    def _run(self, read_fd: int) -> None:
        reset = _default_action_setter()  # now, not in a signal's time: it imports ctypes
        try:
            while True:
                # The handler's byte, or a signal number from CPython's C handler (the wakeup
                # fd): SIGTERM's while the handler is still ours; not another signal's, nor
                # SIGTERM's once the program has put a handler of its own in.
                got = os.read(read_fd, 1)
                if not got:
                    return
                if got == _HANDLED or (got == _SIGTERM_NUMBER and self.installed()):
                    break
        except OSError:
            return  # the pipe was closed: a forked child replaced it
        # Set here too: when the C handler's byte came first, the handler may never run.
        self._state = _FLUSHING
        try:
            self._flush(self._timeout)
        finally:
            self._state = _FLUSHED
            # The main thread's handler now ends the process (only it may reset the action).
            main = threading.main_thread().ident
            try:
                if main is None:
                    raise OSError("no main thread")
                signal.pthread_kill(main, signal.SIGTERM)
            except OSError:
                os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(_END_WAIT)
            if reset is not None:
                reset()  # the main thread did not: SIGTERM's default action, from here
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(_END_WAIT)
            os._exit(128 + signal.SIGTERM)


def _default_action_setter() -> Callable[[], object] | None:
    """Something any thread may call to give SIGTERM its default action (libc's ``signal``;
    Python's ``signal.signal`` works in the main thread only), or None where there is none."""
    try:
        import ctypes

        libc_signal = ctypes.CDLL(None).signal
    except (ImportError, OSError, AttributeError):
        return None
    libc_signal.restype = ctypes.c_void_p
    libc_signal.argtypes = (ctypes.c_int, ctypes.c_void_p)
    return lambda: libc_signal(int(signal.SIGTERM), None)  # None: SIG_DFL, the null pointer
