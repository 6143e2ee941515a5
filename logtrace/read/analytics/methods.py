"""The analytics as methods of :class:`logtrace.read.reader.Reader` (a mixin it inherits).

``reader.critical_path(trace_id)``, ``reader.self_times(trace_id)``,
``reader.critical_path_summary(...)``, ``reader.compare(a, b)``, ``reader.compare_traces(t1,
t2)``, ``reader.check(...)``, ``reader.check_slos(...)``, ``reader.advise(...)``,
``reader.timeseries(every=...)``. Each reads with the SQL of ``queries/`` and hands the rows to
the pure modules of this package. Every result is a dataclass with ``to_dict()`` or plain
dicts, ready for JSON.

:class:`Analytics` is composed of a mixin per kind of question:
:mod:`~logtrace.read.analytics.trace_methods` (critical path, self times, two traces, advice),
:mod:`~logtrace.read.analytics.window_methods` (one window against another: :class:`Side`;
time series), :mod:`~logtrace.read.analytics.check_methods` (alert checks: :data:`METRICS`;
SLOs).

Times given as ``since``/``until``/``now`` may be a ``datetime`` (naive: UTC; aware: converted
to UTC), a ``timedelta`` (that long before now) or text as the CLI takes it (``1h``, ``2d``,
``2026-11-24T13:00``): see :func:`logtrace.read.filters.when`. A wrong argument (None for a
number, a limit of -1 or 1e30, text for a Side) is a ReadError naming it and what it takes
(see :mod:`logtrace.read.arguments`).
"""

from __future__ import annotations

from logtrace.read.analytics.check_methods import METRICS, CheckMethods
from logtrace.read.analytics.reads import When
from logtrace.read.analytics.trace_methods import TraceMethods
from logtrace.read.analytics.window_methods import Side, WindowMethods

__all__ = ["METRICS", "Analytics", "Side", "When"]


class Analytics(TraceMethods, WindowMethods, CheckMethods):
    """Critical path, comparison, checks, advice and time series over a Reader's files."""
