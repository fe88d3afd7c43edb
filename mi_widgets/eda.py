"""Exploratory data analysis: summary statistics and the classic datasets that warn about them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mi_widgets._errors import MIInputError, check_finite_array, check_same_length

__all__ = ["ANSCOMBE", "CRUST_ABUNDANCE_WT_PERCENT", "SummaryStatistics", "summary_statistics"]

#: Anscombe's quartet: F. J. Anscombe, "Graphs in Statistical Analysis",
#: The American Statistician 27, 17-21 (1973), Table 1.
_X123 = (10.0, 8.0, 13.0, 9.0, 11.0, 14.0, 6.0, 4.0, 12.0, 7.0, 5.0)
ANSCOMBE: dict[str, tuple[np.ndarray, np.ndarray]] = {
    "I": (
        np.array(_X123),
        np.array([8.04, 6.95, 7.58, 8.81, 8.33, 9.96, 7.24, 4.26, 10.84, 4.82, 5.68]),
    ),
    "II": (
        np.array(_X123),
        np.array([9.14, 8.14, 8.74, 8.77, 9.26, 8.10, 6.13, 3.10, 9.13, 7.26, 4.74]),
    ),
    "III": (
        np.array(_X123),
        np.array([7.46, 6.77, 12.74, 7.11, 7.81, 8.84, 6.08, 5.39, 8.15, 6.42, 5.73]),
    ),
    "IV": (
        np.array([8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 19.0, 8.0, 8.0, 8.0]),
        np.array([6.58, 5.76, 7.71, 8.84, 8.47, 7.04, 5.25, 12.50, 5.56, 7.91, 6.89]),
    ),
}

#: Abundance of five elements in the Earth's crust (mass %), CRC Handbook of Chemistry
#: and Physics, 97th ed., "Abundance of Elements in the Earth's Crust and in the Sea".
CRUST_ABUNDANCE_WT_PERCENT: dict[str, float] = {
    "Fe": 5.63,
    "Ca": 4.15,
    "Na": 2.36,
    "Mg": 2.33,
    "K": 2.09,
}


@dataclass(frozen=True)
class SummaryStatistics:
    """The usual summary of paired data, and the least-squares line y = intercept + slope x."""

    n: int
    mean_x: float
    var_x: float
    mean_y: float
    var_y: float
    correlation: float
    slope: float
    intercept: float
    r_squared: float


def summary_statistics(x, y) -> SummaryStatistics:
    """Means, sample variances, Pearson correlation and the least-squares line.

    Parameters
    ----------
    x, y : array_like
        Paired observations, at least three, x not constant.

    Returns
    -------
    SummaryStatistics

    Examples
    --------
    >>> stats = summary_statistics(*ANSCOMBE["I"])
    >>> round(stats.mean_x, 2), round(stats.slope, 3), round(stats.correlation, 3)
    (9.0, 0.5, 0.816)
    """
    x = check_finite_array(x, "x", ndim=1, min_size=3)
    y = check_finite_array(y, "y", ndim=1, min_size=3)
    n = check_same_length(x=x, y=y)
    if np.ptp(x) == 0:
        raise MIInputError("x is constant; a line through the data needs at least two x values.")
    var_x, var_y = np.var(x, ddof=1), np.var(y, ddof=1)
    covariance = np.cov(x, y, ddof=1)[0, 1]
    correlation = covariance / np.sqrt(var_x * var_y) if var_y > 0 else 0.0
    slope = covariance / var_x
    intercept = y.mean() - slope * x.mean()
    return SummaryStatistics(
        n=n,
        mean_x=float(x.mean()),
        var_x=float(var_x),
        mean_y=float(y.mean()),
        var_y=float(var_y),
        correlation=float(correlation),
        slope=float(slope),
        intercept=float(intercept),
        r_squared=float(correlation**2),
    )
