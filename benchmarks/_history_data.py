"""Generated history for bench_history.py: ~1 GB of JSONL in the documented format and layout.

A coordinator and five workers on two hosts, each writing one file per hour (as the sink does
with its default ``rotate_seconds``), every line in the order a process writes it. A trace is a
request handled by the coordinator (``handle_request`` with ``auth``, ``db.query`` and
``dispatch`` under it) and a task run by one worker (``task`` with a dozen ``step``,
``db.query``, ``http.get``, ``cache.get`` spans), about 17 spans and 34 log lines, a few percent
of them failing and a tail of slow ones. Lines are written straight with orjson (not through the
tracer), from a seeded generator, so the same sizes give the same bytes.
"""

from __future__ import annotations

import os
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson

START = datetime(2026, 11, 17, 6, 0, 0, tzinfo=timezone.utc)
PROCESSES = [
    ("coord", "app-1", 4100),
    ("worker", "app-1", 4101),
    ("worker", "app-1", 4102),
    ("worker", "app-2", 5201),
    ("worker", "app-2", 5202),
    ("worker", "app-2", 5203),
]
ROUTES = ["/api/orders", "/api/orders/{id}", "/api/users/{id}", "/api/search", "/api/cart"]
TABLES = ["orders", "users", "items", "payments", "inventory", "sessions_log"]
HOSTS = ["inventory.internal", "payments.internal", "search.internal", "geo.example.com"]
ERRORS = [
    ("TimeoutError", "upstream did not answer within 5s"),
    ("ValueError", "bad quantity -1 for item"),
    ("KeyError", "'customer_id'"),
    ("ConnectionResetError", "[Errno 104] Connection reset by peer"),
]
WORDS = ["alpha", "beta", "gamma", "delta", "order", "item", "cart", "user", "price", "stock"]


class _Process:
    """One process's lines of the current hour, written to its file when the hour ends."""

    def __init__(self, service: str, host: str, pid: int) -> None:
        self.service, self.host, self.pid = service, host, pid
        self.lines: list[tuple[int, bytes]] = []

    def add(self, at_us: int, line: dict[str, Any]) -> None:
        self.lines.append((at_us, orjson.dumps(line)))

    def flush(self, root: Path, opened_us: int) -> int:
        if not self.lines:
            return 0
        self.lines.sort(key=lambda item: item[0])
        opened = _when(opened_us)
        day = root / opened.strftime("%Y-%m-%d")
        day.mkdir(parents=True, exist_ok=True)
        stamp = opened.strftime("%Y%m%dT%H%M%S.") + f"{opened.microsecond // 1000:03d}Z"
        path = day / f"{self.service}_{self.host}_{self.pid}_{stamp}.jsonl"
        header = {
            "ts": _iso(opened_us),
            "level": "info",
            "event": "logtrace.file",
            "logger": "logtrace",
            "service": self.service,
            "pid": self.pid,
            "format": 1,
            "host": self.host,
            "argv": ["app.py", "--serve"],
            "python": "3.12.3",
        }
        data = orjson.dumps(header) + b"\n" + b"\n".join(b for _, b in self.lines) + b"\n"
        path.write_bytes(data)
        last = self.lines[-1][0] / 1e6
        os.utime(path, (last, last))  # as the sink leaves it: modified at its last line
        self.lines.clear()
        return len(data)


def _when(at_us: int) -> datetime:
    return datetime(1970, 1, 1) + timedelta(microseconds=at_us)


def _iso(at_us: int) -> str:
    return _when(at_us).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def generate(root: Path, traces: int, hours: int, seed: int = 7) -> dict[str, Any]:
    """Write ``traces`` traces spread over ``hours`` hours under ``root``; return a summary."""
    rng = random.Random(seed)
    processes = [_Process(*p) for p in PROCESSES]
    coord, workers = processes[0], processes[1:]
    start_us = int(START.timestamp() * 1e6)
    hour_us = 3600 * 10**6
    gap_us = hours * hour_us // traces
    total_bytes = lines = 0
    ids: list[str] = []
    error_ids: list[str] = []
    hour = 0
    for n in range(traces):
        t0 = start_us + n * gap_us + rng.randrange(gap_us)
        while t0 >= start_us + (hour + 1) * hour_us:
            for process in processes:
                total_bytes += process.flush(root, start_us + hour * hour_us + process.pid)
            hour += 1
        trace_id = f"{t0 // 1000:012x}{rng.getrandbits(80):020x}"
        ids.append(trace_id)
        failed = rng.random() < 0.03
        if failed:
            error_ids.append(trace_id)
        lines += _trace(rng, trace_id, t0, coord, rng.choice(workers), failed, n)
    for process in processes:
        total_bytes += process.flush(root, start_us + hour * hour_us + process.pid)
    return {"bytes": total_bytes, "lines": lines, "traces": ids, "error_traces": error_ids}


def _trace(
    rng: random.Random,
    trace_id: str,
    t0: int,
    coord: _Process,
    worker: _Process,
    failed: bool,
    n: int,
) -> int:
    count = 0

    def span_id() -> str:
        return f"{rng.getrandbits(64) | 1:016x}"

    def span(
        proc: _Process,
        sid: str,
        parent: str | None,
        name: str,
        start: int,
        dur_us: int,
        attrs: dict[str, Any],
        error: tuple[str, str] | None = None,
    ) -> None:
        nonlocal count
        ids = {"trace_id": trace_id, "span_id": sid, "trace_flags": "01"}
        who = {"logger": "logtrace", "service": proc.service, "pid": proc.pid}
        proc.add(
            start,
            {
                "ts": _iso(start),
                "level": "info",
                "event": name,
                **ids,
                "span": "start",
                "name": name,
                "parent_id": parent,
                **who,
                **attrs,
            },
        )
        end: dict[str, Any] = {
            "ts": _iso(start + dur_us),
            "level": "error" if error else "info",
            "event": name,
            **ids,
            "span": "end",
            "name": name,
            "parent_id": parent,
            "duration_ms": round(dur_us / 1000, 3),
            "status": "error" if error else "ok",
        }
        if error:
            end["error_type"], end["error_message"] = error
        end.update(who)
        proc.add(start + dur_us, end)
        count += 2

    def log(proc: _Process, sid: str, at: int, level: str, message: str, **fields: Any) -> None:
        nonlocal count
        line = {
            "ts": _iso(at),
            "level": level,
            "event": message,
            "trace_id": trace_id,
            "span_id": sid,
            "trace_flags": "01",
            "logger": f"app.{proc.service}",
            "service": proc.service,
            "pid": proc.pid,
            **fields,
        }
        proc.add(at, line)
        count += 1

    def dur(median_ms: float) -> int:
        slow = 20.0 if rng.random() < 0.01 else 1.0
        return max(50, int(rng.lognormvariate(0, 0.6) * median_ms * 1000 * slow))

    user = f"u{rng.randrange(50_000)}"
    tenant = rng.choice(["acme", "globex", "initech", "umbrella", "hooli"])
    route = rng.choice(ROUTES)
    root = span_id()
    # The worker's task first: its duration sets the request's.
    steps = rng.randint(9, 13)
    kids: list[tuple[str, int, int, dict[str, Any], str]] = []
    at = 0
    for i in range(steps):
        kind = rng.choice(["step", "db.query", "http.get", "cache.get"])
        d = dur({"step": 3, "db.query": 6, "http.get": 25, "cache.get": 0.4}[kind])
        if kind == "db.query":
            a: dict[str, Any] = {
                "db.table": rng.choice(TABLES),
                "db.rows": rng.randrange(500),
                "db.statement": f"SELECT * FROM {rng.choice(TABLES)} WHERE id = ${i}",
            }
        elif kind == "http.get":
            a = {
                "http.url": f"https://{rng.choice(HOSTS)}/v1/{rng.choice(WORDS)}/{rng.randrange(10**6)}",
                "http.status_code": rng.choice([200, 200, 200, 201, 404]),
            }
        elif kind == "cache.get":
            a = {
                "cache.key": f"{rng.choice(WORDS)}:{rng.randrange(10**5)}",
                "hit": rng.random() < 0.8,
            }
        else:
            a = {"n": i, "batch": rng.randrange(64), "note": " ".join(rng.sample(WORDS, 3))}
        kids.append((kind, at, d, a, span_id()))
        at += d + rng.randrange(200)
    task_us = at + 300
    coord_pre = dur(1.0) + dur(4.0)
    request_us = coord_pre + task_us + 2000 + dur(0.5)
    span(
        coord,
        root,
        None,
        "handle_request",
        t0,
        request_us,
        {
            "http.method": rng.choice(["GET", "POST"]),
            "http.route": route,
            "user_id": user,
            "tenant": tenant,
        },
        ERRORS[n % len(ERRORS)] if failed else None,
    )
    log(coord, root, t0 + 20, "info", f"request {route} from {user}", user_id=user, tenant=tenant)
    auth, db, dispatch = span_id(), span_id(), span_id()
    d_auth = dur(1.0)
    span(coord, auth, root, "auth", t0 + 40, d_auth, {"user_id": user, "method": "jwt"})
    log(coord, auth, t0 + 60, "debug", "token checked", scopes=["read", "write"])
    d_db = dur(4.0)
    span(
        coord,
        db,
        root,
        "db.query",
        t0 + 80 + d_auth,
        d_db,
        {"db.table": "users", "db.rows": 1, "db.statement": "SELECT * FROM users WHERE id = $1"},
    )
    log(coord, db, t0 + 100 + d_auth, "debug", "query plan cached", plan_id=rng.randrange(1000))
    t_dispatch = t0 + coord_pre + 200
    task_id = rng.randrange(10**7)
    span(
        coord,
        dispatch,
        root,
        "dispatch",
        t_dispatch,
        task_us + 1500,
        {"task_id": task_id, "queue": "default"},
    )
    log(coord, dispatch, t_dispatch + 10, "info", f"sending task {task_id}", task_id=task_id)
    task = span_id()
    t_task = t_dispatch + 700
    error = ERRORS[n % len(ERRORS)] if failed else None
    span(worker, task, dispatch, "task", t_task, task_us, {"task_id": task_id, "attempt": 1}, error)
    log(
        worker,
        task,
        t_task + 15,
        "info",
        f"task {task_id} received",
        queue="default",
        size=rng.randrange(10**4),
    )
    for i, (kind, offset, d, a, sid) in enumerate(kids):
        fail_here = failed and i == len(kids) - 1
        span(worker, sid, task, kind, t_task + 100 + offset, d, a, error if fail_here else None)
        log(
            worker,
            sid,
            t_task + 110 + offset,
            "debug",
            f"{kind} {i} running",
            progress=round(i / steps, 2),
        )
        log(
            worker,
            sid,
            t_task + 120 + offset,
            "info",
            f"{kind} {i} done",
            elapsed_ms=round(d / 1000, 3),
        )
        if fail_here and error is not None:
            trace_text = (
                "Traceback (most recent call last):\n"
                f'  File "worker.py", line 88, in run\n{error[0]}: {error[1]}'
            )
            log(
                worker,
                sid,
                t_task + 100 + offset + d - 5,
                "error",
                f"task {task_id} failed",
                error_type=error[0],
                error_message=error[1],
                exception=trace_text,
            )
    log(worker, task, t_task + task_us - 20, "info", f"task {task_id} finished", steps=steps)
    log(coord, root, t0 + request_us - 10, "info", "response sent", status=500 if failed else 200)
    return count
