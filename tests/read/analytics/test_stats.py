"""The statistics of compare against SciPy and NumPy (test-only dependencies), within 1e-9."""

from __future__ import annotations

import math
import random

import pytest

from logtrace.read.analytics.stats import (
    binom_isf,
    binom_ppf,
    hodges_lehmann,
    kth_difference,
    mann_whitney,
    quantile,
    quantile_interval,
)

np = pytest.importorskip("numpy")
stats = pytest.importorskip("scipy.stats")


def samples(seed: int, n: int, scale: float = 1.0, ties: bool = False) -> list[float]:
    """Log-normal durations (ms), rounded to whole ms when ties are wanted."""
    rng = random.Random(seed)
    values = [scale * math.exp(rng.gauss(3, 0.6)) for _ in range(n)]
    return [round(v) for v in values] if ties else values


SIZES = [(3, 5), (8, 8), (5, 40), (9, 12), (30, 30), (120, 80), (1000, 700)]


@pytest.mark.parametrize(("m", "n"), SIZES)
@pytest.mark.parametrize("ties", [False, True])
def test_mann_whitney_equals_scipy(m: int, n: int, ties: bool) -> None:
    """U and the two-sided p-value equal scipy.stats.mannwhitneyu's (exact or asymptotic)."""
    for seed in range(5):
        a = samples(seed, m, ties=ties)
        b = samples(seed + 100, n, scale=1.1, ties=ties)
        ours = mann_whitney(a, b)
        theirs = stats.mannwhitneyu(a, b, alternative="two-sided")
        assert ours.u == pytest.approx(theirs.statistic, abs=1e-9)
        assert ours.p == pytest.approx(theirs.pvalue, abs=1e-9)


def test_the_exact_method_is_used_where_scipy_uses_it() -> None:
    """Small samples without ties: the exact p-value, equal to scipy's method='exact'."""
    a, b = samples(1, 6), samples(2, 7, scale=1.5)
    ours = mann_whitney(a, b)
    assert ours.method == "exact"
    assert ours.p == pytest.approx(stats.mannwhitneyu(a, b, method="exact").pvalue, abs=1e-12)


@pytest.mark.parametrize("n", [1, 7, 20, 51, 200, 2001])
@pytest.mark.parametrize("q", [0.5, 0.95, 0.99])
def test_quantile_intervals_equal_scipy_quantile_test(n: int, q: float) -> None:
    """The distribution-free interval of p50/p95/p99 equals scipy's quantile_test interval."""
    values = samples(n, n)
    low, high = quantile_interval(values, q, 0.95)
    ci = stats.quantile_test(values, p=q).confidence_interval(0.95)
    for ours, theirs in ((low, ci.low), (high, ci.high)):
        if math.isnan(theirs):
            assert ours is None
        else:
            assert ours == pytest.approx(theirs, abs=1e-9)


@pytest.mark.parametrize("n", [10, 57, 400, 5000])
@pytest.mark.parametrize("p", [0.5, 0.95])
def test_binomial_quantiles_equal_scipy(n: int, p: float) -> None:
    """binom_ppf and binom_isf are scipy.stats.binom's ppf and isf."""
    for q in (0.001, 0.025, 0.3, 0.975):
        assert binom_ppf(q, n, p) == stats.binom.ppf(q, n, p)
        assert binom_isf(q, n, p) == stats.binom.isf(q, n, p)


@pytest.mark.parametrize("n", [1, 2, 10, 333])
def test_quantiles_interpolate_as_numpy(n: int) -> None:
    """quantile() is numpy.percentile's linear interpolation."""
    values = samples(n, n)
    for q in (0, 0.5, 0.95, 0.99, 1):
        assert quantile(values, q) == pytest.approx(np.quantile(values, q), abs=1e-9)


def brute_hodges_lehmann(a: list[float], b: list[float]) -> tuple[float, float, float]:
    """Every difference formed and sorted; ranks of the interval from scipy's normal quantile."""
    diffs = np.sort(np.subtract.outer(np.asarray(b), np.asarray(a)).ravel())
    m, n = len(a), len(b)
    z = stats.norm.ppf(0.975)
    c = math.floor(m * n / 2 - z * math.sqrt(m * n * (m + n + 1) / 12))
    return float(np.median(diffs)), float(diffs[c - 1]), float(diffs[m * n - c])


@pytest.mark.parametrize(("m", "n"), [(10, 12), (60, 50), (300, 400), (900, 1100)])
@pytest.mark.parametrize("ties", [False, True])
def test_hodges_lehmann_equals_every_difference_sorted(m: int, n: int, ties: bool) -> None:
    """The shift and its interval equal the brute force over all m*n differences (the large
    cases go through the selection, not the sort)."""
    a = samples(m, m, ties=ties)
    b = samples(n + 1, n, scale=1.2, ties=ties)
    ours = hodges_lehmann(a, b)
    value, low, high = brute_hodges_lehmann(a, b)
    assert ours.value == pytest.approx(value, abs=1e-9)
    assert ours.low == pytest.approx(low, abs=1e-9)
    assert ours.high == pytest.approx(high, abs=1e-9)


def test_selection_finds_every_rank_among_heavy_ties() -> None:
    """With few distinct values (many equal differences) every rank is still found."""
    rng = random.Random(3)
    a = sorted(float(rng.randrange(5)) for _ in range(300))
    b = sorted(float(rng.randrange(5)) for _ in range(300))
    diffs = sorted(y - x for x in a for y in b)
    for k in (0, 1, 4500, 45_000, 89_999):
        assert kth_difference(a, b, k) == diffs[k]


def test_tiny_samples_have_no_interval() -> None:
    """Two against two values: a shift, but no 95% interval (it would need more)."""
    shift = hodges_lehmann([1.0, 2.0], [3.0, 4.0])
    assert shift.value == 2.0 and shift.low is None and shift.high is None
