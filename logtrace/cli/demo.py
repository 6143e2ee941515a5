"""logtrace demo: a coordinator hands tasks to worker processes; one trace tells the story.

The coordinator (this process) sends task messages over multiprocessing queues, each with the
trace context in its headers. Workers (spawned processes: worker-1, worker-2, ...) continue the
trace with span(..., parent=message["headers"]). Every 5th task fails; task 3 fails once and
succeeds when the coordinator retries it on another worker; task 2 runs a subprocess that
continues the trace from its environment. Each process writes its own file. Then the trace is
shown as one tree, and the one-liners to explore it are printed.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import queue
import random
import shlex
import subprocess
import sys
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from logtrace.cli.numbers import at_least

DEFAULT_DIR = "logtrace-demo"
RETRIED_TASK = 3
SUBPROCESS_TASK = 2
FAIL_EVERY = 5
_RESULT_TIMEOUT = 60.0
_JOIN_TIMEOUT = 30.0

# The subprocess of task 2: configure() reads TRACEPARENT and LOGTRACE_DIR from its environment.
_CHILD = """
import hashlib, sys, structlog, logtrace
logtrace.configure(service="subtask")
with logtrace.span("checksum in child process"):
    digest = hashlib.sha256(sys.argv[1].encode()).hexdigest()
    structlog.get_logger("demo.subtask").info("checksum computed", digest=digest[:16])
logtrace.shutdown()
print(digest)
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The demo's options, for its own parser and for the CLI's ``demo`` subcommand."""
    parser.add_argument(
        "--tasks", type=at_least(1), default=12, help="tasks to dispatch (default 12)"
    )
    parser.add_argument(
        "--workers", type=at_least(1), default=3, help="worker processes (default 3)"
    )
    parser.add_argument(
        "--dir",
        default=DEFAULT_DIR,
        help=f"where every process writes its file (default ./{DEFAULT_DIR}, kept afterwards)",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the task payloads (default 1)")
    parser.add_argument(
        "--no-show", action="store_true", help="do not render the trace, only print one-liners"
    )


def register(subparsers: Any) -> None:
    """Add ``demo`` to the CLI's subcommands (``argparse`` subparsers)."""
    parser = subparsers.add_parser(
        "demo",
        help="run a coordinator and worker processes, then show their trace",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    parser.set_defaults(handler=_run)


def run_demo(argv: Sequence[str] | None = None) -> int:
    """Run the demo with command-line arguments; returns the exit status."""
    parser = argparse.ArgumentParser(prog="logtrace demo", description=__doc__)
    add_arguments(parser)
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help (0) or a bad argument (2, argparse has said which)
        return done.code if isinstance(done.code, int) else 0
    return _run(args)


def _run(args: argparse.Namespace) -> int:
    directory = Path(args.dir).absolute()
    if directory.exists() and not directory.is_dir():
        # The processes' files could not be opened there: they would run, write nothing and
        # the trace would not be found.
        print(
            f"logtrace demo: --dir {directory} is not a folder: give a folder (it is made if "
            f"missing)",
            file=sys.stderr,
        )
        return 2
    summary = coordinate(args.tasks, args.workers, directory, args.seed)
    trace_id = summary["trace_id"]
    print(
        f"trace {trace_id}: {args.tasks} tasks on {args.workers} workers, "
        f"failed: {summary['failed'] or 'none'}, retried: {summary['retried'] or 'none'}; "
        f"files in {directory}\n"
    )
    shown = 0 if args.no_show else show(trace_id, directory)
    print(one_liners(trace_id, directory))
    return shown


# -- messages -----------------------------------------------------------------------------------


def message(
    type: str,
    sender: str,
    recipient: str,
    payload: dict[str, Any],
    importance: str = "normal",
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A message as a coordinator would send it; ``headers`` carry the trace context."""
    return {
        "id": uuid.uuid4().hex,
        "type": type,
        "sender": sender,
        "recipient": recipient,
        "payload": payload,
        "importance": importance,
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="microseconds"),
        "headers": headers or {},
    }


def _payload(task: int, attempt: int, rng: random.Random) -> dict[str, Any]:
    return {
        "task": task,
        "attempt": attempt,
        "numbers": [rng.randrange(1_000_000) for _ in range(2000)],
        "rounds": rng.randrange(10, 40),
        "flaky": task == RETRIED_TASK,
        "poison": task % FAIL_EVERY == 0,
        "subprocess": task == SUBPROCESS_TASK,
    }


@contextmanager
def _inside(span: Any) -> Iterator[None]:
    """Make an open span current for a moment, so log lines about its task belong to it.

    (The coordinator keeps one span per task open while the task is away; logtrace has no public
    call for re-entering an open span, so the demo sets the context directly.)
    """
    from logtrace.write.context import current_context

    token = current_context.set(span.context)
    try:
        yield
    finally:
        current_context.reset(token)


# -- the coordinator ----------------------------------------------------------------------------


def coordinate(tasks: int, workers: int, directory: Path, seed: int) -> dict[str, Any]:
    """Run the coordinator and its workers; returns the trace id and what failed."""
    import structlog

    import logtrace

    logtrace.configure(service="coordinator", directory=directory, level="info")
    with logtrace.span("coordinate tasks", tasks=tasks, workers=workers, seed=seed) as root:
        run = _Coordination(
            root, workers, directory, seed, structlog.get_logger("demo.coordinator")
        )
        run.start_workers()
        for task in range(1, tasks + 1):
            run.dispatch(task)
        run.collect()
        run.stop_workers()
        root.set(failed=sorted(run.failed), retried=run.retried)
        if run.failed:
            root.set_status("error", f"{len(run.failed)} of {tasks} tasks failed")
    logtrace.shutdown()
    return {"trace_id": root.trace_id, "failed": sorted(run.failed), "retried": run.retried}


class _Coordination:
    """The coordinator's side of one run: worker processes, their inboxes, the open task spans."""

    def __init__(self, root: Any, workers: int, directory: Path, seed: int, log: Any) -> None:
        import multiprocessing

        self.root, self.directory, self.log = root, directory, log
        self.rng = random.Random(seed)
        self.mp = multiprocessing.get_context("spawn")
        self.names = [f"worker-{i + 1}" for i in range(workers)]
        self.inboxes = {name: self.mp.Queue() for name in self.names}
        self.results = self.mp.Queue()
        self.processes: list[Any] = []
        self.pending: dict[int, Any] = {}
        self.failed: list[int] = []
        self.retried: list[int] = []

    def start_workers(self) -> None:
        """Start one process per worker name, each reading its own inbox."""
        for name in self.names:
            process = self.mp.Process(
                target=worker_main,
                args=(name, str(self.directory), self.inboxes[name], self.results),
                name=name,
                daemon=True,
            )
            process.start()
            self.processes.append(process)
        self.log.info("workers started", workers=self.names)

    def dispatch(self, task: int) -> None:
        """Open the task's span and send its first attempt, round-robin."""
        import logtrace

        recipient = self.names[(task - 1) % len(self.names)]
        task_span = logtrace.span("task", parent=self.root, task=task, recipient=recipient)
        task_span.open()
        self.pending[task] = task_span
        self.send(task, 1, recipient)

    def send(self, task: int, attempt: int, recipient: str) -> None:
        """Put a task message, its span's context in the headers, into a worker's inbox."""
        import logtrace

        task_span = self.pending[task]
        payload = _payload(task, attempt, self.rng)
        importance = "high" if payload["poison"] or task == RETRIED_TASK else "normal"
        headers = dict(logtrace.inject({}, context=task_span.context))
        self.inboxes[recipient].put(
            message("task", "coordinator", recipient, payload, importance, headers)
        )
        with _inside(task_span):
            self.log.info("task dispatched", task=task, attempt=attempt, recipient=recipient)

    def collect(self) -> None:
        """Take results until every task span has ended (or the workers went quiet)."""
        while self.pending:
            try:
                reply = self.results.get(timeout=_RESULT_TIMEOUT)
            except queue.Empty:
                self.log.error("no result in time", waiting_for=sorted(self.pending))
                for task, task_span in self.pending.items():
                    task_span.set_status("error", "no result from the worker")
                    task_span.end()
                    self.failed.append(task)
                return
            self.settle(reply)

    def settle(self, reply: dict[str, Any]) -> None:
        """One result: end the task's span, or retry a retryable first failure elsewhere."""
        result = reply["payload"]
        task, attempt, worker = result["task"], result["attempt"], reply["sender"]
        task_span = self.pending[task]
        with _inside(task_span):
            if result["status"] == "ok":
                self.log.info("task done", task=task, worker=worker)
                task_span.set(attempts=attempt, worker=worker, digest=result["digest"])
            elif result["retryable"] and attempt == 1:
                retry_on = self.names[(self.names.index(worker) + 1) % len(self.names)]
                self.log.info("task retried", task=task, error=result["error"], recipient=retry_on)
                self.retried.append(task)
                self.send(task, attempt + 1, retry_on)
                return
            else:
                self.log.error("task failed", task=task, error=result["error"])
                task_span.set(attempts=attempt, worker=worker)
                task_span.set_status("error", result["error"])
                self.failed.append(task)
        task_span.end()
        del self.pending[task]

    def stop_workers(self) -> None:
        """Tell every worker to stop; end the ones that do not within the join timeout."""
        for name in self.names:
            self.inboxes[name].put(message("shutdown", "coordinator", name, {}))
        for process in self.processes:
            process.join(_JOIN_TIMEOUT)
            if process.is_alive():
                process.terminate()


# -- a worker -----------------------------------------------------------------------------------


def worker_main(name: str, directory: str, inbox: Any, results: Any) -> None:
    """A worker process: configure, then handle task messages until told to stop."""
    import structlog

    import logtrace

    logtrace.configure(service=name, directory=directory, level="info")
    log = structlog.get_logger("demo.worker")
    try:
        while True:
            try:
                msg = inbox.get(timeout=_RESULT_TIMEOUT)
            except queue.Empty:
                log.warning("no message in time; stopping")
                return
            if msg["type"] == "shutdown":
                return
            results.put(handle(name, directory, msg, log))
    finally:
        logtrace.shutdown()


def handle(name: str, directory: str, msg: dict[str, Any], log: Any) -> dict[str, Any]:
    """Handle one task message inside a span that continues the sender's trace."""
    import logtrace

    payload = msg["payload"]
    task, attempt = payload["task"], payload["attempt"]
    sent = datetime.fromisoformat(msg["timestamp"])
    with logtrace.span(
        "handle task",
        parent=msg["headers"],
        task=task,
        attempt=attempt,
        message_id=msg["id"],
        sender=msg["sender"],
        importance=msg["importance"],
    ) as span:
        waited_ms = (datetime.now(timezone.utc) - sent).total_seconds() * 1000
        log.info("task received", task=task, attempt=attempt, queued_ms=round(waited_ms, 3))
        result: dict[str, Any] = {"task": task, "attempt": attempt}
        try:
            result["digest"] = work(payload, directory)
            result["status"] = "ok"
            log.info("task finished", task=task, digest=result["digest"])
        except Exception as exc:
            span.record_exception(exc)
            result.update(
                status="error",
                error=f"{type(exc).__name__}: {exc}",
                retryable=isinstance(exc, TimeoutError),
            )
            log.error("task failed", task=task, attempt=attempt, error=result["error"])
        headers = dict(logtrace.inject({}))
    return message("result", name, msg["sender"], result, msg["importance"], headers)


def work(payload: dict[str, Any], directory: str) -> str:
    """A few milliseconds of real work on the payload; fails where the plan says so."""
    import logtrace

    with logtrace.span("compute checksum", numbers=len(payload["numbers"])):
        data = b"".join(n.to_bytes(4, "big") for n in sorted(payload["numbers"]))
        digest = hashlib.sha256(data)
        for _ in range(payload["rounds"]):
            digest = hashlib.sha256(digest.digest() + data)
        checksum = digest.hexdigest()[:16]
    if payload["flaky"] and payload["attempt"] == 1:
        raise TimeoutError("upstream store timed out")
    if payload["poison"]:
        raise ValueError(f"checksum mismatch in batch {payload['task']}")
    if payload["subprocess"]:
        with logtrace.span("run subprocess"):
            env = logtrace.child_env()
            env["LOGTRACE_DIR"] = directory
            done = subprocess.run(
                [sys.executable, "-c", _CHILD, checksum],
                env=env,
                capture_output=True,
                text=True,
                timeout=_RESULT_TIMEOUT,
                check=True,
            )
            checksum = done.stdout.strip()[:16]
    return checksum


def _shell_quote(text: str) -> str:
    # SQL is full of single quotes: double quotes read better when nothing needs escaping.
    if not any(c in text for c in '"$`\\!'):
        return f'"{text}"'
    return shlex.quote(text)


# -- afterwards ---------------------------------------------------------------------------------


def show(trace_id: str, directory: Path) -> int:
    """Render the trace with the read side's ``show``; its exit status (1: not found)."""
    try:
        cli = importlib.import_module("logtrace.cli.main")
    except ImportError:
        print("(the read side's `show` is not installed here)\n")
        return 0
    status = int(cli.main(["show", trace_id, "--dir", str(directory)]))
    print()
    return status


def one_liners(trace_id: str, directory: Path) -> str:
    """The commands to explore the trace further, with its id and directory filled in."""
    d = shlex.quote(str(directory))
    # Plain and compressed files alike: a process that starts after another has exited
    # compresses the dead one's file, and zstd -dcf passes plain files through.
    files = f"{d}/*/*.jsonl*"
    sql = (
        "SELECT service, pid, name, status, duration_ms FROM spans "
        f"WHERE trace_id = '{trace_id}' ORDER BY start_ts"
    )
    return "\n".join(
        [
            "Explore further:",
            f"  logtrace show {trace_id} --dir {d}",
            f"  zstd -dcf {files} | grep -F {trace_id} | head",
            f'  zstd -dcf {files} | grep -F \'"status":"error"\' | grep -F {trace_id}',
            # -R 'fromjson?': a torn last line (a process writing right now) is skipped, not
            # the end of jq's input.
            f'  zstd -dcf {files} | jq -cR \'fromjson? | select(.trace_id == "{trace_id}"'
            ' and .span == "end") | {service, name, status, duration_ms}\'',
            f'  zstd -dcf {files} | jq -cR \'fromjson? | select(.trace_id == "{trace_id}"'
            ' and .level == "error") | {service, event, task, error, error_type}\'',
            f"  logtrace cat --trace {trace_id} --dir {d} | grep -F error"
            "   # compacted history too",
            f"  logtrace sql {_shell_quote(sql)} --dir {d}",
        ]
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run_demo())
