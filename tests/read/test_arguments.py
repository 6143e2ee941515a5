"""The checks of the read API's arguments: what each takes, and the decorator that runs them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from logtrace.read.arguments import (
    LARGEST_COUNT,
    checked,
    count,
    from_text,
    number,
    range_text,
    text,
    width_ms,
)
from logtrace.read.files import ReadError


def test_checked_checks_given_and_default_arguments() -> None:
    """A check runs on given values and on defaults, converts them, and names the argument."""

    @checked(limit=count(1), every=width_ms)
    def run(*, limit: int = 0, every: object = "5m") -> tuple[int, object]:
        return limit, every

    assert run(limit=3) == (3, 300_000.0)
    with pytest.raises(ReadError, match=r"^limit 0: give a whole number from 1 to "):
        run()  # the default is checked too
    with pytest.raises(ReadError, match=r"^every 'x': give a bucket width"):
        run(limit=1, every="x")


def test_checked_refuses_a_check_of_no_argument() -> None:
    """A misspelt argument in checked() fails when the method is defined, not silently."""
    with pytest.raises(TypeError, match="has no argument limt"):

        @checked(limt=count())
        def run(*, limit: int = 0) -> int:
            return limit


def test_the_checks_take_their_bounds() -> None:
    """The edges of each range pass; past them, None where not optional, bools do not."""
    assert count()("n", 0) == 0 and count()("n", LARGEST_COUNT) == LARGEST_COUNT
    assert count(optional=True)("n", None) is None
    for wrong in (-1, LARGEST_COUNT + 1, None, True, 2.0, "3"):
        with pytest.raises(ReadError):
            count()("n", wrong)
    between = number(0, 1, ends=False)
    assert between("p", 0.5) == 0.5
    for wrong in (0, 1, None, True, float("nan"), "0.5"):
        with pytest.raises(ReadError):
            between("p", wrong)
    assert number(0)("t", 0) == 0 and number(0)("t", 1e30) == 1e30
    with pytest.raises(ReadError, match="a number of at least 0"):
        number(0)("t", float("inf"))
    assert text("name", None) is None and text("name", "x") == "x"
    assert range_text("warn", 200) == "200" and range_text("warn", "~:5") == "~:5"
    assert width_ms("every", timedelta(minutes=1)) == 60_000 and width_ms("every", "1us") == 0.001
    for wrong in ("10001w", 0.0009, timedelta(0)):
        with pytest.raises(ReadError):
            width_ms("every", wrong)


def test_from_text_reads_numbers_for_the_checks() -> None:
    """Text of a whole number is an int, of another number a float, other text stays text
    (so a check refuses it naming what was given: the web view's parameters)."""
    assert from_text("3") == 3 and isinstance(from_text("3"), int)
    assert from_text("2.5") == 2.5 and from_text("1e30") == 1e30
    assert from_text("many") == "many"
    with pytest.raises(ReadError, match=r"^limit 'many': give a whole number"):
        count(1)("limit", from_text("many"))
    with pytest.raises(ReadError, match=r"^limit 2.5: give a whole number"):
        count(1)("limit", from_text("2.5"))
