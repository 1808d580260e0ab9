"""Exact (Garwood) confidence intervals of Poisson counts.

Garwood, *Fiducial limits for the Poisson distribution*, Biometrika 28, 1936: the limits of a
count ``k`` are chi-square quantiles, ``chi2(a/2; 2k) / 2`` and ``chi2(1 - a/2; 2k + 2) / 2``.
Shared by the site ranking (:mod:`riskmap.analysis.hotspots`) and the exposure rates
(:mod:`riskmap.analysis.exposure`); :func:`poisson_interval` is public as
:func:`riskmap.analysis.hotspots.poisson_interval`.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from riskmap.errors import SettingsError


def poisson_interval(count: int, *, level: float = 0.95) -> tuple[float, float]:
    """Return the exact (Garwood) confidence interval of a Poisson count.

    The limits are the chi-square quantiles ``chi2(a/2; 2k) / 2`` and ``chi2(1 - a/2; 2k + 2) / 2``
    with ``a = 1 - level``; the lower limit of a zero count is 0. The interval covers the true
    rate with at least the stated probability (it is conservative, never too narrow).

    Parameters
    ----------
    count
        The observed count ``k`` (a non-negative integer).
    level
        Confidence level, between 0 and 1.

    Returns
    -------
    tuple of float
        The lower and upper limits of the expected count.

    Raises
    ------
    SettingsError
        If ``count`` is negative or not a whole number, or ``level`` is not in (0, 1).
    """
    if not 0 < level < 1:
        msg = f"confidence level must be between 0 and 1, not {level}"
        raise SettingsError(msg)
    if isinstance(count, bool) or count < 0 or int(count) != count:
        msg = f"a Poisson count must be a non-negative integer, not {count!r}"
        raise SettingsError(msg)
    k = int(count)
    alpha = 1 - level
    low = 0.0 if k == 0 else float(stats.chi2.ppf(alpha / 2, 2 * k)) / 2
    high = float(stats.chi2.ppf(1 - alpha / 2, 2 * k + 2)) / 2
    return low, high


def poisson_limits(counts: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised :func:`poisson_interval`."""
    k = np.asarray(counts, dtype=float)
    alpha = 1 - level
    with np.errstate(invalid="ignore"):
        low = np.where(k > 0, stats.chi2.ppf(alpha / 2, 2 * k) / 2, 0.0)
    high = stats.chi2.ppf(1 - alpha / 2, 2 * k + 2) / 2
    return low.astype(float), np.asarray(high, dtype=float)
