"""Statistics of durations, in pure Python: quantiles with confidence intervals, the
Mann-Whitney U test and the Hodges-Lehmann shift.

These follow the tools people already trust, and the tests check them against SciPy:

- :func:`quantile` interpolates linearly between order statistics (NumPy's default, DuckDB's
  ``quantile_cont``).
- :func:`quantile_interval` is the distribution-free interval of a quantile from the binomial
  distribution of order statistics (as Go's benchstat does; SciPy's
  ``quantile_test(...).confidence_interval()``): two order statistics of the sample, or ``None``
  on a side where the sample is too small to have one.
- :func:`mann_whitney` is SciPy's ``mannwhitneyu(a, b)`` two-sided: the exact distribution of
  U when a side has at most 8 values and there are no ties, else the normal approximation with
  the tie correction and the continuity correction.
- :func:`hodges_lehmann` is the median of all differences ``b - a`` (the shift of B against A)
  and its interval, the order statistics of those differences at ranks
  ``C = floor(m n / 2 - z sqrt(m n (m + n + 1) / 12))`` and ``m n + 1 - C`` (the normal
  approximation of U's distribution; Hollander & Wolfe). It selects the middle differences
  without forming all m·n of them, so 10,000 against 10,000 samples is quick.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

__all__ = [
    "Estimate",
    "MannWhitney",
    "binom_isf",
    "binom_ppf",
    "hodges_lehmann",
    "kth_difference",
    "mann_whitney",
    "quantile",
    "quantile_interval",
]

_NORMAL = NormalDist()
# Below this many differences in play, they are listed and sorted; above, selected.
_ENUMERATE = 100_000


@dataclass(frozen=True)
class Estimate:
    """A value with its confidence interval (``low``/``high`` None when it has none)."""

    value: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True)
class MannWhitney:
    """The U statistic of A (as SciPy reports it), the two-sided p-value, the method used."""

    u: float
    p: float
    method: str


def quantile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile (0..1) of ``values``, interpolated linearly; None when empty."""
    xs = sorted(values)
    if not xs:
        return None
    position = q * (len(xs) - 1)
    low = math.floor(position)
    high = min(low + 1, len(xs) - 1)
    return xs[low] + (xs[high] - xs[low]) * (position - low)


def _binom_cdf(n: int, p: float) -> tuple[int, list[float]]:
    """(first k, the CDF of Binomial(n, p) from that k on): the mass outside is below 1e-30."""
    if p <= 0 or p >= 1:
        raise ValueError("p must be in (0, 1)")
    sigma = math.sqrt(n * p * (1 - p))
    first = max(0, math.floor(n * p - 12 * sigma - 2))
    last = min(n, math.ceil(n * p + 12 * sigma + 2))
    log_p, log_q = math.log(p), math.log1p(-p)
    log_n = math.lgamma(n + 1)
    cdf = []
    total = 0.0
    for k in range(first, last + 1):
        total += math.exp(
            log_n - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * log_p + (n - k) * log_q
        )
        cdf.append(total)
    return first, cdf


def binom_ppf(q: float, n: int, p: float) -> int:
    """The smallest k with P(X <= k) >= q, X ~ Binomial(n, p)."""
    first, cdf = _binom_cdf(n, p)
    for i, value in enumerate(cdf):
        if value >= q:
            return first + i
    return n


def binom_isf(q: float, n: int, p: float) -> int:
    """The smallest k with P(X > k) <= q, X ~ Binomial(n, p)."""
    first, cdf = _binom_cdf(n, p)
    for i, value in enumerate(cdf):
        if 1.0 - value <= q:
            return first + i
    return n


def quantile_interval(
    values: Sequence[float], q: float, confidence: float = 0.95
) -> tuple[float | None, float | None]:
    """The distribution-free ``confidence`` interval of the ``q`` quantile of ``values``.

    Two order statistics of the sample (those of SciPy's ``quantile_test``); a side is None
    when the sample is too small to bound it (e.g. the p95 of 20 values has no upper bound).
    """
    xs = sorted(values)
    n = len(xs)
    if n == 0:
        return None, None
    tail = (1 - confidence) / 2
    low_index = binom_ppf(tail, n, q) - 1
    high_index = binom_isf(tail, n, q)
    return (
        xs[low_index] if low_index >= 0 else None,
        xs[high_index] if high_index < n else None,
    )


def _ranks(a: Sequence[float], b: Sequence[float]) -> tuple[float, list[int]]:
    """(the rank sum of ``a`` in a + b, average ranks for ties; the sizes of the tie groups)."""
    pooled = sorted([(x, 0) for x in a] + [(x, 1) for x in b])
    rank_sum = 0.0
    ties = []
    i = 0
    while i < len(pooled):
        j = i
        while j + 1 < len(pooled) and pooled[j + 1][0] == pooled[i][0]:
            j += 1
        rank = (i + j) / 2 + 1
        rank_sum += rank * sum(1 for k in range(i, j + 1) if pooled[k][1] == 0)
        ties.append(j - i + 1)
        i = j + 1
    return rank_sum, ties


def _u_upper_tail(u: int, n1: int, n2: int) -> float:
    """P(U >= u) under the null, exactly: coefficients of the Gaussian binomial coefficient."""
    small, large = min(n1, n2), max(n1, n2)
    top = small * large
    counts = [0] * (top + 1)
    counts[0] = 1
    # prod_{i=1..small} (1 - q^(large+i)) / (1 - q^i), each factor applied in place.
    for i in range(1, small + 1):
        step = large + i
        for k in range(top, step - 1, -1):
            counts[k] -= counts[k - step]
        for k in range(i, top + 1):
            counts[k] += counts[k - i]
    total = math.comb(n1 + n2, n1)
    return sum(counts[max(0, u) :]) / total


def mann_whitney(a: Sequence[float], b: Sequence[float]) -> MannWhitney:
    """The two-sided Mann-Whitney U test of A against B, as ``scipy.stats.mannwhitneyu``.

    Raises:
        ValueError: a sample is empty.
    """
    n1, n2 = len(a), len(b)
    if not n1 or not n2:
        raise ValueError("both samples need values")
    rank_sum, ties = _ranks(a, b)
    u1 = rank_sum - n1 * (n1 + 1) / 2
    u = max(u1, n1 * n2 - u1)
    if (n1 <= 8 or n2 <= 8) and all(t == 1 for t in ties):
        p = 2 * _u_upper_tail(round(u), n1, n2)
        return MannWhitney(u1, min(1.0, max(0.0, p)), "exact")
    n = n1 + n2
    tie_term = sum(t**3 - t for t in ties)
    variance = n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1)))
    if variance <= 0:  # every value equal: no evidence of a difference
        return MannWhitney(u1, 1.0, "asymptotic")
    z = (u - n1 * n2 / 2 - 0.5) / math.sqrt(variance)
    p = math.erfc(z / math.sqrt(2))
    return MannWhitney(u1, min(1.0, max(0.0, p)), "asymptotic")


def _rows_at_most(a: Sequence[float], b: Sequence[float], d: float) -> list[int]:
    """Per value of sorted ``a``, how many values of sorted ``b`` have ``b - a <= d``."""
    counts = []
    j, size = 0, len(b)
    for x in a:
        # b - x falls as x rises, so the count only grows: one pass over b in all.
        while j < size and b[j] - x <= d:
            j += 1
        counts.append(j)
    return counts


def kth_difference(a: Sequence[float], b: Sequence[float], k: int) -> float:
    """The ``k``-th smallest (0-based) of the differences ``b[j] - a[i]``; a, b sorted.

    Few differences are listed and sorted; many are narrowed down by random pivots drawn
    from the differences still in play (expected O((m + n) log(m n))), then listed.
    """
    m, n = len(a), len(b)
    if not 0 <= k < m * n:
        raise IndexError(k)
    if m * n <= _ENUMERATE:
        return sorted(y - x for x in a for y in b)[k]
    draw = random.Random(k)
    low_counts = [0] * m  # differences <= the low bound (none yet: -inf)
    high_counts = [n] * m  # differences <= the high bound (all: +inf)
    while True:
        below = sum(low_counts)
        in_play = sum(high_counts) - below
        if in_play <= _ENUMERATE:
            middle = sorted(
                b[j] - x
                for x, lo, hi in zip(a, low_counts, high_counts, strict=True)
                for j in range(lo, hi)
            )
            return middle[k - below]
        pick = draw.randrange(in_play)
        for i, (lo, hi) in enumerate(zip(low_counts, high_counts, strict=True)):
            if pick < hi - lo:
                pivot = b[lo + pick] - a[i]
                break
            pick -= hi - lo
        at_most = _rows_at_most(a, b, pivot)
        if sum(at_most) <= k:
            low_counts = at_most
            continue
        below_pivot = _rows_below(a, b, pivot)
        if sum(below_pivot) <= k:
            return pivot  # the k-th lies among the differences equal to the pivot
        high_counts = below_pivot  # the pivot leaves play, so each round narrows it


def _rows_below(a: Sequence[float], b: Sequence[float], d: float) -> list[int]:
    """Per value of sorted ``a``, how many values of sorted ``b`` have ``b - a < d``."""
    counts = []
    j, size = 0, len(b)
    for x in a:
        while j < size and b[j] - x < d:
            j += 1
        counts.append(j)
    return counts


def hodges_lehmann(a: Sequence[float], b: Sequence[float], confidence: float = 0.95) -> Estimate:
    """The Hodges-Lehmann shift of B against A (the median of all ``b - a``) and its interval.

    Raises:
        ValueError: a sample is empty.
    """
    xs, ys = sorted(a), sorted(b)
    m, n = len(xs), len(ys)
    if not m or not n:
        raise ValueError("both samples need values")
    total = m * n
    middle = kth_difference(xs, ys, (total - 1) // 2)
    if total % 2 == 0:
        middle = (middle + kth_difference(xs, ys, total // 2)) / 2
    z = _NORMAL.inv_cdf(1 - (1 - confidence) / 2)
    c = math.floor(total / 2 - z * math.sqrt(total * (m + n + 1) / 12))
    if c < 1:
        return Estimate(middle, None, None)
    low = kth_difference(xs, ys, c - 1)
    high = kth_difference(xs, ys, total - c)
    return Estimate(middle, low, high)
