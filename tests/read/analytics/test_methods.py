"""The analytics as Reader methods: the composed mixin and what its module exports, and the
checks of every method's arguments."""

from __future__ import annotations

import inspect
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from _analytics_fixtures import requests, write

import logtrace
from logtrace.read.analytics import methods
from logtrace.read.analytics.methods import Side
from logtrace.read.files import ReadError
from logtrace.read.reader import Reader

QUESTIONS = (
    "critical_path",
    "self_times",
    "critical_path_summary",
    "compare",
    "compare_traces",
    "check",
    "check_slos",
    "advise",
    "advice_summary",
    "timeseries",
)


def test_the_reader_has_every_question_of_the_mixins() -> None:
    """Analytics is composed of a mixin per kind of question; the Reader has each method, with
    its docstring, and methods still exports METRICS, Analytics, Side and When (the CLI, the
    web view and docs/analytics.md import them from here)."""
    for question in QUESTIONS:
        method = getattr(Reader, question)
        assert method is getattr(methods.Analytics, question)
        assert inspect.getdoc(method), question
    assert set(methods.__all__) == {"METRICS", "Analytics", "Side", "When"}
    assert all(hasattr(methods, name) for name in methods.__all__)
    assert "p95" in methods.METRICS and Side("a").label == "a"


def _side(**fields: Any) -> Side:
    return Side("a", since="2h", **fields)


@pytest.mark.parametrize(
    ("call", "argument", "wanted"),
    [
        (lambda r: r.critical_path_summary(limit=-1), "limit", "a whole number from 0"),
        (lambda r: r.critical_path_summary(limit=1e30), "limit", "a whole number from 0"),
        (lambda r: r.critical_path_summary(limit=10**30), "limit", "a whole number from 0"),
        (lambda r: r.critical_path_summary(limit="5"), "limit", "a whole number from 0"),
        (lambda r: r.critical_path_summary(since=42), "since", "a datetime"),
        (lambda r: r.critical_path_summary(name=7), "name", "text"),
        (lambda r: r.advise(limit=True), "limit", "a whole number from 0"),
        (lambda r: r.advise(thresholds=1), "thresholds", "a Thresholds"),
        (lambda r: r.advise(since=timedelta.max), "since", "a datetime"),
        (lambda r: r.advice_summary(None), "findings", "a list of Finding"),
        (lambda r: r.compare(None, _side()), "a", "a Side"),
        (lambda r: r.compare(_side(), "b"), "b", "a Side"),
        (lambda r: r.compare(_side(), _side(), alpha=None), "alpha", "between 0 and 1"),
        (lambda r: r.compare(_side(), _side(), alpha=2), "alpha", "between 0 and 1"),
        (lambda r: r.compare(_side(), _side(), min_samples=None), "min_samples", "whole"),
        (lambda r: r.compare(_side(), _side(), confidence=1), "confidence", "between 0 and 1"),
        (lambda r: r.compare(_side(), _side(), threshold_pct=-5), "threshold_pct", "0 to 10000"),
        (lambda r: r.compare(_side(), _side(), threshold_pct=1e30), "threshold_pct", "0 to 10000"),
        (lambda r: r.compare(Side("a", since=42), _side()), "since", "a datetime"),
        (lambda r: r.compare(_side(directory=42), _side()), "path", "a folder"),
        (lambda r: r.check("p95", name="x", warn=[200]), "warn", "a range such as"),
        (lambda r: r.check("p95", name="x", now=42), "now", "a datetime"),
        (lambda r: r.check("event_rate", event=42), "event", "text"),
        (lambda r: r.check_slos(None), "slos", "a list of Slo"),
        (lambda r: r.check_slos([1]), "slos", "a list of Slo"),
        (lambda r: r.timeseries("5m", service=1), "service", "text"),
        (lambda r: list(r.cat(since=42)), "since", "a datetime"),
    ],
)
def test_a_wrong_argument_is_a_read_error_naming_it(
    logs_dir: Path, call: Any, argument: str, wanted: str
) -> None:
    """None, a bool, text for a number, a negative or huge number, a wrong object: a one-line
    ReadError naming the argument and what it takes (they leaked TypeError, AttributeError,
    OverflowError or DuckDB's Conversion Errors from deep inside)."""
    write(logs_dir, "a", requests(5, seed=1))
    with logtrace.open(logs_dir) as reader, pytest.raises(ReadError) as caught:
        call(reader)
    message = str(caught.value)
    assert message.startswith(f"{argument} ") and ": give " in message and wanted in message, (
        message
    )
    assert "\n" not in message
