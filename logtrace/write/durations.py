"""A span's duration in the forms its end line writes: ``duration_ms`` and the whole µs.

Both are ``round(ns / 1e6, 3)``, the same float, mostly by integer arithmetic: ``round()`` of
a float goes through decimal text and back (~1 µs here). ``Span.__exit__`` has the common
case of ``rounded_us`` inline; these are for the rest.
"""

from __future__ import annotations


def rounded_ms(ns: int) -> float:
    """``round(ns / 1e6, 3)``, the same float, mostly by integer arithmetic.

    Away from a tie (``ns % 1000 == 500``) the exact ``ns / 1e6`` is at least 1 ns from where
    the thousandth changes, more than the error of ``ns / 1e6`` below 2**52 ns (52 days), so
    both round to the same thousandth; ``k / 1000`` is its nearest float, as round()'s is.
    """
    if ns % 1000 != 500 and 0 <= ns < 1 << 52:
        return (ns + 500) // 1000 / 1000
    return round(ns / 1e6, 3)  # a tie, or past 52 bits: the float's own rounding decides


def rounded_us(ns: int) -> int:
    """The whole µs of ``rounded_ms(ns)``: ``rounded_us(ns) / 1000 == rounded_ms(ns)``."""
    if ns % 1000 != 500 and 0 <= ns < 1 << 52:
        return (ns + 500) // 1000
    return round(round(ns / 1e6, 3) * 1000)
