"""Context into worker processes: ``ProcessPoolExecutor`` and ``wrap_for_process``.

A task sent to another process travels as a pickle, and a contextvar does not. So the caller's
context is written into a small carrier (``traceparent``, as for any message) that travels with
the task, and the worker opens it around the call: log lines and spans inside the task belong
to the span that submitted it, in the worker's own file.

Under ``spawn`` (and ``forkserver``) a worker is a fresh interpreter that has never called
``configure()``; it is configured before its first task with the submitting process's service
name and directory (override with ``worker_config``; everything else comes from the
environment, which the worker inherits). Under ``fork`` the worker inherits the configuration
and the sink gives it a file of its own. Either way the worker flushes after each task, so its
lines are on disk by the time the caller has the result.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing.context
import os
from collections.abc import Callable, Mapping
from typing import Any, Generic, ParamSpec, TypeVar

from logtrace.write import config as _config
from logtrace.write.context import reset_span, set_span
from logtrace.write.pipeline import state
from logtrace.write.propagation import extract, inject

P = ParamSpec("P")
R = TypeVar("R")

# The pid whose configuration this module set up (or found usable); a forked child has another.
_configured_pid: int | None = None


def worker_config() -> dict[str, Any] | None:
    """The ``configure()`` arguments a worker of this process needs: service and directory.

    ``None`` when this process is not configured (then workers are not configured either,
    unless they are given arguments of their own).
    """
    path = _config.current_file()
    if path is None:
        return None
    # <dir>/<YYYY-MM-DD>/<file>.jsonl
    return {"service": state.stamper.service, "directory": str(path.absolute().parent.parent)}


def _merged_config(given: Mapping[str, Any] | None) -> dict[str, Any] | None:
    inherited = worker_config()
    if given is None:
        return inherited
    merged = dict(inherited or {})
    merged.update(given)
    return merged


def ensure_configured(config: Mapping[str, Any] | None) -> None:
    """Configure this process with ``config`` unless that is already done.

    A spawned worker (never configured) is configured; a forked one keeps what it inherited
    (its sink already writes a file of its own) unless ``config`` names another service.
    """
    global _configured_pid
    pid = os.getpid()
    if _configured_pid == pid or config is None:
        return
    try:
        inherited = _config.current_file() is not None
        if not inherited or config.get("service", state.stamper.service) != state.stamper.service:
            _config.configure(**config)
    except Exception:
        # A worker that cannot write its file still runs its task; tracing never fails it.
        pass
    _configured_pid = pid


class ProcessTask(Generic[P, R]):
    """A picklable callable that runs ``fn`` in another process inside the caller's context.

    Made by ``wrap_for_process`` and by ``ProcessPoolExecutor.submit``; the context is the one
    current when it was made.
    """

    __slots__ = ("carrier", "config", "flush", "fn")

    def __init__(
        self,
        fn: Callable[P, R],
        carrier: dict[str, str],
        config: dict[str, Any] | None,
        flush: bool = True,
    ) -> None:
        self.fn = fn
        self.carrier = carrier
        self.config = config
        self.flush = flush

    def __getstate__(self) -> tuple[Any, ...]:
        return (self.fn, self.carrier, self.config, self.flush)

    def __setstate__(self, saved: tuple[Any, ...]) -> None:
        self.fn, self.carrier, self.config, self.flush = saved

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        ensure_configured(self.config)
        # Set even when empty: a forked worker inherits whatever span was current at the fork.
        token = set_span(extract(self.carrier) if self.carrier else None)
        try:
            return self.fn(*args, **kwargs)
        finally:
            reset_span(token)
            if self.flush:
                _config.flush()

    def __repr__(self) -> str:
        return f"<ProcessTask {getattr(self.fn, '__qualname__', self.fn)!r} {self.carrier}>"


def wrap_for_process(
    fn: Callable[P, R],
    *,
    worker_config: Mapping[str, Any] | None = None,
    flush: bool = True,
) -> ProcessTask[P, R]:
    """Bind ``fn`` to the current context for running it in another process.

    ``multiprocessing.Process(target=logtrace.wrap_for_process(work))`` and
    ``pool.map(logtrace.wrap_for_process(work), items)``: log lines and spans inside ``work``
    belong to the span that was current here, and the process is configured if it is new.

    Args:
        fn: a picklable callable (a module-level function), as multiprocessing needs anyway.
        worker_config: ``configure()`` arguments for a process that is not configured yet;
            by default this process's service and directory.
        flush: write the worker's lines to disk after each call.
    """
    return ProcessTask(fn, dict(inject({})), _merged_config(worker_config), flush)


def _initialize(
    config: dict[str, Any] | None,
    initializer: Callable[..., object] | None,
    initargs: tuple[Any, ...],
) -> None:
    ensure_configured(config)
    if initializer is not None:
        initializer(*initargs)


class ProcessPoolExecutor(concurrent.futures.ProcessPoolExecutor):
    """A ``ProcessPoolExecutor`` whose tasks run in the context of the code that submitted them.

    Works with every start method. Workers are configured when they start (before your own
    ``initializer``), with this process's service name and directory unless ``worker_config``
    says otherwise, and write their lines to disk after each task.

    Args:
        worker_config: ``configure()`` arguments for the workers, over the inherited ones,
            e.g. ``{"service": "resizer"}``.
        flush_each_task: write a worker's lines to disk after each task (default on).
        kwargs: the arguments of ``concurrent.futures.ProcessPoolExecutor``.
    """

    def __init__(
        self,
        max_workers: int | None = None,
        mp_context: multiprocessing.context.BaseContext | None = None,
        initializer: Callable[..., object] | None = None,
        initargs: tuple[Any, ...] = (),
        *,
        worker_config: Mapping[str, Any] | None = None,
        flush_each_task: bool = True,
        **kwargs: Any,
    ) -> None:
        self._worker_config = _merged_config(worker_config)
        self._flush_each_task = flush_each_task
        super().__init__(
            max_workers,
            mp_context,
            _initialize,
            (self._worker_config, initializer, tuple(initargs)),
            **kwargs,
        )

    def submit(
        self, fn: Callable[..., R], /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[R]:
        """Schedule ``fn(*args, **kwargs)`` in a worker, inside the caller's current context."""
        task = ProcessTask(fn, dict(inject({})), self._worker_config, self._flush_each_task)
        return super().submit(task, *args, **kwargs)
